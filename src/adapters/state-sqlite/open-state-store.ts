import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { StateStore } from "../../ports/state-store.ts";
import { cwsyncVersion } from "../../version.ts";
import { migrate } from "./migrations.ts";
import { loadSqlite, pragma } from "./sqlite-driver.ts";
import { createSqliteStateStore } from "./sqlite-state-store.ts";

/** How long a statement waits for another process's write lock before failing with SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5000;

/**
 * Opens (creating when missing) `state.db` in `dir`: WAL, so readers such as `cwsync status`
 * never block the daemon's writes; `synchronous=FULL`, so a committed ledger entry survives a
 * power loss, not only a crash (a billing send recorded as done must never be sent again).
 * Migrates the schema and refuses a state directory written by a newer cwsync.
 */
export function openStateStore(dir: string): StateStore {
  mkdirSync(dir, { recursive: true });
  const { DatabaseSync } = loadSqlite();
  const db = new DatabaseSync(join(dir, "state.db"));
  try {
    pragma(db, `busy_timeout = ${BUSY_TIMEOUT_MS}`);
    const mode = pragma(db, "journal_mode = WAL");
    if (mode !== "wal") {
      throw new Error(`could not switch ${join(dir, "state.db")} to WAL mode (it stayed in ${String(mode)} mode); put the state directory on a local file system`);
    }
    db.exec("PRAGMA synchronous = FULL");
    const schemaVersion = migrate(db, dir, cwsyncVersion());
    return createSqliteStateStore(db, schemaVersion);
  } catch (e) {
    db.close();
    throw e;
  }
}
