import { redactCredentials } from "../adapters/git-credentials.ts";
import { openGitSource } from "../adapters/git-source.ts";
import type { SourceFile } from "../config/load.ts";
import type { Clock } from "../ports/clock.ts";
import type { GitSource, Held } from "../ports/git-source.ts";

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
  /** The last time the revision in use replaced one not in its history (a force-push rewound the branch), ISO UTC; kept until the next. */
  rewound?: { from: string; to: string; at: string };
  failures: number;
  /** With failures: no attempt before this (unless forced), epoch ms. */
  retryAt?: number;
}

const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e)).replace(/^Error: /, "").trim();

/**
 * The daemon's schedule over its GitSource (a disposable clone in `<stateDir>/repo`, or a plain
 * folder): a failing remote backs off exponentially with jitter while the last revision keeps running.
 */
export class GitSync {
  /** The source for display: credentials removed. */
  readonly source: string;
  readonly branch?: string;
  private readonly git: GitSource;
  private held: Held = {};
  private current?: SyncedRevision;
  private rewound?: SyncStatus["rewound"];
  private status: Omit<SyncStatus, "current" | "refused" | "rewound"> = { failures: 0 };

  constructor(private readonly opts: GitSyncOptions) {
    this.git = openGitSource({
      repo: opts.source, branch: opts.branch, stateDir: opts.stateDir, cwd: opts.cwd, cloneLocal: true, requireSigned: opts.requireSigned,
      lastApplied: opts.lastApplied, env: opts.env, timeoutMs: opts.timeoutMs, clock: opts.clock,
    });
    this.source = this.git.source;
    this.branch = opts.branch;
  }

  /** What the last sync left: the revision in use, the error while failing, a refused head, the last rewind. */
  state(): SyncStatus {
    return { ...this.status, current: this.current, refused: this.held.refused, rewound: this.rewound };
  }

  /**
   * One sync. Skipped while backing off after failures, unless `force` (a webhook, "reconcile
   * now"). `changed` says the revision in use moved. Never throws for a failing remote: the error
   * is kept in `state().syncError` and the last revision stays in use.
   */
  async sync(opts: { force?: boolean; signal?: AbortSignal } = {}): Promise<{ changed: boolean; attempted: boolean }> {
    const now = this.opts.clock.now();
    if (!opts.force && this.status.retryAt !== undefined && now < this.status.retryAt) return { changed: false, attempted: false };
    const before = this.current?.revision;
    try {
      this.held = await this.git.update(this.held, { signal: opts.signal });
      const c = this.held.current;
      if (c && c.id !== this.current?.revision) {
        this.current = { revision: c.id, files: c.files, globalPath: c.globalPath, dir: c.dir };
        // set by the update that moved `current` only
        if (this.held.rewound) this.rewound = { ...this.held.rewound, at: new Date(this.opts.clock.now()).toISOString() };
      }
      this.status = { ...this.status, lastSync: this.opts.clock.now(), syncError: undefined, failures: 0, retryAt: undefined };
    } catch (e) {
      if (opts.signal?.aborted) throw e;
      const failures = this.status.failures + 1;
      const { baseMs, maxMs } = this.opts.backoff ?? { baseMs: 1000, maxMs: 300_000 };
      const delay = Math.min(maxMs, baseMs * 2 ** (failures - 1)) * (0.5 + 0.5 * (this.opts.random ?? Math.random)());
      this.status = { ...this.status, failures, syncError: redactCredentials(messageOf(e), this.git.secrets), retryAt: this.opts.clock.now() + delay };
    }
    return { changed: this.current?.revision !== before, attempted: true };
  }

  /** The files of an older revision (send-now acts on the applied one), from the checkout. */
  async filesAt(revision: string): Promise<{ files: SourceFile[]; globalPath: string }> {
    if (this.current?.revision === revision) return this.current;
    return this.git.filesAt(revision);
  }
}
