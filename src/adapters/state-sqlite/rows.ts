import { createHash } from "node:crypto";
import { InternalError } from "../../errors.ts";
import type { DetectionService, PolicyEventKind } from "../../ports/detection-source.ts";
import { STORED_JSON, storedJson, type CustomerRecord, type StoredText, type DetectionCount, type JournalEntry, type LedgerEntry, type PollCursor, type PollGap } from "../../ports/state-store.ts";

// SQL NULL stands for "absent" and JSON text for any present value (even `null`), so an
// optional field that was undefined comes back absent and every present value comes back equal.
export const toJson = (value: unknown): string | null => (value === undefined ? null : JSON.stringify(value));
const fromJson = (text: string | null): unknown => (text === null ? undefined : JSON.parse(text));

/** Copies the entries whose value is not undefined, so absent fields stay absent. */
function defined<T extends object>(obj: T): T {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as T;
}
const opt = (v: string | null): string | undefined => v ?? undefined;

export interface CustomerRow {
  name: string;
  file: string;
  applied_revision: string | null;
  attempted_revision: string | null;
  config: string | null;
  config_hash: string | null;
  first_applied_at: string | null;
  removed_at: string | null;
  status: string;
  observed: string | null;
  observed_at: string | null;
  last_error: string | null;
}

export const customerToRow = (c: CustomerRecord): CustomerRow => ({
  name: c.name,
  file: c.file,
  applied_revision: c.appliedRevision ?? null,
  attempted_revision: c.attemptedRevision ?? null,
  // the stored text when the record kept it (no parse and write-out of what did not change)
  config: storedJson(c, "config") ?? null,
  config_hash: c.configHash ?? null,
  first_applied_at: c.firstAppliedAt ?? null,
  removed_at: c.removedAt ?? null,
  status: JSON.stringify(c.status),
  observed: storedJson(c, "observed") ?? null,
  observed_at: c.observedAt ?? null,
  last_error: toJson(c.lastError),
});

const digest = (text: string) => createHash("sha256").update(text).digest("base64");

/**
 * `observed` kept as its digest, read again by `reread` (the row's current text) when needed: the
 * text itself, ~2.6 KB a customer, would be held by every record for as long as the record is.
 * A record read before another process rewrote its row reads the newer observation.
 */
function storedText(text: string, name: string, reread: (name: string) => string | null): StoredText {
  // nothing here may hold `text` (or the row it came from)
  const mine = digest(text);
  const length = text.length;
  return {
    matches: (t) => t.length === length && digest(t) === mine,
    read: () => reread(name) ?? undefined,
  };
}

/**
 * A stored customer, as the store returns it. `config` and `observed` (most of a row's bytes) are
 * parsed when first read: a no-op reconcile reads neither for an unchanged customer, and compares
 * new values with the stored text (`storedJson`, `isStoredJson`) instead. With `reread` (the row's
 * `observed` read again by name), the record keeps only a digest of `observed`'s text.
 */
export function rowToCustomer(r: CustomerRow, reread?: (name: string) => string | null): CustomerRecord {
  const out = {} as Record<string, unknown>;
  const put = (key: string, value: unknown) => {
    if (value !== undefined) out[key] = value;
  };
  const lazy = (key: string, text: string | StoredText | null) => {
    if (text === null) return;
    let value: unknown;
    let parsed = false;
    Object.defineProperty(out, key, {
      enumerable: true,
      get: () => {
        if (!parsed) {
          const t = typeof text === "string" ? text : text.read();
          value = t === undefined ? undefined : JSON.parse(t);
          parsed = true;
        }
        return value;
      },
    });
  };
  const observed = r.observed !== null && reread ? storedText(r.observed, r.name, reread) : r.observed;
  // the fields in the order they always had
  put("name", r.name);
  put("file", r.file);
  put("appliedRevision", opt(r.applied_revision));
  put("attemptedRevision", opt(r.attempted_revision));
  lazy("config", r.config);
  put("configHash", opt(r.config_hash));
  put("firstAppliedAt", opt(r.first_applied_at));
  put("removedAt", opt(r.removed_at));
  put("status", JSON.parse(r.status));
  lazy("observed", observed);
  put("observedAt", opt(r.observed_at));
  put("lastError", fromJson(r.last_error));
  Object.defineProperty(out, STORED_JSON, { value: { config: r.config ?? undefined, observed: observed ?? undefined } });
  return out as unknown as CustomerRecord;
}

export interface LedgerRow {
  key: string;
  customer: string;
  report: string;
  period_key: string;
  trigger: string;
  state: string;
  due_at: string;
  payload: string | null;
  result: string | null;
  error: string | null;
  attempts: number;
  created_at: string;
  updated_at: string;
}

export const ledgerToRow = (e: LedgerEntry): LedgerRow => ({
  key: e.key,
  customer: e.customer,
  report: e.report,
  period_key: e.periodKey,
  trigger: e.trigger,
  state: e.state,
  due_at: e.dueAt,
  payload: toJson(e.payload),
  result: toJson(e.result),
  error: e.error ?? null,
  attempts: e.attempts,
  created_at: e.createdAt,
  updated_at: e.updatedAt,
});

export const rowToLedger = (r: LedgerRow): LedgerEntry =>
  defined({
    key: r.key,
    customer: r.customer,
    report: r.report as LedgerEntry["report"],
    periodKey: r.period_key,
    trigger: r.trigger as LedgerEntry["trigger"],
    state: r.state as LedgerEntry["state"],
    dueAt: r.due_at,
    payload: fromJson(r.payload),
    result: fromJson(r.result),
    error: opt(r.error),
    attempts: r.attempts,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  });

export interface JournalRow {
  seq: number;
  at: string;
  customer: string | null;
  kind: string;
  message: string;
  data: string | null;
}

export const rowToJournal = (r: JournalRow): JournalEntry =>
  defined({
    seq: r.seq,
    at: r.at,
    customer: opt(r.customer),
    kind: r.kind as JournalEntry["kind"],
    message: r.message,
    data: fromJson(r.data),
  });

const MINUTE_MS = 60_000;
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

// Without the trailing Z, Date.parse reads a time in the local zone: only UTC forms are accepted.
function instantMs(iso: string, what: string): number {
  const ms = ISO_UTC.test(iso) ? Date.parse(iso) : Number.NaN;
  if (Number.isNaN(ms)) throw new InternalError(`${what} must be an ISO-8601 UTC time such as 2027-01-04T07:00:00.000Z, but is ${JSON.stringify(iso)}`);
  return ms;
}

/**
 * The `toISOString()` form of an ISO UTC time. Poll times are stored in this one form, so SQL
 * compares them as text correctly (`…07:00Z` and `…07:00:00.000Z` would not compare as equal).
 */
export const normalIso = (iso: string, what: string): string => new Date(instantMs(iso, what)).toISOString();

/** The first whole minute (minutes since 1970) at or after `iso`: `start >= it` is `bucket's start >= iso`. */
export const minuteAtOrAfter = (iso: string, what: string): number => Math.ceil(instantMs(iso, what) / MINUTE_MS);

export interface PollCursorRow {
  customer: string;
  service: string;
  domain: string;
  event: string;
  at: string;
  boundary_ids: string;
}

export const pollCursorToRow = (c: PollCursor): PollCursorRow => ({
  customer: c.customer,
  service: c.service,
  domain: c.domain,
  event: c.event,
  at: normalIso(c.at, "a poll cursor's at"),
  boundary_ids: JSON.stringify(c.boundaryIds),
});

export const rowToPollCursor = (r: PollCursorRow): PollCursor => ({
  customer: r.customer,
  service: r.service as DetectionService,
  domain: r.domain,
  event: r.event as PolicyEventKind,
  at: r.at,
  boundaryIds: JSON.parse(r.boundary_ids) as string[],
});

/** A count with its hour's start as minutes since 1970, the form `detection_counts` stores. */
export interface CountInput {
  customer: string;
  service: string;
  domain: string;
  category: string;
  hour: number;
  count: number;
}

export function countToInput(c: DetectionCount): CountInput {
  const ms = instantMs(c.hour, "a detection count's hour");
  if (ms % MINUTE_MS !== 0) throw new InternalError(`a detection count's hour must start on a whole minute, such as 2027-01-04T07:00:00.000Z or 2027-01-04T06:30:00.000Z, but is ${c.hour}`);
  // A negative or fractional count would corrupt a sum that is billed on; it is a caller's bug.
  if (!Number.isSafeInteger(c.count) || c.count < 0) throw new InternalError(`a detection count must be a whole number >= 0, but is ${c.count} (${c.customer} ${c.domain} ${c.category} ${c.hour})`);
  return { customer: c.customer, service: c.service, domain: c.domain, category: c.category, hour: ms / MINUTE_MS, count: c.count };
}

export interface CountRow {
  domain: string;
  category: string;
  hour: number;
  count: number;
}

export const rowToCount = (customer: string, service: DetectionService, r: CountRow): DetectionCount => ({
  customer,
  service,
  domain: r.domain,
  category: r.category,
  hour: new Date(r.hour * MINUTE_MS).toISOString(),
  count: r.count,
});

export interface PollGapRow {
  customer: string;
  service: string;
  domain: string;
  event: string;
  start_at: string;
  end_at: string;
  detected_at: string;
}

export const pollGapToRow = (g: PollGap): PollGapRow => ({
  customer: g.customer,
  service: g.service,
  domain: g.domain,
  event: g.event,
  start_at: normalIso(g.start, "a poll gap's start"),
  end_at: normalIso(g.end, "a poll gap's end"),
  detected_at: normalIso(g.detectedAt, "a poll gap's detectedAt"),
});

export const rowToPollGap = (r: PollGapRow): PollGap => ({
  customer: r.customer,
  service: r.service as DetectionService,
  domain: r.domain,
  event: r.event as PolicyEventKind,
  start: r.start_at,
  end: r.end_at,
  detectedAt: r.detected_at,
});
