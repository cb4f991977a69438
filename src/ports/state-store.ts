/**
 * cwsync's durable state: revisions and last valid config per customer, statuses, observed
 * ConnectWise data, the send ledger, schedule cursors and an append-only journal. One writer at
 * a time: every write takes the fencing token of the lease it holds and fails with
 * `LeaseLostError` when another writer has taken the lease since. Implemented with SQLite (WAL)
 * by `adapters/state-sqlite/`. Times are ISO-8601 UTC strings supplied by the caller (the store
 * never reads a clock), except the lease, which runs on the real clock passed as `nowMs`.
 */

import type { DetectionService, PolicyEventKind } from "./detection-source.ts";

export type ReportName = "billing" | "hostedEmailSecurity" | "emailSecurity";

/** The primary states of DESIGN §6 by precedence, plus `removed` for a deleted customer file. */
export type CustomerState = "suspended" | "invalid" | "failing" | "degraded" | "pending" | "ready" | "removed";

export interface CustomerStatus {
  state: CustomerState;
  /** A stable reason code, e.g. `company.not-found`, `config.invalid`, `ok`. */
  reason: string;
  message: string;
  /** `file:line:col`, for `invalid`. */
  location?: string;
  /** When the customer entered this state and reason. */
  since: string;
}

export interface CustomerRecord {
  name: string;
  /** Repository-relative path of the customer file, e.g. `customers/acme-corp.yaml`. */
  file: string;
  /** The revision whose config of this customer is in use (its last valid one). */
  appliedRevision?: string;
  /** The newest revision looked at, valid or not. */
  attemptedRevision?: string;
  /** The last valid customer file, parsed (a `CustomerFile`). */
  config?: unknown;
  /** sha256 (hex) of the text of that file: `send-now` compares the working copy against it. */
  configHash?: string;
  /** When a reconcile first applied this customer: its history starts there (DESIGN §8). */
  firstAppliedAt?: string;
  /** Set when its file was deleted and the removal applied. */
  removedAt?: string;
  status: CustomerStatus;
  /** What ConnectWise showed at the last observation (company, agreements), as JSON. */
  observed?: unknown;
  observedAt?: string;
  lastError?: { at: string; message: string };
}

/**
 * Where a store keeps, on the records it returns, the JSON text it read their `config` and
 * `observed` from (a non-enumerable property), or for a long text only its digest and a way to
 * read it again (`StoredText`): a caller compares a new value with it without parsing the old one
 * (the SQLite store parses those two fields only when read).
 */
export const STORED_JSON: unique symbol = Symbol.for("cwsync.customerRecord.storedJson");

/** A stored JSON text the store does not hold in memory (thousands of records' would be megabytes: issue 16). */
export interface StoredText {
  /** Whether `text` is the stored text (by digest). */
  matches(text: string): boolean;
  /** The text, read again from the store. */
  read(): string | undefined;
}

type RecordField = "config" | "observed";
type StoredTexts = { [STORED_JSON]?: Partial<Record<RecordField, string | StoredText>> };

const keptOf = (r: CustomerRecord, field: RecordField): { kept: string | StoredText | undefined } | undefined => {
  const kept = (r as StoredTexts)[STORED_JSON];
  return kept && field in kept ? { kept: kept[field] } : undefined;
};

/** The JSON text of a record's `config` or `observed` as stored (or as it would be): undefined when absent. */
export function storedJson(r: CustomerRecord | undefined, field: RecordField): string | undefined {
  if (!r) return undefined;
  const k = keptOf(r, field);
  if (!k) return JSON.stringify(r[field]);
  return typeof k.kept === "object" ? k.kept.read() : k.kept;
}

/** Whether `text` (undefined: absent) is the JSON text `r` stores as `field`, without reading a text kept as a digest. */
export function isStoredJson(r: CustomerRecord | undefined, field: RecordField, text: string | undefined): boolean {
  if (!r) return text === undefined;
  const k = keptOf(r, field);
  if (!k) return JSON.stringify(r[field]) === text;
  return typeof k.kept === "object" ? text !== undefined && k.kept.matches(text) : k.kept === text;
}

/**
 * Says that `record[field]` is `from[field]` as stored: `storedJson` and a store writing `record`
 * take `from`'s text as it is, without parsing it or writing it out again. For a record that keeps
 * a field of a stored one; the field must not be changed after.
 */
export function keepStoredJson(record: CustomerRecord, field: RecordField, from: CustomerRecord): void {
  const holder = record as StoredTexts;
  if (!Object.hasOwn(holder, STORED_JSON)) Object.defineProperty(holder, STORED_JSON, { value: {} });
  holder[STORED_JSON]![field] = keptOf(from, field)?.kept ?? JSON.stringify(from[field]);
}

export type LedgerState =
  /** Written before the remote calls; left open by a crash. */
  | "open"
  /** A remote outcome is unknown (timeout, reset after sending): resolved by looking, never by sending blind. */
  | "unknown"
  /** Refused by the remote (nothing was created); retried on the next reconcile. */
  | "failed"
  | "done"
  /** Fell due longer ago than its catch-up window: recorded and shown, not sent. */
  | "missed"
  /** Fell due while suspended or disabled: never sent later. */
  | "skipped";

export const TERMINAL_LEDGER_STATES: readonly LedgerState[] = ["done", "missed", "skipped"];

export interface LedgerEntry {
  /** The send key `cws-` + 10 hex digits (customer, report, period): unique. */
  key: string;
  customer: string;
  report: ReportName;
  periodKey: string;
  trigger: "schedule" | "send-now";
  state: LedgerState;
  /** When the send fell due (for send-now: when it was asked for). */
  dueAt: string;
  /** What is being sent (quantities, ticket summary), fixed when the entry is first written. */
  payload?: unknown;
  /** What the remote side returned (ticket id, addition ids). */
  result?: unknown;
  error?: string;
  attempts: number;
  createdAt: string;
  updatedAt: string;
}

export type JournalKind = "reconcile" | "revision" | "send" | "state" | "error" | "lease";

export interface JournalEntry {
  /** Assigned by the store, increasing. */
  seq?: number;
  at: string;
  customer?: string;
  kind: JournalKind;
  /** A constant sentence; the specifics go in `data`. */
  message: string;
  data?: unknown;
}

export type LeaseResult =
  | { ok: true; token: number }
  | { ok: false; holder: string; acquiredAt: string; expiresAt: string };

/** Thrown by a write whose fencing token is no longer the lease's: another writer took over. */
export class LeaseLostError extends Error {
  constructor(readonly token: number, readonly current: number | undefined) {
    super(`the state lease was taken over by another cwsync (token ${current ?? "none"}, ours ${token}); this run stops writing`);
    this.name = "LeaseLostError";
  }
}

/** How far one (customer, service, domain, event kind) has been polled. */
export interface PollCursor {
  customer: string;
  service: DetectionService;
  domain: string;
  event: PolicyEventKind;
  /** Polled up to this instant (exclusive), ISO UTC. */
  at: string;
  /** Message ids counted in the last second before `at`: skipped if a later window serves them again. */
  boundaryIds: string[];
}

/** Events of one category, one domain, one UTC hour. */
export interface DetectionCount {
  customer: string;
  service: DetectionService;
  domain: string;
  /** A category, `other:<event>`, or `unknown:<type/subtype>` (shown, not part of totals). */
  category: string;
  /**
   * The start of the customer's local hour, ISO UTC (`2027-01-04T07:00:00.000Z`; `…T06:30:00.000Z`
   * in a +05:30 zone), on a whole minute; times are ISO-8601 UTC with `Z` throughout.
   */
  hour: string;
  count: number;
}

/** A span whose events were lost: polling resumed after the 72-hour look-back had passed it. */
export interface PollGap {
  customer: string;
  service: DetectionService;
  domain: string;
  event: PolicyEventKind;
  start: string;
  end: string;
  /** When the gap was found. */
  detectedAt: string;
}

export interface StateStore {
  /** The schema version after migrations. */
  readonly schemaVersion: number;

  getMeta(key: string): string | undefined;
  setMeta(key: string, value: string, token: number): void;

  /**
   * Takes the single-writer lease when it is free, expired, or held by a process of this host
   * that no longer runs (`holder` is `pid@host`). Each successful take increments the fencing token.
   */
  acquireLease(holder: string, ttlMs: number, nowMs: number): LeaseResult;
  /** Extends the lease; false when it is no longer ours. */
  renewLease(token: number, ttlMs: number, nowMs: number): boolean;
  releaseLease(token: number): void;

  /** Every customer by name. The records are shared and must not be changed (an adapter may cache them). */
  customers(): readonly CustomerRecord[];
  customer(name: string): CustomerRecord | undefined;
  /** Upserts in one transaction. */
  putCustomers(records: readonly CustomerRecord[], token: number): void;

  /** Cursor per customer and report: every send due at or before it has a terminal ledger entry. */
  cursors(): ReadonlyMap<string, string>;
  setCursors(cursors: readonly { customer: string; report: ReportName; at: string }[], token: number): void;

  /** Entries with these keys (missing keys are absent from the result). */
  ledgerEntries(keys: readonly string[]): LedgerEntry[];
  /** The state of each entry with one of these keys, without its payload (missing keys are absent). */
  ledgerStates(keys: readonly string[]): Map<string, LedgerState>;
  /** Entries in state open, unknown or failed, oldest first. */
  unfinishedEntries(): LedgerEntry[];
  /** A customer's entries, newest first. */
  ledgerOf(customer: string, limit?: number): LedgerEntry[];
  /** Inserts or replaces by key. */
  putLedger(entry: LedgerEntry, token: number): void;

  pollCursors(): PollCursor[];
  /**
   * One poll's result in one transaction: the counts are ADDED to the stored ones (upsert),
   * the cursor replaced, the gaps appended. A crash before it commits loses nothing: the next
   * poll starts from the old cursor.
   */
  commitPoll(poll: { cursor: PollCursor; counts: readonly DetectionCount[]; gaps: readonly PollGap[] }, token: number): void;
  /** Counts of one customer and service with `from <= hour < to`. */
  detectionCounts(customer: string, service: DetectionService, from: string, to: string): DetectionCount[];
  /** Gaps of one customer and service overlapping `[from, to)`. */
  pollGaps(customer: string, service: DetectionService, from: string, to: string): PollGap[];
  /**
   * Deletes the counters of hours starting before `before` and the gaps ending at or before it
   * (a few hundred series per transaction, so that no write waits long); returns how many rows.
   */
  pruneDetections(before: string, token: number): { counts: number; gaps: number };

  appendJournal(entries: readonly JournalEntry[], token: number): void;
  /** Newest first; one customer's or all. */
  journal(opts?: { customer?: string; limit?: number }): JournalEntry[];

  /**
   * Checks that the state can be used now (integrity, a committed write, free space), throwing the
   * state's own error when it cannot: the daemon probes before each step while the state is
   * unavailable, and resumes when this passes. Absent: always usable (test doubles).
   */
  probe?(): void;
  close(): void;
}

export const cursorKey = (customer: string, report: ReportName) => `${customer}\u0000${report}`;
