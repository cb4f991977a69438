import { existsSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { StateError, StateUnavailableError } from "../../errors.ts";
import type { StateStore } from "../../ports/state-store.ts";

/** Written next to state.db when a state is created: proof that a history exists here, should state.db vanish. */
export const MARKER_FILE = "state.created";
export const STATE_FILE = "state.db";

export interface StateMarker {
  /** When the state was created (or, `backfilled`, when this cwsync first saw a state made before markers). */
  createdAt: string;
  /** The cwsync that wrote the marker. */
  cwsync: string;
  backfilled?: boolean;
  /** Set when the state was started anew with --accept-new-state. */
  acceptedNewState?: { reason: string };
}

export function readMarker(dir: string): StateMarker | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, MARKER_FILE), "utf8")) as StateMarker;
  } catch {
    // absent; or unreadable, which still says a state was here (see priorState)
    return undefined;
  }
}

export function writeMarker(dir: string, marker: StateMarker): void {
  const tmp = join(dir, `${MARKER_FILE}.${process.pid}.tmp`);
  writeFileSync(tmp, JSON.stringify(marker, null, 2) + "\n", { mode: 0o600 });
  renameSync(tmp, join(dir, MARKER_FILE));
}

function sizeOf(path: string): number | undefined {
  try {
    return statSync(path).size;
  } catch {
    return undefined;
  }
}

/**
 * What shows that a state existed in `dir`, looked at before state.db is opened: the marker, or
 * a write-ahead log with content (what a deleted state.db leaves while a daemon still has it
 * open). An empty -wal or -shm is not proof: any process opening a fresh directory makes them.
 * Look here before looking at state.db: the marker is written only once state.db has content,
 * so a marker seen first and an empty state.db seen after means it was emptied.
 */
export function priorState(dir: string): string | undefined {
  const markerPath = join(dir, MARKER_FILE);
  if (existsSync(markerPath)) {
    const m = readMarker(dir);
    return m ? `${MARKER_FILE} says a state was created there on ${m.createdAt} by cwsync ${m.cwsync}` : `${MARKER_FILE} says a state was created there`;
  }
  const wal = sizeOf(join(dir, `${STATE_FILE}-wal`));
  if (wal) return `${STATE_FILE}-wal holds ${wal} bytes of a state's last writes`;
  return undefined;
}

/** The refusal: what is missing, what it would cost to go on, and the two ways forward. */
export function vanishedStateError(dir: string, missing: string, evidence: string): StateError {
  const db = join(dir, STATE_FILE);
  return new StateError(
    `the state database ${db} ${missing}, but ${evidence}. ` +
      "Starting a new state would forget every send already made: history would start again, so the periods due now would be skipped and sends left open or unknown would never be finished. Nothing was sent. " +
      `To go on, either restore a backup made with \`cwsync state backup FILE\` (stop the daemon, copy FILE to ${db}, delete ${STATE_FILE}-wal and ${STATE_FILE}-shm if present, start again), ` +
      "or, to start a new history knowingly, run once with --accept-new-state (reconcile, send-now or run).",
  );
}

/**
 * With --accept-new-state: moves the leftovers of the lost state out of the way, so SQLite
 * does not replay an old write-ahead log into the new database. Nothing is deleted that could
 * hold data: a non-empty state.db or -wal is renamed `<name>.lost-<stamp>`. Returns the new names.
 */
export function setAsideLostState(dir: string, stamp: string): string[] {
  const kept: string[] = [];
  for (const name of [STATE_FILE, `${STATE_FILE}-wal`]) {
    const path = join(dir, name);
    const size = sizeOf(path);
    if (size === undefined) continue;
    if (size === 0) rmSync(path, { force: true });
    else {
      const to = `${path}.lost-${stamp.replace(/[:.]/g, "-")}`;
      renameSync(path, to);
      kept.push(to);
    }
  }
  rmSync(join(dir, `${STATE_FILE}-shm`), { force: true });
  return kept;
}

export interface LostState {
  /** What showed a state existed (see priorState), when something did. */
  evidence?: string;
  /** Set when a lost state is started anew with --accept-new-state: the reason, for the journal. */
  accepted?: string;
}

/**
 * Before state.db is opened: a state.db missing or empty where the directory shows a state
 * existed is refused (a StateError saying how to proceed), or, with `acceptNewState`, its
 * leftovers are set aside and the reason returned for the journal.
 */
export function checkLostState(dir: string, opts: { acceptNewState?: boolean; now: Date }): LostState {
  const evidence = priorState(dir);
  if (!evidence) return {};
  const size = sizeOf(join(dir, STATE_FILE));
  if (size !== undefined && size > 0) return { evidence };
  return lost(dir, size === undefined ? "is missing" : "is empty (0 bytes)", evidence, opts, true);
}

/** After opening, before migrating: a database without cwsync's schema where a state existed is lost too. */
export function checkEmptySchema(dir: string, userVersion: number, found: LostState, opts: { acceptNewState?: boolean; now: Date }): LostState {
  if (!found.evidence || found.accepted || userVersion !== 0) return found;
  return lost(dir, "holds no cwsync state (an empty database)", found.evidence, opts, false);
}

function lost(dir: string, missing: string, evidence: string, opts: { acceptNewState?: boolean; now: Date }, setAside: boolean): LostState {
  if (!opts.acceptNewState) throw vanishedStateError(dir, missing, evidence);
  const kept = setAside ? setAsideLostState(dir, opts.now.toISOString()) : [];
  return { evidence, accepted: `${STATE_FILE} ${missing}, but ${evidence}${kept.length ? `; kept ${kept.join(", ")}` : ""}` };
}

/**
 * Returns a check that throws a StateUnavailableError once the state.db opened at `path` is no
 * longer the one there: deleted, replaced by another file, or emptied. SQLite keeps writing to
 * the file it has open in those cases, so a long-running process would carry on (and send)
 * against a state no later process sees. The check stays failing until the process restarts.
 */
export function stateFileCheck(path: string): () => void {
  const at = statSync(path);
  return () => {
    let now: { dev: number; ino: number; size: number };
    try {
      now = statSync(path);
    } catch {
      throw runningStateError(path, "was deleted");
    }
    if (now.dev !== at.dev || now.ino !== at.ino) throw runningStateError(path, "was replaced by another file");
    if (now.size === 0) throw runningStateError(path, "was emptied (it is 0 bytes long)");
  };
}

function runningStateError(path: string, what: string): StateUnavailableError {
  return new StateUnavailableError(
    `the state database ${path} ${what} while this cwsync had it open; nothing more is written or sent. ` +
      "Stop this cwsync, then restore a backup made with `cwsync state backup FILE` to that path (and delete its -wal and -shm files), or start again with --accept-new-state to begin a new history knowingly.",
    path,
    "cannot open",
  );
}

const fileChecks = new WeakMap<StateStore, () => void>();

/** Makes `checkStateFile(store)` run `check` (openStateStore registers the store it returns). */
export function registerStateFileCheck(store: StateStore, check: () => void): void {
  fileChecks.set(store, check);
}

/**
 * Throws a StateUnavailableError when the state.db `store` was opened on has been deleted,
 * replaced or emptied since (see stateFileCheck): a stat, cheap enough for the start of every
 * daemon cycle. Every write of the store and each lease renewal check it too.
 */
export function checkStateFile(store: StateStore): void {
  fileChecks.get(store)?.();
}

/**
 * The store's writes, and the lease's renewal, run `check` first: a process whose state.db
 * vanished writes (and so sends) nothing more. Not the release: it runs in a `finally`, where
 * throwing would hide why the work stopped.
 */
export function checkedWrites<S extends StateStore>(store: S, check: () => void): S {
  const out = { ...store };
  for (const name of ["setMeta", "acquireLease", "renewLease", "putCustomers", "setCursors", "putLedger", "commitPoll", "pruneDetections", "appendJournal"] as const) {
    const write = store[name] as (...a: unknown[]) => unknown;
    (out as Record<string, unknown>)[name] = (...args: unknown[]) => {
      check();
      return write(...args);
    };
  }
  return out;
}
