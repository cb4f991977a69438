import { spawn } from "node:child_process";
import { OperationError } from "../errors.ts";
import { GIT_PASSTHROUGH, redactCredentials, type GitHeader } from "./git-credentials.ts";

/** A git command that failed, timed out or could not start; the message carries no credentials. */
export class GitError extends OperationError {
  constructor(message: string, readonly timedOut = false) {
    super(message);
    this.name = "GitError";
  }
}

/** How every git process of a source runs: its environment, time limit and secrets to scrub. */
export interface GitContext {
  env: Record<string, string>;
  timeoutMs: number;
  secrets: readonly string[];
}

/**
 * The environment git gets, built from nothing: PATH and HOME (a credential helper lives in the
 * global config), GIT_TERMINAL_PROMPT=0, the GIT_PASSTHROUGH variables that are set, and a URL's
 * credentials as an `http.<origin>.extraHeader` in `GIT_CONFIG_*` variables: per call, so never
 * in a `.git/config` and never on a command line that `ps` shows.
 */
export function gitEnvironment(from: Readonly<Record<string, string | undefined>>, header?: GitHeader): Record<string, string> {
  const env: Record<string, string> = { PATH: from.PATH ?? process.env.PATH ?? "", HOME: from.HOME ?? process.env.HOME ?? "", GIT_TERMINAL_PROMPT: "0" };
  for (const k of GIT_PASSTHROUGH) {
    const v = from[k];
    if (v) env[k] = v;
  }
  if (header) Object.assign(env, { GIT_CONFIG_COUNT: "1", GIT_CONFIG_KEY_0: `http.${header.scope}.extraHeader`, GIT_CONFIG_VALUE_0: header.value });
  return env;
}

/** Process groups still running, killed if cwsync exits first (detached groups would outlive it). */
const running = new Set<number>();
let exitHook = false;
const killGroup = (pid: number) => {
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // already gone
  }
};

/** Out of file descriptors or processes is this machine's limit, not git's failure: the message says so (the caller retries). */
function cannotStart(e: unknown): GitError {
  const err = e as NodeJS.ErrnoException;
  const limit = err.code === "EMFILE" || err.code === "ENFILE" ? "too many open files" : err.code === "EAGAIN" ? "too many processes" : undefined;
  if (limit) return new GitError(`cannot start git: ${limit} (${err.code}); it is tried again later, and the limit may need raising (LimitNOFILE in the systemd unit, ulimit -n)`);
  return new GitError(`cannot run git: ${err.message}`);
}

/**
 * Runs `git <args>` in `cwd` and resolves to its stdout. git runs in a process group of its own,
 * so a timeout or an abort kills it with every helper it started (ssh, git-remote-https,
 * credential helpers) rather than leaving them hanging. Any non-zero exit rejects, even a silent one.
 */
export function runGit(ctx: GitContext, cwd: string, args: readonly string[], opts: { input?: string; signal?: AbortSignal } = {}): Promise<Buffer> {
  const what = `git ${args.find((a) => !a.startsWith("-") && !a.includes("=")) ?? ""}`.trim();
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) return reject(opts.signal.reason);
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn("git", args, { cwd, env: ctx.env, detached: true, stdio: [opts.input === undefined ? "ignore" : "pipe", "pipe", "pipe"] });
    } catch (e) {
      return reject(cannotStart(e));
    }
    const pid = child.pid;
    if (pid !== undefined) {
      running.add(pid);
      if (!exitHook) {
        exitHook = true;
        process.once("exit", () => running.forEach(killGroup));
      }
    }
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let failure: unknown;
    const stop = (reason: unknown) => {
      failure ??= reason;
      if (pid !== undefined) killGroup(pid);
    };
    const timer = setTimeout(() => stop(new GitError(`${what} got no answer within ${Math.round(ctx.timeoutMs / 1000)}s and was stopped (check that the remote is reachable)`, true)), ctx.timeoutMs);
    const onAbort = () => stop(opts.signal?.reason);
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    child.stdout?.on("data", (b: Buffer) => out.push(b));
    child.stderr?.on("data", (b: Buffer) => err.push(b));
    child.on("error", (e) => stop(cannotStart(e)));
    child.on("exit", () => {
      // a helper still holding the output pipes would keep "close" away: it goes with git
      if (pid !== undefined && running.delete(pid)) killGroup(pid);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener("abort", onAbort);
      if (pid !== undefined && running.delete(pid)) killGroup(pid);
      if (failure !== undefined) return reject(failure);
      if (code === 0) return resolve(Buffer.concat(out));
      const text = Buffer.concat(err).toString("utf8").trim() || `${what} exited with code ${code}`;
      reject(new GitError(redactCredentials(text, ctx.secrets)));
    });
    if (opts.input !== undefined && child.stdin) {
      child.stdin.on("error", () => undefined); // git exiting early: its exit code tells
      child.stdin.end(opts.input);
    }
  });
}
