import { systemClock } from "../adapters/clock-system.ts";
import { openConfigCache, type ConfigCache } from "../adapters/config-cache.ts";
import { readConfigFiles } from "../adapters/config-files.ts";
import { readFilesAt, readRevision, type GitSourceOptions } from "../adapters/git-source.ts";
import type { Clock } from "../ports/clock.ts";
import type { Revision, RevisionFiles } from "../ports/git-source.ts";
import type { CommandIO } from "./io.ts";
import { readSettings, type Settings } from "./settings.ts";
import { openSources, type SourcesOptions, type SourcesSession } from "./sources-session.ts";
import { openState, type StateSession } from "./state-session.ts";

/**
 * What every command and the daemon run on, built once by `createDeps`: where they write, the
 * clock, the settings read from the environment, and the adapters behind the ports. Nothing
 * else reads the environment or picks an adapter; a test passes a fake clock (and its own
 * environment) and runs the real commands on it.
 */
export interface Deps extends CommandIO {
  clock: Clock;
  settings: Settings;
  /** ConnectWise and the Trend Micro sources a command reads (the real ones, or the embedded fakes with `sandbox`). */
  openSources(opts: SourcesOptions): Promise<SourcesSession>;
  /**
   * The state store in the state directory, checked to belong to `target` when given. A state that
   * vanished is refused unless `acceptNewState` (the commands that write: --accept-new-state).
   */
  openState(target?: string, opts?: { acceptNewState?: boolean }): StateSession;
  /** The committed customers of a repository (a folder, a local repository or a URL cloned into the state directory). */
  readRevision(opts: Pick<GitSourceOptions, "repo" | "branch">): Promise<Revision>;
  /** The customer files of a commit in a local repository. */
  readFilesAt(dir: string, rev: string): Promise<RevisionFiles>;
  /** The customer files of a folder as they are (the working tree). */
  readWorkingFiles: typeof readConfigFiles;
  /**
   * The validated customer files of earlier runs in the state directory (a disposable cache: see
   * config-cache.ts). Optional: a caller that builds its own Deps (validate's, in cli-main.ts) goes without.
   */
  openConfigCache?(): ConfigCache;
}

/** The one composition root: the CLI's `main` builds it once per invocation; the daemon runs on the same. */
export function createDeps(io: CommandIO & { clock?: Clock }): Deps {
  const settings = readSettings(io.env, io.cwd);
  const deps: Deps = {
    stdout: io.stdout,
    ...(io.stdoutDrained ? { stdoutDrained: io.stdoutDrained } : {}),
    stderr: io.stderr,
    env: io.env,
    cwd: io.cwd,
    clock: io.clock ?? systemClock,
    settings,
    openSources: (opts) => openSources(opts, deps),
    openState: (target, opts) => openState(settings.stateDir, target, { acceptNewState: opts?.acceptNewState, now: new Date(deps.clock.now()) }),
    readRevision: (opts) => readRevision({ ...opts, stateDir: settings.stateDir, cwd: io.cwd, env: io.env }),
    readFilesAt: (dir, rev) => readFilesAt(dir, rev, { env: io.env }),
    readWorkingFiles: readConfigFiles,
    openConfigCache: () => openConfigCache(settings.stateDir),
  };
  return deps;
}
