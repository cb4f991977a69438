import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { simpleGit, type SimpleGit } from "simple-git";
import { readFilesAtRevision } from "../adapters/git-files.ts";
import { readRevision } from "../adapters/git-revision.ts";
import type { SourceFile } from "../config/load.ts";
import { UsageError } from "../errors.ts";
import type { Clock } from "../ports/clock.ts";

/** A revision the daemon runs: a verified commit of the source (or a plain folder's content hash). */
export interface SyncedRevision {
  revision: string;
  files: SourceFile[];
  globalPath: string;
  /** Where the files were read: the disposable checkout, or the plain folder. */
  dir: string;
}

export interface GitSyncOptions {
  /** A git URL, or a local path: a git repository there is cloned too; a plain folder is read as it is. */
  source: string;
  /** A branch or tag; default: the remote's HEAD. */
  branch?: string;
  /** Absolute; the checkout goes to `<stateDir>/repo`. */
  stateDir: string;
  cwd: string;
  /** Apply only heads signed (SSH) by a key of this allowed-signers file; others are refused and the last revision keeps running. */
  requireSigned?: { allowedSignersFile: string };
  clock: Clock;
  random?: () => number;
  /** Backoff after a failed sync: base · 2^(failures−1), capped, times a jitter in [0.5, 1). */
  backoff?: { baseMs: number; maxMs: number };
  /** The environment credential helpers may need (see GIT_PASSTHROUGH); default none. */
  env?: Readonly<Record<string, string | undefined>>;
  /** The revision the state last applied: run on restart while a newer head is refused. */
  lastApplied?: string;
  timeoutMs?: number;
}

export interface SyncStatus {
  /** The revision in use: the newest good one. */
  current?: SyncedRevision;
  /** Last successful contact with the remote, epoch ms. */
  lastSync?: number;
  /** The last sync's error while the remote fails, credentials removed. */
  syncError?: string;
  /** A head that was not applied because its commit is not signed by an allowed signer. */
  refused?: { revision: string; reason: string };
  failures: number;
  /** With failures: no attempt before this (unless forced), epoch ms. */
  retryAt?: number;
}

/**
 * Environment variables passed to git when set, and only these: the ssh agent, a credential
 * prompt program and proxies. simple-git 4 strips every ambient `GIT_*` variable; those named here
 * are allowed explicitly, with the matching unsafe flag for the ones that run a program.
 * Prefer a credential helper (`git config --global credential.helper …`, read from `HOME`) or
 * `GIT_ASKPASS` over credentials in the URL.
 */
export const GIT_PASSTHROUGH = ["SSH_AUTH_SOCK", "GIT_ASKPASS", "GIT_SSH_COMMAND", "GIT_SSL_CAINFO", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"] as const;

const isUrl = (s: string) => /^[a-z][a-z0-9+.-]*:\/\//i.test(s) || /^[^/\\]+@[^:]+:/.test(s);

/** The source without credentials, and the secrets taken out of it (for the log scrubber). */
export function splitCredentials(source: string): { url: string; header?: { scope: string; value: string }; secrets: string[] } {
  if (!/^https?:\/\//i.test(source)) {
    if (/^[a-z][a-z0-9+.-]*:\/\/[^/@]*:[^/@]*@/i.test(source)) {
      throw new UsageError(`--repo: put no password in a ${source.split(":")[0]} URL; use an ssh agent (SSH_AUTH_SOCK) or a credential helper`);
    }
    return { url: source, secrets: [] };
  }
  const u = new URL(source);
  if (!u.username && !u.password) return { url: source, secrets: [] };
  const user = decodeURIComponent(u.username);
  const pass = decodeURIComponent(u.password);
  u.username = "";
  u.password = "";
  const basic = Buffer.from(`${user}:${pass}`).toString("base64");
  // per invocation (`-c`), scoped to this origin: never written into the checkout's .git/config
  return { url: u.toString(), header: { scope: `${u.origin}/`, value: `Authorization: Basic ${basic}` }, secrets: [pass, basic, `${user}:${pass}`].filter((s) => s.length >= 4) };
}

/** Removes `user:pass@` from every URL in a text, and the given secret values. */
export function redactCredentials(text: string, secrets: readonly string[] = []): string {
  let out = text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/gi, "$1***@");
  for (const s of secrets) if (s) out = out.replaceAll(s, "***");
  return out;
}

const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e)).replace(/^Error: /, "").trim();
/** git's first line says what failed; the rest is advice about access rights. */
const firstLine = (e: unknown) => messageOf(e).split("\n")[0];

/** How long a checkout found healthy is trusted without asking git again. */
const HEALTH_CHECK_MS = 10 * 60_000;

/** A failure of the remote (unreachable, auth, branch missing), as opposed to a broken local checkout. */
class RemoteError extends Error {}

/**
 * The daemon's source of customers: a disposable clone in `<stateDir>/repo` of a URL or of a local
 * repository (the user's working copy is never touched), synced with `ls-remote` first and a
 * fetch only when the head moved, reset hard to the fetched head, cloned again when broken.
 * A failing remote backs off exponentially with jitter while the last revision keeps running.
 */
export class GitSync {
  /** The source for display: credentials removed. */
  readonly source: string;
  readonly branch?: string;
  readonly dir: string;
  private readonly url: string;
  private readonly header?: { scope: string; value: string };
  private readonly secrets: string[];
  private readonly plainFolder: boolean;
  /** A repository on this machine: its refs are read in place (one git process, not ls-remote's two). */
  private readonly localRepo: boolean;
  private status: SyncStatus = { failures: 0 };
  /** When the checkout was last found healthy by git itself (epoch ms). */
  private checkedAt = -Infinity;
  /** A local repository's head as git last read it, and the state of the files its refs live in then. */
  private refsSeen?: { stamp: string; head: { ref: string; commit: string }; at: number };

  constructor(private readonly opts: GitSyncOptions) {
    const local = !isUrl(opts.source);
    const path = local ? resolve(opts.cwd, opts.source) : undefined;
    if (path && !existsSync(path)) throw new UsageError(`--repo: ${path} does not exist`);
    this.plainFolder = path !== undefined && !existsSync(join(path, ".git"));
    this.localRepo = path !== undefined && !this.plainFolder;
    if (this.plainFolder && opts.requireSigned) throw new UsageError(`--require-signed needs a git repository; ${path} is not one`);
    if (this.plainFolder && opts.branch) throw new UsageError(`--branch needs a git repository; ${path} is not one`);
    if (opts.branch?.startsWith("-")) throw new UsageError(`--branch: \`${opts.branch}\` is not a branch name`);
    const split = path ? { url: path, secrets: [] } : splitCredentials(opts.source);
    this.url = split.url;
    this.header = split.header;
    this.secrets = split.secrets;
    this.source = split.url;
    this.branch = opts.branch;
    this.dir = this.plainFolder ? path! : join(opts.stateDir, "repo");
  }

  /** What the last sync left: the revision in use, the error while failing, a refused head. */
  state(): SyncStatus {
    return { ...this.status };
  }

  /**
   * One sync. Skipped while backing off after failures, unless `force` (a webhook, "reconcile
   * now"). `changed` says the revision in use moved. Never throws for a failing remote: the error
   * is kept in `state().syncError` and the last revision stays in use.
   */
  async sync(opts: { force?: boolean; signal?: AbortSignal } = {}): Promise<{ changed: boolean; attempted: boolean }> {
    const now = this.opts.clock.now();
    if (!opts.force && this.status.retryAt !== undefined && now < this.status.retryAt) return { changed: false, attempted: false };
    const before = this.status.current?.revision;
    try {
      if (this.plainFolder) await this.readFolder();
      else await this.syncClone(opts.signal);
      this.status = { ...this.status, lastSync: this.opts.clock.now(), syncError: undefined, failures: 0, retryAt: undefined };
    } catch (e) {
      if (opts.signal?.aborted) throw e;
      const failures = this.status.failures + 1;
      const { baseMs, maxMs } = this.opts.backoff ?? { baseMs: 1000, maxMs: 300_000 };
      const delay = Math.min(maxMs, baseMs * 2 ** (failures - 1)) * (0.5 + 0.5 * (this.opts.random ?? Math.random)());
      this.status = { ...this.status, failures, syncError: this.redact(messageOf(e)), retryAt: this.opts.clock.now() + delay };
    }
    return { changed: this.status.current?.revision !== before, attempted: true };
  }

  /** The files of an older revision (send-now acts on the applied one), from the checkout. */
  async filesAt(revision: string): Promise<{ files: SourceFile[]; globalPath: string }> {
    if (this.status.current?.revision === revision) return this.status.current;
    if (this.plainFolder) throw new Error(`the files in ${this.dir} changed since the last reconcile; try again after the next one`);
    return readFilesAtRevision(this.dir, revision);
  }

  private async readFolder(): Promise<void> {
    const r = await readRevision(this.dir, undefined, this.opts.stateDir, this.opts.cwd);
    if (r.id !== this.status.current?.revision) this.status.current = { revision: r.id, files: r.files, globalPath: r.globalPath, dir: r.dir };
  }

  private git(signal?: AbortSignal, baseDir = this.dir): SimpleGit {
    const env: Record<string, string> = { PATH: this.opts.env?.PATH ?? process.env.PATH ?? "", HOME: this.opts.env?.HOME ?? process.env.HOME ?? "", GIT_TERMINAL_PROMPT: "0" };
    for (const k of GIT_PASSTHROUGH) {
      const v = this.opts.env?.[k];
      if (v) env[k] = v;
    }
    return simpleGit({
      baseDir,
      timeout: { block: this.opts.timeoutMs ?? 60_000 },
      config: this.header ? [`http.${this.header.scope}.extraHeader=${this.header.value}`] : [],
      allowEnvironment: ["GIT_TERMINAL_PROMPT", ...GIT_PASSTHROUGH.filter((k) => k.startsWith("GIT_"))],
      unsafe: { allowUnsafeAskPass: "GIT_ASKPASS" in env, allowUnsafeSshCommand: "GIT_SSH_COMMAND" in env },
      // every non-zero exit is a failure, even a silent one (verify-commit of an unsigned commit says nothing)
      errors: (error, result) => error ?? (result.exitCode ? Buffer.from(Buffer.concat(result.stdErr).toString("utf8").trim() || `git exited with code ${result.exitCode}`) : undefined),
      ...(signal ? { abort: signal } : {}),
    }).env(env);
  }

  /**
   * For a repository on this machine: inode, change time and size of every file its wanted ref
   * can live in (git replaces a ref file by renaming a new one over it, so any update changes
   * this). Undefined where refs live elsewhere (a `.git` file of a worktree or submodule).
   */
  private refsStamp(): string | undefined {
    let gitDir = join(this.url, ".git");
    try {
      if (!statSync(gitDir).isDirectory()) return undefined;
    } catch {
      gitDir = this.url; // a bare repository
    }
    let head: string;
    try {
      head = readFileSync(join(gitDir, "HEAD"), "utf8").trim();
    } catch {
      return undefined;
    }
    const files = ["HEAD", "packed-refs", "reftable/tables.list"];
    if (this.branch) files.push(`refs/heads/${this.branch}`, `refs/tags/${this.branch}`);
    else if (head.startsWith("ref: ")) files.push(head.slice(5));
    return files.map((f) => {
      try {
        const st = statSync(join(gitDir, f), { bigint: true });
        return `${f}:${st.ino}:${st.ctimeNs}:${st.mtimeNs}:${st.size}`;
      } catch {
        return `${f}:-`;
      }
    }).join("|");
  }

  /** The remote head's ref and commit, by `ls-remote` (cheap: no objects are transferred). */
  private async remoteHead(signal?: AbortSignal): Promise<{ ref: string; commit: string }> {
    if (!this.localRepo) return this.listHead(signal);
    // a local repository whose ref files are as they were needs no git process (one a cycle otherwise)
    const stamp = this.refsStamp();
    const seen = this.refsSeen;
    const now = this.opts.clock.now();
    if (stamp && seen?.stamp === stamp && now - seen.at < HEALTH_CHECK_MS) return seen.head;
    const head = await this.listHead(signal);
    this.refsSeen = stamp ? { stamp, head, at: now } : undefined;
    return head;
  }

  private async listHead(signal?: AbortSignal): Promise<{ ref: string; commit: string }> {
    const wanted = this.branch ? [`refs/heads/${this.branch}`, `refs/tags/${this.branch}`] : ["HEAD"];
    let listing: string;
    try {
      mkdirSync(this.opts.stateDir, { recursive: true });
      if (!this.localRepo) listing = await this.git(signal, this.opts.stateDir).raw(["ls-remote", "--", this.url, ...wanted]);
      else if (this.branch) {
        // what ls-remote would list: the ref and, for an annotated tag, its commit as `<ref>^{}`
        const out = await this.git(signal, this.url).raw(["for-each-ref", "--format=%(objectname)\t%(refname)\t%(*objectname)", ...wanted]);
        listing = out.split("\n").filter(Boolean).map((l) => {
          const [sha, ref, peeled] = l.split("\t");
          return `${sha}\t${ref}${peeled ? `\n${peeled}\t${ref}^{}` : ""}`;
        }).join("\n");
      } else {
        const sha = await this.git(signal, this.url).raw(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"]).then((x) => x.trim(), () => "");
        listing = sha ? `${sha}\tHEAD` : "";
      }
    } catch (e) {
      throw new RemoteError(`cannot reach ${this.source}: ${firstLine(e)}`);
    }
    const refs = new Map(listing.split("\n").filter(Boolean).map((l) => l.split("\t") as [string, string]).map(([sha, ref]) => [ref, sha]));
    for (const ref of wanted) {
      const commit = refs.get(`${ref}^{}`) ?? refs.get(ref);
      if (commit) return { ref, commit };
    }
    throw new RemoteError(this.branch ? `${this.source} has no branch or tag \`${this.branch}\`` : `${this.source} has no HEAD (an empty repository?)`);
  }

  private async syncClone(signal?: AbortSignal): Promise<void> {
    const head = await this.remoteHead(signal);
    if (head.commit === this.status.current?.revision && (await this.healthy(signal))) return;
    this.checkedAt = -Infinity;
    if (head.commit === this.status.refused?.revision && (this.status.current || !this.opts.lastApplied)) return;
    try {
      await this.checkout(head, signal);
    } catch (e) {
      if (e instanceof RemoteError || signal?.aborted) throw e;
      // the remote answered, so the checkout is what failed (corrupt, deleted .git, a stale lock): clone again
      rmSync(this.dir, { recursive: true, force: true });
      await this.checkout(head, signal);
    }
  }

  /**
   * Whether the checkout is a repository of this source at the revision in use. The revision's
   * files are in memory; the checkout serves fetches and older revisions, so git is asked at most
   * every HEALTH_CHECK_MS (each ask is two processes), and a missing `.git` is seen at once.
   */
  private async healthy(signal?: AbortSignal): Promise<boolean> {
    if (!existsSync(join(this.dir, ".git"))) return false;
    if (this.opts.clock.now() - this.checkedAt < HEALTH_CHECK_MS) return true;
    try {
      const git = this.git(signal);
      const [origin, head] = await Promise.all([git.raw(["config", "--get", "remote.origin.url"]), git.raw(["rev-parse", "--verify", "HEAD^{commit}"])]);
      const ok = origin.trim() === this.url && head.trim() === this.status.current?.revision;
      if (ok) this.checkedAt = this.opts.clock.now();
      return ok;
    } catch {
      return false;
    }
  }

  private async checkout(head: { ref: string; commit: string }, signal?: AbortSignal): Promise<void> {
    if (!(await this.isOurClone(signal))) {
      rmSync(this.dir, { recursive: true, force: true });
      try {
        // no checkout yet: nothing is applied before it is verified
        await this.git(signal, this.opts.stateDir).raw(["clone", "--no-checkout", "--no-tags", "--quiet", "--", this.url, this.dir]);
      } catch (e) {
        throw new RemoteError(`cannot clone ${this.source}: ${firstLine(e)}`);
      }
    }
    const git = this.git(signal);
    const have = await git.raw(["rev-parse", "--verify", "--quiet", "refs/cwsync/head^{commit}"]).then((s) => s.trim(), () => "");
    // the remote has just answered ls-remote: a failing fetch points at the checkout, which is cloned again
    if (have !== head.commit) await git.raw(["fetch", "--no-tags", "--quiet", "origin", `+${head.ref}:refs/cwsync/head`]);
    const fetched = (await git.raw(["rev-parse", "--verify", "refs/cwsync/head^{commit}"])).trim();
    let target = fetched;
    const refusal = await this.refusal(fetched, signal);
    if (refusal) {
      this.status.refused = { revision: fetched, reason: refusal };
      if (this.status.current) return;
      // a restart while the head is refused: the revision the state last applied, if it verifies
      const fallback = this.opts.lastApplied;
      if (!fallback || fallback === fetched || (await this.refusal(fallback, signal)) !== undefined) return;
      target = fallback;
    } else {
      this.status.refused = undefined;
    }
    await git.raw(["reset", "--hard", "--quiet", target]);
    this.status.current = { revision: target, dir: this.dir, ...(await readFilesAtRevision(this.dir, target)) };
  }

  private async isOurClone(signal?: AbortSignal): Promise<boolean> {
    if (!existsSync(join(this.dir, ".git"))) return false;
    try {
      return (await this.git(signal).raw(["config", "--get", "remote.origin.url"])).trim() === this.url;
    } catch {
      return false;
    }
  }

  /** Why a commit may not be applied under `requireSigned`, or undefined when it may. */
  private async refusal(commit: string, signal?: AbortSignal): Promise<string | undefined> {
    const signers = this.opts.requireSigned?.allowedSignersFile;
    if (!signers) return undefined;
    const git = this.git(signal);
    try {
      await git.raw(["cat-file", "-e", `${commit}^{commit}`]);
    } catch {
      return `commit ${commit} is not in the checkout`;
    }
    try {
      await git.raw(["-c", "gpg.format=ssh", "-c", `gpg.ssh.allowedSignersFile=${resolve(this.opts.cwd, signers)}`, "verify-commit", commit]);
      return undefined;
    } catch (e) {
      const raw = await git.raw(["cat-file", "commit", commit]);
      if (!/^gpgsig /m.test(raw.split("\n\n")[0])) return `commit ${commit.slice(0, 12)} is not signed`;
      return `commit ${commit.slice(0, 12)} is not signed by an allowed signer: ${firstLine(e)}`;
    }
  }

  private redact(text: string): string {
    return redactCredentials(text, this.secrets);
  }
}
