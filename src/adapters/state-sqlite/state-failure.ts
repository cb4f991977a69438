import { accessSync, constants, statfsSync } from "node:fs";
import { dirname } from "node:path";
import { StateUnavailableError, type StateFailureCause } from "../../errors.ts";
import type { StateStore } from "../../ports/state-store.ts";
import { pragma, type DatabaseSync } from "./sqlite-driver.ts";

// node:sqlite throws a plain Error with code "ERR_SQLITE_ERROR", `errcode` (the SQLite result
// code; masked to its primary code in case an extended one comes through) and `errstr`.
const SQLITE_CAUSES: Readonly<Record<number, StateFailureCause>> = {
  8: "read-only", // SQLITE_READONLY
  10: "I/O error", // SQLITE_IOERR
  11: "corrupt", // SQLITE_CORRUPT
  13: "disk full", // SQLITE_FULL
  14: "cannot open", // SQLITE_CANTOPEN
  26: "corrupt", // SQLITE_NOTADB
};

// the file system's own answers, e.g. when creating the state directory or its -wal/-shm files
const ERRNO_CAUSES: Readonly<Record<string, StateFailureCause>> = {
  ENOSPC: "disk full",
  EDQUOT: "disk full",
  EROFS: "read-only",
  EACCES: "read-only",
  EPERM: "read-only",
  EIO: "I/O error",
};

/**
 * SQLite says only "unable to open database file" when it cannot create state.db's `-wal` and
 * `-shm` beside it: a read-only directory or file system, mostly. Asked of the file system.
 */
function whyNotOpened(file: string): StateFailureCause {
  for (const path of [dirname(file), file]) {
    try {
      accessSync(path, constants.W_OK);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "EROFS" || code === "EACCES" || code === "EPERM") return "read-only";
    }
  }
  return "cannot open";
}

const WHAT_TO_DO: Readonly<Record<StateFailureCause, string>> = {
  "disk full": "the disk is full: free space on its file system",
  "read-only": "it is read-only: make the state directory and state.db writable by the user cwsync runs as (or remount the file system read-write)",
  corrupt: "it is corrupt (not a database, or a damaged page): stop cwsync and restore state.db from a backup",
  "I/O error": "the disk failed to read or write it: check the disk and the file system (e.g. dmesg)",
  "cannot open": "it cannot be opened: check that the state directory exists and is writable by the user cwsync runs as",
};

function causeOf(e: unknown, file: string): { cause: StateFailureCause; detail: string } | undefined {
  if (!(e instanceof Error)) return undefined;
  const err = e as Error & { code?: unknown; errcode?: unknown; errstr?: unknown };
  if (err.code === "ERR_SQLITE_ERROR" && typeof err.errcode === "number") {
    const cause = SQLITE_CAUSES[err.errcode & 0xff];
    const detail = `SQLite: ${typeof err.errstr === "string" ? err.errstr : err.message}`;
    if (cause === "cannot open") return { cause: whyNotOpened(file), detail };
    // a full disk often shows as an I/O error (the -shm or -wal file could not grow)
    if (cause === "I/O error" && freeBytesOr(dirname(file)) < PROBE_FREE_BYTES) return { cause: "disk full", detail };
    return cause && { cause, detail };
  }
  const cause = typeof err.code === "string" ? ERRNO_CAUSES[err.code] : undefined;
  return cause && { cause, detail: err.message };
}

/**
 * The `state.unavailable` error for an error SQLite or the file system raised on `file` (full
 * disk, read-only, corrupt, failing disk, cannot open); undefined for any other error (a bug, a
 * busy database, a lost lease), which the caller rethrows as it is. One already classified is returned as is.
 */
export function stateFailure(e: unknown, file: string): StateUnavailableError | undefined {
  if (e instanceof StateUnavailableError) return e;
  const found = causeOf(e, file);
  return found && unavailable(file, found.cause, found.detail, e);
}

function unavailable(file: string, cause: StateFailureCause, detail: string, e?: unknown): StateUnavailableError {
  const resumes = cause === "corrupt" ? "" : "; nothing is sent until it can be recorded (a running daemon resumes by itself once this is fixed)";
  return new StateUnavailableError(`the state ${file} cannot be used: ${WHAT_TO_DO[cause]} (${detail})${resumes}`, file, cause, e === undefined ? undefined : { cause: e });
}

/** Free space a probe asks for: a cycle's writes (ledger entries, statuses, the journal) fit in it. */
export const PROBE_FREE_BYTES = 1024 * 1024;

/**
 * Whether `db` can be used again: `PRAGMA quick_check(1)` (corruption anywhere, not only in the
 * pages a cycle happens to touch), a committed one-row write (a read-only file, a failing disk; a
 * write rolled back would not do, it never reaches the disk) and free space on the file system (a
 * one-page write can still fit on a full disk, the next cycle's would not). Throws `StateUnavailableError`.
 */
export function probeDatabase(db: DatabaseSync, file: string, freeBytes: (dir: string) => number = freeSpace): void {
  guarded(file, () => {
    const check = String(pragma(db, "quick_check(1)"));
    if (check !== "ok") throw unavailable(file, "corrupt", `SQLite quick_check: ${check.replace(/\s+/g, " ").slice(0, 200)}`);
    db.exec("UPDATE lease SET expires_at = expires_at WHERE id = 1");
    const free = freeBytes(dirname(file));
    if (free < PROBE_FREE_BYTES) throw unavailable(file, "disk full", `${free} bytes free, ${PROBE_FREE_BYTES} needed`);
  });
}

function freeSpace(dir: string): number {
  const s = statfsSync(dir);
  return Number(s.bavail) * Number(s.bsize);
}

/** Free space, or Infinity when it cannot be read (then nothing is blamed on it). */
function freeBytesOr(dir: string): number {
  try {
    return freeSpace(dir);
  } catch {
    return Infinity;
  }
}

/** Runs `fn`, turning a state failure into `StateUnavailableError`; other errors pass unchanged. */
export function guarded<T>(file: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw stateFailure(e, file) ?? e;
  }
}

/** A store that answers `probe()`: see `guardStore`. The daemon calls it while the state is unavailable. */
export interface ProbedStateStore extends StateStore {
  /** Throws `StateUnavailableError` while the state cannot be read and written. */
  probe(): void;
}

/** `store` with every method's state failures classified (`stateFailure`), and `probe` (e.g. `probeDatabase`). */
export function guardStore(store: StateStore, file: string, probe: () => void): ProbedStateStore {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(store)) {
    out[key] = typeof value === "function" ? (...args: unknown[]) => guarded(file, () => (value as (...a: unknown[]) => unknown)(...args)) : value;
  }
  out.probe = () => guarded(file, probe);
  return out as unknown as ProbedStateStore;
}
