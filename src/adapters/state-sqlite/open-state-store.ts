import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { cwsyncVersion } from "../../version.ts";
import { migrate } from "./migrations.ts";
import { loadSqlite, pragma } from "./sqlite-driver.ts";
import { createSqliteStateStore } from "./sqlite-state-store.ts";
import { guarded, guardStore, probeDatabase, type ProbedStateStore } from "./state-failure.ts";
import { checkedWrites, checkEmptySchema, checkLostState, readMarker, registerStateFileCheck, stateFileCheck, writeMarker } from "./state-marker.ts";

/** How long a statement waits for another process's write lock before failing with SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5000;

/**
 * Opens (creating when missing) `state.db` in `dir`: WAL, so readers such as `cwsync status`
 * never block the daemon's writes; `synchronous=FULL`, so a committed ledger entry survives a
 * power loss, not only a crash (a billing send recorded as done must never be sent again).
 * Migrates the schema and refuses a state directory written by a newer cwsync.
 *
 * A state.db missing or empty where the directory shows a state existed (the `state.created`
 * marker written at creation, a write-ahead log) is refused, not silently started again: a new
 * history would skip what is due and forget open sends. `acceptNewState` starts it anew, journalled.
 */
export function openStateStore(dir: string, opts: OpenStateOptions = {}): ProbedStateStore {
  // a full disk, a read-only or corrupt state: StateUnavailableError naming the file and the cause
  return guarded(join(dir, "state.db"), () => openUnguarded(dir, opts));
}

export interface OpenStateOptions {
  /** `--accept-new-state`: a state that vanished is started anew instead of refused. */
  acceptNewState?: boolean;
  /** The clock's now, for the marker and the journal (default the system clock's). */
  now?: Date;
}

function openUnguarded(dir: string, opts: OpenStateOptions): ProbedStateStore {
  mkdirSync(dir, { recursive: true });
  const when = { acceptNewState: opts.acceptNewState, now: opts.now ?? new Date() };
  let lost = checkLostState(dir, when);
  const { DatabaseSync } = loadSqlite();
  const db = new DatabaseSync(join(dir, "state.db"));
  try {
    pragma(db, `busy_timeout = ${BUSY_TIMEOUT_MS}`);
    const mode = pragma(db, "journal_mode = WAL");
    if (mode !== "wal") {
      throw new Error(`could not switch ${join(dir, "state.db")} to WAL mode (it stayed in ${String(mode)} mode); put the state directory on a local file system`);
    }
    db.exec("PRAGMA synchronous = FULL");
    const created = pragma(db, "user_version") === 0;
    lost = checkEmptySchema(dir, created ? 0 : 1, lost, when);
    const schemaVersion = migrate(db, dir, cwsyncVersion());
    const file = join(dir, "state.db");
    if (lost.accepted) {
      db.prepare("INSERT INTO journal (at, customer, kind, message, data) VALUES (?, NULL, 'state', 'new state accepted', ?)")
        .run(when.now.toISOString(), JSON.stringify({ reason: lost.accepted, flag: "--accept-new-state" }));
    }
    // written once state.db has content (see priorState); a state made before markers gets one now
    if (lost.accepted || !readMarker(dir)) {
      writeMarker(dir, { createdAt: when.now.toISOString(), cwsync: cwsyncVersion(), ...(created ? {} : { backfilled: true }), ...(lost.accepted ? { acceptedNewState: { reason: lost.accepted } } : {}) });
    }
    const check = stateFileCheck(file);
    const store = guardStore(checkedWrites(createSqliteStateStore(db, schemaVersion), check), file, () => {
      check();
      probeDatabase(db, file);
    });
    registerStateFileCheck(store, check);
    return store;
  } catch (e) {
    db.close();
    throw e;
  }
}
