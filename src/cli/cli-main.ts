import { ApiError, ConfigError, ExitError, InternalError, OperationError } from "../errors.ts";
import { LeaseLostError } from "../ports/state-store.ts";
import type { Deps } from "../app/deps.ts";
import type { CommandIO } from "../app/io.ts";
import type { Clock } from "../ports/clock.ts";
import { plainValidateOptions } from "./validate-args.ts";

/**
 * Builds the dependencies once (the composition root) and runs the command on them; the only place
 * that turns errors into exit codes. `main.ts` runs it once the runtime is known to fit; tests pass
 * their own environment and, to pass time without sleeping, a clock.
 */
export async function main(argv: readonly string[], io: CommandIO & { clock?: Clock }): Promise<number> {
  try {
    const deps = await depsFor(argv, io);
    const validate = argv[0] === "validate" ? plainValidateOptions(argv.slice(1), deps.settings.githubActions) : undefined;
    if (validate) return await (await import("./commands/validate.ts")).validateCommand(validate, deps);
    return await (await import("./program.ts")).runProgram(argv, deps);
  } catch (e) {
    const code = exitCodeOf(e);
    if (code === 70) {
      const detail = e instanceof InternalError || e instanceof Error ? (e.stack ?? e.message) : String(e);
      io.stderr(`cwsync: internal error — please report it with this output:\n${detail}\n`);
    } else if (e instanceof Error && e.message) io.stderr(`cwsync: ${e.message}\n`);
    return code;
  }
}

/**
 * The dependencies, loaded for the command that runs. `cwsync validate` (the CI step, started cold
 * on every push) only reads files: the adapters behind the other ports (ConnectWise, the Trend Micro
 * sources, git, the state store: ~300 ms of imports measured) are not loaded for it. Its dependencies are
 * `createDeps`'s, with the same settings and clock; the remote ones load on first use, and the state
 * store, which `validate` never opens, is refused.
 */
async function depsFor(argv: readonly string[], io: CommandIO & { clock?: Clock }): Promise<Deps> {
  if (argv[0] !== "validate") return (await import("../app/deps.ts")).createDeps(io);
  const [{ readSettings }, { readConfigFiles }] = await Promise.all([import("../app/settings.ts"), import("../adapters/config-files.ts")]);
  let full: Promise<Deps> | undefined;
  const createFull = () => (full ??= import("../app/deps.ts").then((m) => m.createDeps(io)));
  return {
    stdout: io.stdout,
    stderr: io.stderr,
    env: io.env,
    cwd: io.cwd,
    // `validate` never sleeps: the system clock (node:timers/promises) is loaded if something does
    clock: io.clock ?? { now: () => Date.now(), sleep: async (ms, signal) => (await import("../adapters/clock-system.ts")).systemClock.sleep(ms, signal) },
    settings: readSettings(io.env, io.cwd),
    openSources: async (opts) => (await createFull()).openSources(opts),
    openState: () => {
      throw new InternalError("`validate` opened the state store: load the full dependencies (cli-main.ts depsFor)");
    },
    readRevision: async (opts) => (await createFull()).readRevision(opts),
    readFilesAt: async (dir, rev) => (await createFull()).readFilesAt(dir, rev),
    readWorkingFiles: readConfigFiles,
  };
}

/**
 * The exit code of an error, the only place that decides one: 64 a usage error (also `ExitError`'s
 * own code, the command line's), 1 a domain error the user can act on (configuration, state,
 * a remote, a failed operation, a lost lease), 70 anything else (a bug).
 */
export function exitCodeOf(e: unknown): number {
  if (e instanceof ExitError) return e.code;
  if (e instanceof ConfigError || e instanceof OperationError || e instanceof ApiError || e instanceof LeaseLostError) return 1;
  return 70;
}
