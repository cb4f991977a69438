import type { SourceFile } from "../config/load.ts";

/** The customer files of one revision, as the loader takes them. */
export interface RevisionFiles {
  files: SourceFile[];
  globalPath: string;
}

/** A revision of the source: a commit, or `worktree-<hash>` for a plain folder's content. */
export interface Revision extends RevisionFiles {
  id: string;
  /** The local directory the files come from: the repository, the checkout in the state directory, or the folder. */
  dir: string;
}

/** A head that was not applied because its commit is not signed by an allowed signer. */
export interface Refusal {
  revision: string;
  reason: string;
}

/** The revision in use replaced one that is not in its history: the branch was rewound (a force-push). */
export interface Rewind {
  from: string;
  to: string;
}

/** What a caller holds between updates: the revision in use and a refused head. */
export interface Held {
  current?: Revision;
  refused?: Refusal;
  /**
   * Set by the update that made `current` a commit whose history does not hold the revision in
   * use before it (or, on a start, the revision the state last applied). Sources without
   * history (a plain folder, a repository read in place) never set it. An update that moves
   * nothing returns `held` as it is: a caller reads this only when `current` moved.
   */
  rewound?: Rewind;
}

/**
 * Where the customers come from: a git repository (a URL or a path) or a plain folder. Errors
 * never carry credentials; a failing remote throws and leaves what the caller holds untouched.
 */
export interface GitSource {
  /** The source for display: credentials removed. */
  readonly source: string;
  /** The secret values taken out of the source URL, for log scrubbers. */
  readonly secrets: readonly string[];
  /**
   * Asks the source for its head (branch, tag or HEAD) and brings it in. Returns what to hold
   * next: `held` itself when nothing moved; under `requireSigned` an unsigned head is `refused`
   * and the revision in use stays.
   */
  update(held: Held, opts?: { signal?: AbortSignal }): Promise<Held>;
  /** The files at an older commit (send-now acts on the applied revision). */
  filesAt(revision: string, opts?: { signal?: AbortSignal }): Promise<RevisionFiles>;
}
