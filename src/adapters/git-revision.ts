import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { simpleGit } from "simple-git";
import type { SourceFile } from "../config/load.ts";
import { UsageError } from "../errors.ts";
import { readConfigFiles } from "./config-files.ts";
import { readFilesAtRevision } from "./git-files.ts";

const run = promisify(execFile);

export interface Revision {
  /** A commit id, or `worktree-<hash>` for a folder that is not a git repository. */
  id: string;
  files: SourceFile[];
  globalPath: string;
  /** The local directory the files come from (a clone in the state directory for a URL). */
  dir: string;
}

const isUrl = (s: string) => /^[a-z][a-z0-9+.-]*:\/\//i.test(s) || /^[^/\\]+@[^:]+:/.test(s);

/** Never show credentials embedded in a URL. */
export const redactUrl = (url: string) => url.replace(/\/\/[^/@]*@/, "//***@");

async function gitTop(dir: string): Promise<string | undefined> {
  try {
    return (await run("git", ["-C", dir, "rev-parse", "--show-toplevel"], { env: { ...process.env, GIT_TERMINAL_PROMPT: "0" } })).stdout.trim();
  } catch {
    return undefined;
  }
}

async function commitOf(dir: string, rev: string): Promise<string> {
  try {
    return (await run("git", ["-C", dir, "rev-parse", "--verify", "--quiet", `${rev}^{commit}`])).stdout.trim();
  } catch {
    throw new UsageError(`--branch: \`${rev}\` is not a branch or commit in ${dir}`);
  }
}

/** Clones (once) or fetches a remote into the state directory and returns the local mirror. */
async function syncClone(url: string, branch: string | undefined, stateDir: string): Promise<{ dir: string; rev: string }> {
  const dir = join(stateDir, "repo");
  const env = { GIT_TERMINAL_PROMPT: "0" };
  if (!existsSync(join(dir, ".git"))) {
    mkdirSync(stateDir, { recursive: true });
    try {
      await simpleGit().env(env).clone(url, dir, branch ? ["--branch", branch] : []);
    } catch (e) {
      throw new UsageError(`cannot clone ${redactUrl(url)}: ${redactUrl(e instanceof Error ? e.message : String(e))}`);
    }
  }
  const git = simpleGit(dir).env(env);
  try {
    await git.fetch("origin", branch ?? "HEAD");
    // a disposable checkout: local changes in it are never kept
    await git.raw(["reset", "--hard", "--quiet", "FETCH_HEAD"]);
  } catch (e) {
    throw new UsageError(`cannot fetch ${redactUrl(url)}: ${redactUrl(e instanceof Error ? e.message : String(e))}`);
  }
  return { dir, rev: "FETCH_HEAD" };
}

/**
 * The committed customers of a repository: a local git repository at its branch (or HEAD), a
 * remote URL cloned into the state directory, or — for a plain folder — its files as they are.
 * Uncommitted edits in a git repository are not part of a revision (DESIGN §1: "save first").
 */
export async function readRevision(repo: string, branch: string | undefined, stateDir: string, cwd: string): Promise<Revision> {
  if (isUrl(repo)) {
    const { dir, rev } = await syncClone(repo, branch, resolve(cwd, stateDir));
    const id = await commitOf(dir, rev);
    return { id, dir, ...(await readFilesAtRevision(dir, id)) };
  }
  const dir = resolve(cwd, repo);
  if (!existsSync(dir)) throw new UsageError(`--repo: ${dir} does not exist`);
  const top = await gitTop(dir);
  if (top && existsSync(join(dir, ".git"))) {
    const id = await commitOf(dir, branch ?? "HEAD");
    return { id, dir, ...(await readFilesAtRevision(dir, id)) };
  }
  if (branch) throw new UsageError(`--branch needs a git repository; ${dir} is not one`);
  const { groups } = readConfigFiles(["customers"], dir);
  const g = groups[0];
  if (!g) throw new UsageError(`no customers/ folder in ${dir}`);
  const hash = createHash("sha256");
  for (const f of g.files) hash.update(f.path).update("\0").update(f.text ?? "").update("\0");
  return { id: `worktree-${hash.digest("hex").slice(0, 12)}`, dir, files: g.files, globalPath: g.globalPath };
}
