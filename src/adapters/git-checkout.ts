import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Clock } from "../ports/clock.ts";
import type { Held } from "../ports/git-source.ts";
import { GitError, runGit, type GitContext } from "./git-run.ts";
import { readTree } from "./git-tree.ts";

export interface CheckoutOptions {
  /** The clone URL, credentials removed (a local repository: its absolute path). */
  url: string;
  /** The source for messages: credentials removed. */
  source: string;
  branch?: string;
  /** Absolute; the checkout is `<stateDir>/repo`. */
  stateDir: string;
  /** The URL is a repository on this machine: its refs are read in place. */
  local: boolean;
  cwd: string;
  requireSigned?: { allowedSignersFile: string };
  /** The revision the state last applied: used on restart while a newer head is refused. */
  lastApplied?: string;
  clock: Clock;
}

/**
 * How long what git last said is trusted without asking it again, while the files it read are
 * as they were (inode, times, size): a checkout found healthy, a local repository's head.
 * A change to any of those files is seen at the next sync; this bounds only what no file shows
 * (a damaged object store). Each ask is up to three git processes, ~40 ms of CPU with the fork
 * of a daemon holding ~200 MB: every 10 minutes that was a sixth of an idle daemon's CPU.
 */
const HEALTH_CHECK_MS = 60 * 60_000;

/** A failure of the remote (unreachable, auth, branch missing), as opposed to a broken local checkout. */
class RemoteError extends GitError {}

const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e)).replace(/^Error: /, "").trim();
/** git's first line says what failed; the rest is advice about access rights. */
const firstLine = (e: unknown) => messageOf(e).split("\n")[0];

/** Inode, change time and size of each file (git replaces a file by renaming a new one over it, so any update changes this). */
function filesStamp(dir: string, files: readonly string[]): string {
  return files.map((f) => {
    try {
      // most of these files do not exist: asked without an exception (one per file per cycle otherwise)
      const st = statSync(join(dir, f), { bigint: true, throwIfNoEntry: false });
      return st ? `${f}:${st.ino}:${st.ctimeNs}:${st.mtimeNs}:${st.size}` : `${f}:-`;
    } catch {
      return `${f}:-`;
    }
  }).join("|");
}

/**
 * A disposable clone in `<stateDir>/repo` of a URL or of a local repository (the user's working
 * copy is never touched), synced with `ls-remote` first and a fetch only when the head moved,
 * reset hard to the fetched head, cloned again when broken.
 */
export class GitCheckout {
  readonly dir: string;
  /** When the checkout was last found healthy by git itself (epoch ms), and the state of its files then. */
  private checkedAt = -Infinity;
  private checkedStamp?: string;
  /** A local repository's head as git last read it, and the state of the files its refs live in then. */
  private refsSeen?: { stamp: string; head: { ref: string; commit: string }; at: number };

  constructor(private readonly ctx: GitContext, private readonly opts: CheckoutOptions) {
    this.dir = join(opts.stateDir, "repo");
  }

  private git(args: readonly string[], signal?: AbortSignal, cwd = this.dir): Promise<string> {
    return runGit(this.ctx, cwd, args, { signal }).then((b) => b.toString("utf8"));
  }

  async update(held: Held, signal?: AbortSignal): Promise<Held> {
    const head = await this.remoteHead(signal);
    if (head.commit === held.current?.id && (await this.healthy(held.current.id, signal))) return held;
    this.checkedAt = -Infinity;
    if (head.commit === held.refused?.revision && (held.current || !this.opts.lastApplied)) return held;
    try {
      return await this.checkout(head, held, signal);
    } catch (e) {
      if (e instanceof RemoteError || signal?.aborted) throw e;
      // the remote answered, so the checkout is what failed (corrupt, deleted .git, a stale lock): clone again
      rmSync(this.dir, { recursive: true, force: true });
      return this.checkout(head, held, signal);
    }
  }

  /**
   * For a repository on this machine: inode, change time and size of every file its wanted ref
   * can live in (git replaces a ref file by renaming a new one over it, so any update changes
   * this). Undefined where refs live elsewhere (a `.git` file of a worktree or submodule).
   */
  private refsStamp(): string | undefined {
    let gitDir = join(this.opts.url, ".git");
    let dotGit: ReturnType<typeof statSync>;
    try {
      dotGit = statSync(gitDir, { throwIfNoEntry: false });
    } catch {
      dotGit = undefined;
    }
    if (dotGit && !dotGit.isDirectory()) return undefined;
    if (!dotGit) gitDir = this.opts.url; // a bare repository
    let head: string;
    try {
      head = readFileSync(join(gitDir, "HEAD"), "utf8").trim();
    } catch {
      return undefined;
    }
    const files = ["HEAD", "packed-refs", "reftable/tables.list"];
    if (this.opts.branch) files.push(`refs/heads/${this.opts.branch}`, `refs/tags/${this.opts.branch}`);
    else if (head.startsWith("ref: ")) files.push(head.slice(5));
    return filesStamp(gitDir, files);
  }

  /** The remote head's ref and commit, by `ls-remote` (cheap: no objects are transferred). */
  private async remoteHead(signal?: AbortSignal): Promise<{ ref: string; commit: string }> {
    if (!this.opts.local) return this.listHead(signal);
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
    const { branch, url, source } = this.opts;
    const wanted = branch ? [`refs/heads/${branch}`, `refs/tags/${branch}`] : ["HEAD"];
    let listing: string;
    try {
      mkdirSync(this.opts.stateDir, { recursive: true });
      if (!this.opts.local) listing = await this.git(["ls-remote", "--", url, ...wanted], signal, this.opts.stateDir);
      else if (branch) {
        // what ls-remote would list: the ref and, for an annotated tag, its commit as `<ref>^{}`
        const out = await this.git(["for-each-ref", "--format=%(objectname)\t%(refname)\t%(*objectname)", ...wanted], signal, url);
        listing = out.split("\n").filter(Boolean).map((l) => {
          const [sha, ref, peeled] = l.split("\t");
          return `${sha}\t${ref}${peeled ? `\n${peeled}\t${ref}^{}` : ""}`;
        }).join("\n");
      } else {
        const sha = await this.git(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], signal, url).then((x) => x.trim(), (e: unknown) => {
          if (e instanceof GitError && e.timedOut) throw e;
          return "";
        });
        listing = sha ? `${sha}\tHEAD` : "";
      }
    } catch (e) {
      if (signal?.aborted) throw e;
      throw new RemoteError(`cannot reach ${source}: ${firstLine(e)}`);
    }
    const refs = new Map(listing.split("\n").filter(Boolean).map((l) => l.split("\t") as [string, string]).map(([sha, ref]) => [ref, sha]));
    for (const ref of wanted) {
      const commit = refs.get(`${ref}^{}`) ?? refs.get(ref);
      if (commit) return { ref, commit };
    }
    throw new RemoteError(branch ? `${source} has no branch or tag \`${branch}\`` : `${source} has no HEAD (an empty repository?)`);
  }

  /**
   * Whether the checkout is a repository of this source at the revision in use. The revision's
   * files are in memory; the checkout serves fetches and older revisions, so git is asked again
   * only when a file naming its commit or origin changed since git last found it healthy, and at
   * least every HEALTH_CHECK_MS (each ask is two processes); a missing `.git` is seen at once.
   */
  private async healthy(current: string, signal?: AbortSignal): Promise<boolean> {
    if (!existsSync(join(this.dir, ".git"))) return false;
    const stamp = this.checkoutStamp();
    if (this.opts.clock.now() - this.checkedAt < HEALTH_CHECK_MS && stamp === this.checkedStamp) return true;
    try {
      const [origin, head] = await Promise.all([this.git(["config", "--get", "remote.origin.url"], signal), this.git(["rev-parse", "--verify", "HEAD^{commit}"], signal)]);
      const ok = origin.trim() === this.opts.url && head.trim() === current;
      if (ok) {
        this.checkedAt = this.opts.clock.now();
        this.checkedStamp = stamp;
      }
      return ok;
    } catch {
      return false;
    }
  }

  /** The files of the checkout that say which commit it holds and where it comes from (see refsStamp). */
  private checkoutStamp(): string {
    const gitDir = join(this.dir, ".git");
    let head = "";
    try {
      head = readFileSync(join(gitDir, "HEAD"), "utf8").trim();
    } catch {
      // stamped as missing below
    }
    const files = ["HEAD", "config", "packed-refs", "reftable/tables.list"];
    if (head.startsWith("ref: ")) files.push(head.slice(5));
    return filesStamp(gitDir, files);
  }

  private async checkout(head: { ref: string; commit: string }, held: Held, signal?: AbortSignal): Promise<Held> {
    if (!(await this.isOurClone(signal))) {
      rmSync(this.dir, { recursive: true, force: true });
      try {
        // no checkout yet: nothing is applied before it is verified
        await this.git(["clone", "--no-checkout", "--no-tags", "--quiet", "--", this.opts.url, this.dir], signal, this.opts.stateDir);
      } catch (e) {
        if (signal?.aborted) throw e;
        throw new RemoteError(`cannot clone ${this.opts.source}: ${firstLine(e)}`);
      }
    }
    const have = await this.git(["rev-parse", "--verify", "--quiet", "refs/cwsync/head^{commit}"], signal).then((s) => s.trim(), () => "");
    // the remote has just answered ls-remote: a failing fetch points at the checkout, which is cloned again
    if (have !== head.commit) await this.git(["fetch", "--no-tags", "--quiet", "origin", `+${head.ref}:refs/cwsync/head`], signal);
    const fetched = (await this.git(["rev-parse", "--verify", "refs/cwsync/head^{commit}"], signal)).trim();
    let target = fetched;
    let refused: Held["refused"];
    const refusal = await this.refusal(fetched, signal);
    if (refusal) {
      refused = { revision: fetched, reason: refusal };
      if (held.current) return { ...held, refused };
      // a restart while the head is refused: the revision the state last applied, if it verifies
      const fallback = this.opts.lastApplied;
      if (!fallback || fallback === fetched || (await this.refusal(fallback, signal)) !== undefined) return { ...held, refused };
      target = fallback;
    }
    const previous = held.current?.id ?? this.opts.lastApplied;
    const rewound = previous && previous !== target && !(await this.descends(previous, target, signal)) ? { from: previous, to: target } : undefined;
    await this.git(["reset", "--hard", "--quiet", target], signal);
    return { current: { id: target, dir: this.dir, ...(await readTree(this.ctx, this.dir, target, { signal })) }, refused, ...(rewound ? { rewound } : {}) };
  }

  /**
   * Whether `old` is in the history of `head`. Before the reset the checkout still holds the
   * revision in use (its branch points there), so an old revision missing from it is one the
   * checkout was cloned again without: a full clone holds every ancestor of what it fetched, so a
   * commit the remote no longer has in any branch (a force-push dropped it) is not `head`'s —
   * a rewind, not an unknown. An `old` that is not a commit id (a plain folder's content hash)
   * has no history to compare.
   */
  private async descends(old: string, head: string, signal?: AbortSignal): Promise<boolean> {
    if (!/^[0-9a-f]{40}(?:[0-9a-f]{24})?$/.test(old)) return true;
    try {
      await this.git(["cat-file", "-e", `${old}^{commit}`], signal);
    } catch (e) {
      if (signal?.aborted || (e instanceof GitError && e.timedOut)) throw e;
      return false;
    }
    try {
      await this.git(["merge-base", "--is-ancestor", old, head], signal);
      return true;
    } catch (e) {
      // exit 1, silent: not an ancestor; anything else is the checkout failing
      if (e instanceof GitError && !e.timedOut && /exited with code 1$/.test(e.message)) return false;
      throw e;
    }
  }

  private async isOurClone(signal?: AbortSignal): Promise<boolean> {
    if (!existsSync(join(this.dir, ".git"))) return false;
    try {
      return (await this.git(["config", "--get", "remote.origin.url"], signal)).trim() === this.opts.url;
    } catch {
      return false;
    }
  }

  /** Why a commit may not be applied under `requireSigned`, or undefined when it may. */
  private async refusal(commit: string, signal?: AbortSignal): Promise<string | undefined> {
    const signers = this.opts.requireSigned?.allowedSignersFile;
    if (!signers) return undefined;
    try {
      await this.git(["cat-file", "-e", `${commit}^{commit}`], signal);
    } catch {
      return `commit ${commit} is not in the checkout`;
    }
    try {
      await this.git(["-c", "gpg.format=ssh", "-c", `gpg.ssh.allowedSignersFile=${resolve(this.opts.cwd, signers)}`, "verify-commit", commit], signal);
      return undefined;
    } catch (e) {
      const raw = await this.git(["cat-file", "commit", commit], signal);
      if (!/^gpgsig /m.test(raw.split("\n\n")[0])) return `commit ${commit.slice(0, 12)} is not signed`;
      return `commit ${commit.slice(0, 12)} is not signed by an allowed signer: ${firstLine(e)}`;
    }
  }
}
