import {
  cursorKey,
  LeaseLostError,
  type CustomerRecord,
  type JournalEntry,
  type LeaseResult,
  type LedgerEntry,
  type LedgerState,
  type ReportName,
  type StateStore,
} from "../../ports/state-store.ts";
import { leaseTakeover, type LeaseRow } from "./lease-rules.ts";
import { immediate, prepare, type DatabaseSync } from "./sqlite-driver.ts";
import {
  countToInput,
  customerToRow,
  minuteAtOrAfter,
  ledgerToRow,
  normalIso,
  pollCursorToRow,
  pollGapToRow,
  rowToCount,
  rowToCustomer,
  rowToJournal,
  rowToLedger,
  rowToPollCursor,
  rowToPollGap,
  toJson,
  type CountRow,
  type CustomerRow,
  type JournalRow,
  type LedgerRow,
  type PollCursorRow,
  type PollGapRow,
} from "./rows.ts";

const CUSTOMER_COLUMNS = [
  "name", "file", "applied_revision", "attempted_revision", "config", "config_hash",
  "first_applied_at", "removed_at", "status", "observed", "observed_at", "last_error",
] as const;
const POLL_CURSOR_COLUMNS = ["customer", "service", "domain", "event", "at", "boundary_ids"] as const;
const POLL_GAP_COLUMNS = ["customer", "service", "domain", "event", "start_at", "end_at", "detected_at"] as const;
const LEDGER_COLUMNS = [
  "key", "customer", "report", "period_key", "trigger", "state", "due_at",
  "payload", "result", "error", "attempts", "created_at", "updated_at",
] as const;

function upsertSql(table: string, columns: readonly string[], keys: readonly string[]): string {
  const updates = columns.filter((c) => !keys.includes(c)).map((c) => `${c} = excluded.${c}`);
  return `INSERT INTO ${table} (${columns.join(", ")}) VALUES (${columns.map((c) => `@${c}`).join(", ")})
    ON CONFLICT (${keys.join(", ")}) DO UPDATE SET ${updates.join(", ")}`;
}

const UNFINISHED = "('open', 'unknown', 'failed')";
/** Series whose old counters one pruning transaction deletes. */
const PRUNE_BATCH = 250;

/** The StateStore over an open, migrated database; `close()` closes `db`. */
export function createSqliteStateStore(db: DatabaseSync, schemaVersion: number): StateStore {
  const q = {
    getMeta: prepare<[string], { value: string }>(db, "SELECT value FROM meta WHERE key = ?"),
    setMeta: prepare<[string, string]>(db, "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"),
    lease: prepare<[], LeaseRow>(db, "SELECT holder, token, acquired_at, expires_at FROM lease WHERE id = 1"),
    takeLease: prepare<[string, string, string]>(db, "UPDATE lease SET holder = ?, token = token + 1, acquired_at = ?, expires_at = ? WHERE id = 1"),
    renewLease: prepare<[string, number]>(db, "UPDATE lease SET expires_at = ? WHERE id = 1 AND token = ? AND holder IS NOT NULL"),
    releaseLease: prepare<[number]>(db, "UPDATE lease SET holder = NULL, acquired_at = NULL, expires_at = NULL WHERE id = 1 AND token = ? AND holder IS NOT NULL"),
    customers: prepare<[], CustomerRow>(db, "SELECT * FROM customers ORDER BY name"),
    customer: prepare<[string], CustomerRow>(db, "SELECT * FROM customers WHERE name = ?"),
    observedOf: prepare<[string], { observed: string | null }>(db, "SELECT observed FROM customers WHERE name = ?"),
    putCustomer: prepare<[CustomerRow]>(db, upsertSql("customers", CUSTOMER_COLUMNS, ["name"])),
    cursors: prepare<[], { customer: string; report: ReportName; at: string }>(db, "SELECT customer, report, at FROM cursors"),
    putCursor: prepare<[string, string, string]>(db, "INSERT INTO cursors (customer, report, at) VALUES (?, ?, ?) ON CONFLICT (customer, report) DO UPDATE SET at = excluded.at"),
    // One JSON array parameter instead of an IN list: any number of keys, one statement, one snapshot.
    ledgerByKeys: prepare<[string], LedgerRow>(db, "SELECT * FROM ledger WHERE key IN (SELECT value FROM json_each(?)) ORDER BY key"),
    ledgerStatesByKeys: prepare<[string], { key: string; state: string }>(db, "SELECT key, state FROM ledger WHERE key IN (SELECT value FROM json_each(?))"),
    unfinished: prepare<[], LedgerRow>(db, `SELECT * FROM ledger WHERE state IN ${UNFINISHED} ORDER BY due_at, key`),
    ledgerOf: prepare<[string, number], LedgerRow>(db, "SELECT * FROM ledger WHERE customer = ? ORDER BY due_at DESC, created_at DESC, key DESC LIMIT ?"),
    putLedger: prepare<[LedgerRow]>(db, upsertSql("ledger", LEDGER_COLUMNS, ["key"])),
    appendJournal: prepare<[string, string | null, string, string, string | null]>(db, "INSERT INTO journal (at, customer, kind, message, data) VALUES (?, ?, ?, ?, ?)"),
    journalAll: prepare<[number], JournalRow>(db, "SELECT * FROM journal ORDER BY seq DESC LIMIT ?"),
    journalOf: prepare<[string, number], JournalRow>(db, "SELECT * FROM journal WHERE customer = ? ORDER BY seq DESC LIMIT ?"),
    pollCursors: prepare<[], PollCursorRow>(db, "SELECT * FROM poll_cursors ORDER BY customer, service, domain, event"),
    putPollCursor: prepare<[PollCursorRow]>(db, upsertSql("poll_cursors", POLL_CURSOR_COLUMNS, ["customer", "service", "domain", "event"])),
    seriesId: prepare<[string, string, string, string], { id: number }>(db, "SELECT id FROM detection_series WHERE customer = ? AND service = ? AND domain = ? AND category = ?"),
    putSeries: prepare<[string, string, string, string]>(db, "INSERT INTO detection_series (customer, service, domain, category) VALUES (?, ?, ?, ?)"),
    addCount: prepare<[number, number, number]>(db, "INSERT INTO detection_counts (series, start_min, count) VALUES (?, ?, ?) ON CONFLICT (series, start_min) DO UPDATE SET count = count + excluded.count"),
    detectionCounts: prepare<[string, string, number, number], CountRow>(db, 
      `SELECT s.domain, s.category, c.start_min AS hour, c.count FROM detection_series s JOIN detection_counts c ON c.series = s.id
        WHERE s.customer = ? AND s.service = ? AND c.start_min >= ? AND c.start_min < ? ORDER BY s.domain, s.category, c.start_min`,
    ),
    putGap: prepare<[PollGapRow]>(db, `INSERT INTO poll_gaps (${POLL_GAP_COLUMNS.join(", ")}) VALUES (${POLL_GAP_COLUMNS.map((c) => `@${c}`).join(", ")})`),
    seriesIds: prepare<[], { id: number }>(db, "SELECT id FROM detection_series ORDER BY id"),
    pruneCounts: prepare<[number, number]>(db, "DELETE FROM detection_counts WHERE series = ? AND start_min < ?"),
    pruneGaps: prepare<[string]>(db, "DELETE FROM poll_gaps WHERE end_at <= ?"),
    pollGaps: prepare<[string, string, string, string], PollGapRow>(db, 
      "SELECT * FROM poll_gaps WHERE customer = ? AND service = ? AND start_at < ? AND end_at > ? ORDER BY start_at, domain, event, end_at",
    ),
  };

  // The lease check and the write share one transaction: a writer that lost the lease between
  // its check and its write would otherwise overwrite the new holder's state. IMMEDIATE takes the
  // write lock before the check reads, so a concurrent commit cannot invalidate what it read.
  const fenced = (token: number, write: () => void): void =>
    immediate(db, () => {
      const lease = q.lease.get()!;
      if (lease.holder === null || lease.token !== token) throw new LeaseLostError(token, lease.holder === null ? undefined : lease.token);
      write();
    });

  // What this connection last read or wrote of `customers` and `cursors`, kept while no other
  // connection commits (SQLite's data_version changes only then): an idle daemon cycle then
  // reads neither table again. Our own cursor writes update the cache after their transaction
  // commits; our own customer writes drop it.
  const dataVersionQuery = prepare<[], { data_version: number }>(db, "PRAGMA data_version");
  const dataVersion = () => dataVersionQuery.get()!.data_version;
  const reread = (name: string) => q.observedOf.get(name)?.observed ?? null;
  let customerCache: { version: number; byName: Map<string, CustomerRecord>; list?: readonly CustomerRecord[] } | undefined;
  let cursorCache: { version: number; map: Map<string, string> } | undefined;
  const freshCustomers = () => {
    const version = dataVersion();
    if (customerCache?.version !== version) {
      // row by row: each row's texts are dropped once its record is made (only a digest of `observed` is kept)
      const list: CustomerRecord[] = [];
      for (const row of q.customers.iterate()) list.push(Object.freeze(rowToCustomer(row, reread)));
      customerCache = { version, byName: new Map(list.map((r) => [r.name, r])), list };
    }
    return customerCache;
  };
  const freshCursors = () => {
    const version = dataVersion();
    if (cursorCache?.version !== version) {
      cursorCache = { version, map: new Map(q.cursors.all().map((c) => [cursorKey(c.customer, c.report), c.at])) };
    }
    return cursorCache;
  };

  const acquire = (holder: string, ttlMs: number, nowMs: number): LeaseResult =>
    immediate(db, () => {
      const lease = q.lease.get()!;
      const why = leaseTakeover(lease, holder, nowMs);
      if (why === undefined) {
        return { ok: false, holder: lease.holder!, acquiredAt: lease.acquired_at ?? "", expiresAt: lease.expires_at ?? "" };
      }
      q.takeLease.run(holder, new Date(nowMs).toISOString(), new Date(nowMs + ttlMs).toISOString());
      // a live lease taken from a holder that no longer runs (exited, a zombie, or from before this boot)
      if (why.startsWith("holder-")) {
        const data = { previous: lease.holder, since: lease.acquired_at, until: lease.expires_at, why: why.slice("holder-".length), by: holder };
        q.appendJournal.run(new Date(nowMs).toISOString(), null, "lease", "lease taken over from a holder that no longer runs", toJson(data));
      }
      return { ok: true, token: lease.token + 1 };
    });

  return {
    schemaVersion,

    getMeta: (key) => q.getMeta.get(key)?.value,
    setMeta: (key, value, token) => fenced(token, () => q.setMeta.run(key, value)),

    acquireLease: acquire,
    renewLease: (token, ttlMs, nowMs) => Number(q.renewLease.run(new Date(nowMs + ttlMs).toISOString(), token).changes) === 1,
    releaseLease: (token) => {
      q.releaseLease.run(token);
    },

    customers: () => {
      const cache = freshCustomers();
      cache.list ??= [...cache.byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      return cache.list;
    },
    customer: (name) => freshCustomers().byName.get(name),
    putCustomers: (records: readonly CustomerRecord[], token) => {
      if (records.length === 0) return;
      // each row's text made as it is written, not all of them first (thousands at month-end: issue 16)
      fenced(token, () => {
        for (const r of records) q.putCustomer.run(customerToRow(r));
      });
      // read again when next asked for, rather than kept from here: a run that wrote thousands of
      // records (month-end billing) would hold their texts and the ones it read to its end (issue 16)
      customerCache = undefined;
    },

    cursors: () => freshCursors().map,
    setCursors: (cursors, token) => {
      if (cursors.length === 0) return;
      const cache = freshCursors();
      fenced(token, () => {
        for (const c of cursors) q.putCursor.run(c.customer, c.report, c.at);
      });
      for (const c of cursors) cache.map.set(cursorKey(c.customer, c.report), c.at);
    },

    ledgerEntries: (keys) => (keys.length === 0 ? [] : q.ledgerByKeys.all(JSON.stringify(keys)).map(rowToLedger)),
    ledgerStates: (keys) => {
      const states = new Map<string, LedgerState>();
      if (keys.length > 0) for (const r of q.ledgerStatesByKeys.all(JSON.stringify(keys))) states.set(r.key, r.state as LedgerState);
      return states;
    },
    unfinishedEntries: () => q.unfinished.all().map(rowToLedger),
    ledgerOf: (customer, limit = 100) => q.ledgerOf.all(customer, limit).map(rowToLedger),
    putLedger: (entry: LedgerEntry, token) => fenced(token, () => q.putLedger.run(ledgerToRow(entry))),

    pollCursors: () => q.pollCursors.all().map(rowToPollCursor),
    commitPoll: ({ cursor, counts, gaps }, token) => {
      // Converted before the transaction: a malformed time or count is a bug and writes nothing.
      const cursorRow = pollCursorToRow(cursor);
      const countInputs = counts.map(countToInput).filter((c) => c.count !== 0);
      const gapRows = gaps.map(pollGapToRow);
      fenced(token, () => {
        const seriesIds = new Map<string, number>();
        for (const c of countInputs) {
          const key = `${c.customer}\u0000${c.service}\u0000${c.domain}\u0000${c.category}`;
          let id = seriesIds.get(key);
          if (id === undefined) {
            id = q.seriesId.get(c.customer, c.service, c.domain, c.category)?.id ?? Number(q.putSeries.run(c.customer, c.service, c.domain, c.category).lastInsertRowid);
            seriesIds.set(key, id);
          }
          q.addCount.run(id, c.hour, c.count);
        }
        q.putPollCursor.run(cursorRow);
        for (const g of gapRows) q.putGap.run(g);
      });
    },
    detectionCounts: (customer, service, from, to) =>
      q.detectionCounts.all(customer, service, minuteAtOrAfter(from, "detectionCounts' from"), minuteAtOrAfter(to, "detectionCounts' to")).map((r) => rowToCount(customer, service, r)),
    pollGaps: (customer, service, from, to) =>
      q.pollGaps.all(customer, service, normalIso(to, "pollGaps' to"), normalIso(from, "pollGaps' from")).map(rowToPollGap),
    pruneDetections: (before, token) => {
      const minute = minuteAtOrAfter(before, "pruneDetections' before");
      const beforeIso = normalIso(before, "pruneDetections' before");
      const ids = q.seriesIds.all().map((r) => r.id);
      let counts = 0;
      let gaps = 0;
      for (let i = 0; i < ids.length; i += PRUNE_BATCH) {
        fenced(token, () => {
          for (const id of ids.slice(i, i + PRUNE_BATCH)) counts += Number(q.pruneCounts.run(id, minute).changes);
        });
      }
      fenced(token, () => {
        gaps = Number(q.pruneGaps.run(beforeIso).changes);
      });
      return { counts, gaps };
    },

    appendJournal: (entries: readonly JournalEntry[], token) =>
      fenced(token, () => {
        for (const e of entries) q.appendJournal.run(e.at, e.customer ?? null, e.kind, e.message, toJson(e.data));
      }),
    journal: (opts = {}) => {
      const limit = opts.limit ?? 100;
      const rows = opts.customer === undefined ? q.journalAll.all(limit) : q.journalOf.all(opts.customer, limit);
      return rows.map(rowToJournal);
    },

    close: () => {
      db.close();
    },
  };
}
