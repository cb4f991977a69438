import { existsSync, linkSync, rmSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { StateError } from "../../errors.ts";
import { stateMeta } from "../../ports/state-meta.ts";
import { pragma, loadSqlite } from "./sqlite-driver.ts";
import { guarded } from "./state-failure.ts";
import { checkLostState, STATE_FILE } from "./state-marker.ts";

export interface StateBackup {
  file: string;
  bytes: number;
  /** The applied revision the copy holds, if any reconcile applied one. */
  appliedRevision?: string;
  ledgerEntries: number;
}

/**
 * Copies the state in `dir` to `file` with SQLite's `VACUUM INTO`: a consistent snapshot of the
 * last committed transaction, through a read-only connection, so it is safe while the daemon
 * writes (WAL: the reader never blocks the writer). node:sqlite's `backup()` is not in Node
 * 22.13, our floor. The copy is made next to `file` and linked into place, so `file` is never
 * overwritten and never seen half-written; the copy's lease is freed (the fencing token kept) and
 * the copy checked (`quick_check`) before it is.
 */
export function backupState(dir: string, file: string, now: Date): StateBackup {
  const source = join(dir, STATE_FILE);
  if (existsSync(file)) throw new StateError(`${file} exists already; cwsync state backup never overwrites a file: name a new one, or delete it first`);
  if (!existsSync(dirname(file))) throw new StateError(`cannot write ${file}: the folder ${dirname(file)} does not exist`);
  // a state that vanished is not backed up as if it were one (the refusal says how to proceed)
  checkLostState(dir, { now });
  if (!existsSync(source) || statSync(source).size === 0) throw new StateError(`there is no state to back up in ${dir} (no ${STATE_FILE}): run cwsync reconcile first, or set CWSYNC_STATE_DIR`);
  const partial = join(dirname(file), `.${process.pid}-${now.getTime()}.cwsync-backup-partial`);
  const { DatabaseSync } = loadSqlite();
  try {
    guarded(source, () => {
      const db = new DatabaseSync(source, { readOnly: true });
      try {
        pragma(db, "busy_timeout = 5000");
        db.prepare("VACUUM INTO ?").run(partial);
      } finally {
        db.close();
      }
    });
    const copy = guarded(partial, () => {
      const db = new DatabaseSync(partial);
      try {
        // the copy is nobody's to write: a daemon's lease in it would keep a restored state locked until it expired
        db.exec("UPDATE lease SET holder = NULL, acquired_at = NULL, expires_at = NULL WHERE id = 1");
        const check = String(pragma(db, "quick_check(1)"));
        if (check !== "ok") throw new StateError(`the copy of ${source} did not check out (SQLite quick_check: ${check}); nothing was written to ${file}`);
        const getMeta = (key: string) => (db.prepare("SELECT value FROM meta WHERE key = ?").get(key) as { value: string } | undefined)?.value;
        const appliedRevision = stateMeta({ getMeta, setMeta: () => undefined }).appliedRevision();
        const ledgerEntries = (db.prepare("SELECT count(*) AS n FROM ledger").get() as { n: number }).n;
        return { appliedRevision, ledgerEntries };
      } finally {
        db.close();
      }
    });
    try {
      linkSync(partial, file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "EEXIST") throw new StateError(`${file} appeared while the backup was made; cwsync state backup never overwrites a file: name a new one`);
      throw e;
    }
    return { file, bytes: statSync(file).size, ...(copy.appliedRevision ? { appliedRevision: copy.appliedRevision } : {}), ledgerEntries: copy.ledgerEntries };
  } finally {
    rmSync(partial, { force: true });
  }
}
