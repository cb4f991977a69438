import { immediate, pragma, type DatabaseSync } from "./sqlite-driver.ts";
import { StateError } from "../../errors.ts";

export interface Migration {
  /** The `user_version` the database has after this migration. */
  version: number;
  up: (db: DatabaseSync) => void;
}

/** Append only: a released migration never changes, a new one gets the next version. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    up: (db) =>
      db.exec(`
        CREATE TABLE meta (
          key   TEXT PRIMARY KEY,
          value TEXT NOT NULL
        );
        CREATE TABLE lease (
          id          INTEGER PRIMARY KEY CHECK (id = 1),
          holder      TEXT,
          token       INTEGER NOT NULL,
          acquired_at TEXT,
          expires_at  TEXT
        );
        INSERT INTO lease (id, holder, token) VALUES (1, NULL, 0);
        CREATE TABLE customers (
          name               TEXT PRIMARY KEY,
          file               TEXT NOT NULL,
          applied_revision   TEXT,
          attempted_revision TEXT,
          config             TEXT,
          config_hash        TEXT,
          first_applied_at   TEXT,
          removed_at         TEXT,
          status             TEXT NOT NULL,
          observed           TEXT,
          observed_at        TEXT,
          last_error         TEXT
        );
        CREATE TABLE cursors (
          customer TEXT NOT NULL,
          report   TEXT NOT NULL,
          at       TEXT NOT NULL,
          PRIMARY KEY (customer, report)
        );
        CREATE TABLE ledger (
          key        TEXT PRIMARY KEY,
          customer   TEXT NOT NULL,
          report     TEXT NOT NULL,
          period_key TEXT NOT NULL,
          trigger    TEXT NOT NULL,
          state      TEXT NOT NULL,
          due_at     TEXT NOT NULL,
          payload    TEXT,
          result     TEXT,
          error      TEXT,
          attempts   INTEGER NOT NULL,
          created_at TEXT NOT NULL,
          updated_at TEXT NOT NULL
        );
        CREATE INDEX ledger_customer ON ledger (customer);
        CREATE INDEX ledger_state ON ledger (state);
        CREATE TABLE journal (
          seq      INTEGER PRIMARY KEY AUTOINCREMENT,
          at       TEXT NOT NULL,
          customer TEXT,
          kind     TEXT NOT NULL,
          message  TEXT NOT NULL,
          data     TEXT
        );
        CREATE INDEX journal_customer ON journal (customer);
      `),
  },
  {
    // Email-security detections. detection_counts gets a row per series and UTC hour (a month
    // of 1,000 customers × 2 domains × 4 categories is ~5.8 M rows), so its rows hold only a
    // series id, the hour's start as an integer (minutes since 1970: a customer's local hour starts at :30 or :45 in some zones) and the count, in a WITHOUT ROWID
    // table keyed by (series, hour): ~15 bytes a row, against ~100 with the names and an ISO
    // hour in every row. detection_series stores the names once.
    version: 2,
    up: (db) =>
      db.exec(`
        CREATE TABLE poll_cursors (
          customer     TEXT NOT NULL,
          service      TEXT NOT NULL,
          domain       TEXT NOT NULL,
          event        TEXT NOT NULL,
          at           TEXT NOT NULL,
          boundary_ids TEXT NOT NULL,
          PRIMARY KEY (customer, service, domain, event)
        ) WITHOUT ROWID;
        CREATE TABLE detection_series (
          id       INTEGER PRIMARY KEY,
          customer TEXT NOT NULL,
          service  TEXT NOT NULL,
          domain   TEXT NOT NULL,
          category TEXT NOT NULL,
          UNIQUE (customer, service, domain, category)
        );
        CREATE TABLE detection_counts (
          series INTEGER NOT NULL REFERENCES detection_series (id),
          start_min INTEGER NOT NULL,
          count  INTEGER NOT NULL,
          PRIMARY KEY (series, start_min)
        ) WITHOUT ROWID;
        CREATE TABLE poll_gaps (
          customer    TEXT NOT NULL,
          service     TEXT NOT NULL,
          domain      TEXT NOT NULL,
          event       TEXT NOT NULL,
          start_at    TEXT NOT NULL,
          end_at      TEXT NOT NULL,
          detected_at TEXT NOT NULL
        );
        CREATE INDEX poll_gaps_customer ON poll_gaps (customer, service);
      `),
  },
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** Meta key naming the cwsync that last migrated the schema: the version a newer-schema error asks for. */
export const WRITTEN_BY_KEY = "schema.writtenBy";

/**
 * Brings the schema to `LATEST_SCHEMA_VERSION` in one IMMEDIATE transaction, so two processes
 * opening a fresh directory at once migrate it once. Refuses a schema newer than this code knows:
 * writing to it could corrupt state that a newer cwsync relies on.
 */
export function migrate(db: DatabaseSync, where: string, appVersion: string): number {
  return immediate(db, () => {
    const current = pragma(db, "user_version") as number;
    if (current > LATEST_SCHEMA_VERSION) throw newerSchemaError(db, where, current, appVersion);
    for (const m of MIGRATIONS) if (m.version > current) m.up(db);
    if (current < LATEST_SCHEMA_VERSION) {
      db.exec(`PRAGMA user_version = ${LATEST_SCHEMA_VERSION}`);
      db.prepare("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(WRITTEN_BY_KEY, appVersion);
    }
    return LATEST_SCHEMA_VERSION;
  });
}

function newerSchemaError(db: DatabaseSync, where: string, found: number, appVersion: string): StateError {
  let writtenBy: string | undefined;
  try {
    const row = db.prepare("SELECT value FROM meta WHERE key = ?").get(WRITTEN_BY_KEY) as { value: string } | undefined;
    writtenBy = row?.value;
  } catch {
    // A future schema may have moved meta; the message then names the schema version only.
  }
  const by = writtenBy ? `cwsync ${writtenBy}` : "a newer cwsync";
  const need = writtenBy ? `cwsync ${writtenBy} or newer` : `a cwsync that knows state schema ${found}`;
  return new StateError(
    `the state in ${where} was written by ${by} (state schema ${found}); this cwsync ${appVersion} knows state schema up to ${LATEST_SCHEMA_VERSION}. ` +
      `Run ${need} on this state directory, or point this one at another state directory.`,
  );
}
