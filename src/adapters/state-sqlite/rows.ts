import type { CustomerRecord, JournalEntry, LedgerEntry } from "../../ports/state-store.ts";

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
  config: toJson(c.config),
  config_hash: c.configHash ?? null,
  first_applied_at: c.firstAppliedAt ?? null,
  removed_at: c.removedAt ?? null,
  status: JSON.stringify(c.status),
  observed: toJson(c.observed),
  observed_at: c.observedAt ?? null,
  last_error: toJson(c.lastError),
});

export const rowToCustomer = (r: CustomerRow): CustomerRecord =>
  defined({
    name: r.name,
    file: r.file,
    appliedRevision: opt(r.applied_revision),
    attemptedRevision: opt(r.attempted_revision),
    config: fromJson(r.config),
    configHash: opt(r.config_hash),
    firstAppliedAt: opt(r.first_applied_at),
    removedAt: opt(r.removed_at),
    status: JSON.parse(r.status) as CustomerRecord["status"],
    observed: fromJson(r.observed),
    observedAt: opt(r.observed_at),
    lastError: fromJson(r.last_error) as CustomerRecord["lastError"],
  });

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
