import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { UsageError } from "../errors.ts";
import type { Clock } from "../ports/clock.ts";
import type { GitSource, Revision, RevisionFiles } from "../ports/git-source.ts";
import { systemClock } from "./clock-system.ts";
import { readConfigFiles } from "./config-files.ts";
import { GitCheckout } from "./git-checkout.ts";
import { isGitUrl, splitCredentials } from "./git-credentials.ts";
import { gitEnvironment, runGit, type GitContext } from "./git-run.ts";
import { readTree } from "./git-tree.ts";

export interface GitSourceOptions {
  /** A git URL (https, ssh, scp-like, file), a local repository (working or bare), or a plain folder. */
  repo: string;
  /** A branch or tag (a local repository read in place: also a commit); default HEAD. */
  branch?: string;
  /** Absolute; a clone goes to `<stateDir>/repo`. */
  stateDir: string;
  cwd: string;
  /**
   * A working repository on this machine is cloned into the state directory too (the daemon:
   * the user's working copy is never touched) rather than read in place (one-shot commands).
   * A URL and a bare repository are always cloned.
   */
  cloneLocal?: boolean;
  /** Apply only heads signed (SSH) by a key of this allowed-signers file. */
  requireSigned?: { allowedSignersFile: string };
  /** The revision the state last applied: used on restart while a newer head is refused. */
  lastApplied?: string;
  /** Where PATH, HOME and the GIT_PASSTHROUGH variables come from. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Each git process is killed, with its helpers, after this long (default 60 s). */
  timeoutMs?: number;
  clock?: Clock;
}

export const DEFAULT_GIT_TIMEOUT_MS = 60_000;

const isBare = (dir: string) => ["HEAD", "objects", "refs"].every((f) => existsSync(join(dir, f)));

function contextOf(opts: { env?: Readonly<Record<string, string | undefined>>; timeoutMs?: number }, header?: Parameters<typeof gitEnvironment>[1], secrets: readonly string[] = []): GitContext {
  return { env: gitEnvironment(opts.env ?? {}, header), timeoutMs: opts.timeoutMs ?? DEFAULT_GIT_TIMEOUT_MS, secrets };
}

/**
 * The customers' source behind `reconcile --repo`, `run`, `send-now` and `plan --base`: every git
 * process of it runs through `runGit` (a timeout that kills the process group, no prompt, a fixed
 * environment, credentials per call and scrubbed from errors).
 */
export function openGitSource(opts: GitSourceOptions): GitSource {
  if (opts.branch?.startsWith("-")) throw new UsageError(`--branch: \`${opts.branch}\` is not a branch name`);
  const clock = opts.clock ?? systemClock;
  if (isGitUrl(opts.repo)) {
    const split = splitCredentials(opts.repo);
    const ctx = contextOf(opts, split.header, split.secrets);
    const checkout = new GitCheckout(ctx, { ...opts, clock, url: split.url, source: split.url, local: false });
    return {
      source: split.url,
      secrets: split.secrets,
      update: (held, o = {}) => checkout.update(held, o.signal),
      filesAt: (rev, o = {}) => readTree(ctx, checkout.dir, rev, o),
    };
  }
  const path = resolve(opts.cwd, opts.repo);
  if (!existsSync(path)) throw new UsageError(`--repo: ${path} does not exist`);
  const ctx = contextOf(opts);
  const working = existsSync(join(path, ".git"));
  if (working || isBare(path)) {
    if (!working || opts.cloneLocal || opts.requireSigned) {
      const checkout = new GitCheckout(ctx, { ...opts, clock, url: path, source: path, local: true });
      return { source: path, secrets: [], update: (held, o = {}) => checkout.update(held, o.signal), filesAt: (rev, o = {}) => readTree(ctx, checkout.dir, rev, o) };
    }
    return inPlace(ctx, path, opts.branch);
  }
  if (opts.requireSigned) throw new UsageError(`--require-signed needs a git repository; ${path} is not one`);
  if (opts.branch) throw new UsageError(`--branch needs a git repository; ${path} is not one`);
  return plainFolder(path);
}

/** A working repository read where it is: its committed files at the branch, uncommitted edits left out (DESIGN §1: "save first"). */
function inPlace(ctx: GitContext, dir: string, branch: string | undefined): GitSource {
  return {
    source: dir,
    secrets: [],
    async update(held, o = {}) {
      const rev = branch ?? "HEAD";
      let id: string;
      try {
        id = (await runGit(ctx, dir, ["rev-parse", "--verify", "--quiet", `${rev}^{commit}`], o)).toString("utf8").trim();
      } catch (e) {
        if (o.signal?.aborted) throw e;
        throw new UsageError(`--branch: \`${rev}\` is not a branch or commit in ${dir}`);
      }
      if (id === held.current?.id) return held;
      return { current: { id, dir, ...(await readTree(ctx, dir, id, o)) } };
    },
    filesAt: (rev, o = {}) => readTree(ctx, dir, rev, o),
  };
}

/** A folder that is not a git repository: its files as they are, the revision a hash of them. */
function plainFolder(dir: string): GitSource {
  const read = (): Revision => {
    const g = readConfigFiles(["customers"], dir).groups[0];
    if (!g) throw new UsageError(`no customers/ folder in ${dir}`);
    const hash = createHash("sha256");
    for (const f of g.files) hash.update(f.path).update("\0").update(f.text ?? "").update("\0");
    return { id: `worktree-${hash.digest("hex").slice(0, 12)}`, dir, files: g.files, globalPath: g.globalPath };
  };
  return {
    source: dir,
    secrets: [],
    update: async (held) => {
      const r = read();
      return r.id === held.current?.id ? held : { current: r };
    },
    filesAt: async (rev) => {
      const r = read();
      if (r.id !== rev) throw new Error(`the files in ${dir} changed since the last reconcile; try again after the next one`);
      return r;
    },
  };
}

/** The revision a one-shot command runs: the source's head now. */
export async function readRevision(opts: GitSourceOptions): Promise<Revision> {
  const { current } = await openGitSource(opts).update({});
  // without requireSigned a head is never refused
  return current!;
}

/** The customer files of a commit in a local repository (`plan --base`, send-now's applied revision). */
export function readFilesAt(dir: string, rev: string, opts: { env?: Readonly<Record<string, string | undefined>>; timeoutMs?: number; signal?: AbortSignal } = {}): Promise<RevisionFiles> {
  return readTree(contextOf(opts), dir, rev, { signal: opts.signal });
}
