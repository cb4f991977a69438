import { stateMeta } from "../ports/state-meta.ts";
import type { DueSend, Observed } from "../core/plan.ts";
import { primaryIssue, withSince, type Issue } from "../core/status.ts";
import { TERMINAL_LEDGER_STATES, cursorKey, isStoredJson, keepStoredJson, type CustomerRecord, type JournalEntry, type ReportName, type StateStore } from "../ports/state-store.ts";
import type { PollResult } from "./poll-detections.ts";
import type { Outcome } from "./apply-actions.ts";
import { pruneDetectionsDaily } from "./prune-detections.ts";
import type { CycleDeps, CycleInput, CycleReport, CycleScope } from "./reconcile-cycle.ts";

// The last step of a reconcile (reconcile-cycle.ts): what the cycle saw and did, written under the lease.

/** A due send as the cursors advance over it. */
export interface CursorStep {
  key: string;
  customer: string;
  report: ReportName;
  trigger: DueSend["trigger"];
  /** ISO UTC. */
  due: string;
}

/**
 * What recording needs of the observation: the checks, the polling and the cursor steps. The LMP
 * rows, additions and due sends are not kept while the sends are applied (issue 16: at 5,000
 * billing customers they are megabytes held for the whole apply).
 */
export interface Recordable {
  checks?: Observed["checks"];
  firstPass: readonly CursorStep[];
  poll?: PollResult;
}

/** Record: statuses, customer records, the applied revision, cursors and the journal, under the lease. */
export function recordCycle(input: CycleInput, deps: CycleDeps & { token: number }, { desired, scope, previous }: CycleScope, seen: Recordable, report: CycleReport): void {
  const { store, clock, token } = deps;
  const { now } = input;
  const whole = !scope;
  const stamp = () => new Date(clock.now()).toISOString();
  const failures = outcomeIssues(report.outcomes);
  // a polling failure is shown at once, even with no report due: events older than 72 hours are lost
  for (const e of seen.poll ? seen.poll.errors : (input.pollErrors ?? []).filter((e) => !scope || scope.has(e.customer))) {
    const list = failures.get(e.customer) ?? [];
    // one polling issue per customer: the first failure says what to do
    if (!list.some((i) => POLL_REASONS.has(i.reason))) {
      list.push({ state: "failing", reason: e.reason ?? "detections.unavailable", message: `polling ${e.service === "tmes" ? "Trend Micro Email Security" : "Hosted Email Security"} failed for ${e.domain}: ${e.message}` });
    }
    failures.set(e.customer, list);
  }
  const byName = new Map(previous.map((r) => [r.name, r]));
  const records: CustomerRecord[] = [];
  const journal: JournalEntry[] = [];
  for (const d of desired.customers) {
    const prev = byName.get(d.name);
    // what went wrong in this run comes first among issues of the same state
    const issue = primaryIssue([...(failures.get(d.name) ?? []), ...(report.plan.issues.get(d.name) ?? [])]);
    const status = withSince(issue, prev?.status, now);
    report.statuses.set(d.name, status);
    // the record keeps the message without hints read from the ledger: the same in the run that sent as after it
    const recordedStatus = issue.recorded === undefined ? status : { ...status, message: issue.recorded };
    const checksOf = seen.checks?.get(d.name);
    const applied = d.source === "current" || d.source === "last-valid" || d.source === "removal-held";
    const fromPrev = !applied && prev !== undefined;
    // observedAt says since when ConnectWise has looked like this: an unchanged record is not rewritten
    const checksText = checksOf && JSON.stringify(checksOf);
    const seenNew = checksOf !== undefined && !isStoredJson(prev, "observed", checksText);
    const next: CustomerRecord = {
      name: d.name,
      file: d.file,
      attemptedRevision: input.sendNow ? (prev?.attemptedRevision ?? input.revision) : input.revision,
      ...(applied && d.config ? { appliedRevision: d.revision, config: d.config, configHash: d.configHash, firstAppliedAt: d.firstAppliedAt.toISOString() } : {}),
      ...(fromPrev ? { appliedRevision: prev.appliedRevision, configHash: prev.configHash, firstAppliedAt: prev.firstAppliedAt } : {}),
      ...(d.source === "removed" ? { removedAt: prev?.removedAt ?? now.toISOString() } : {}),
      status: recordedStatus,
      ...(seenNew ? { observed: checksOf, observedAt: now.toISOString() } : { observedAt: prev?.observedAt ?? now.toISOString() }),
      ...(issue.state === "failing" ? { lastError: { at: now.toISOString(), message: issue.message } } : prev?.lastError ? { lastError: prev.lastError } : {}),
    };
    // what is kept of the stored record is taken from it when written (parsing it only then)
    if (fromPrev && !isStoredJson(prev, "config", undefined)) keepFrom(next, "config", prev);
    if (!seenNew) {
      if (prev && !isStoredJson(prev, "observed", undefined)) keepFrom(next, "observed", prev);
      else if (checksOf !== undefined) next.observed = checksOf;
    }
    if (!prev || !sameRecord(next, prev, { config: fromPrev || isStoredJson(prev, "config", applied && d.config ? JSON.stringify(d.config) : undefined), observed: !seenNew })) records.push(next);
    if (!prev || prev.status.state !== status.state || prev.status.reason !== status.reason) {
      journal.push({ at: stamp(), customer: d.name, kind: "state", message: "state changed", data: { from: prev?.status.state, to: status.state, reason: status.reason, detail: status.message } });
    }
  }
  for (const o of report.outcomes) {
    journal.push({ at: stamp(), customer: o.customer, kind: o.result === "failed" ? "error" : "send", message: `send ${o.result}`, data: { key: o.key, report: o.report, periodKey: o.periodKey, ticketId: o.ticketId, message: o.message, lines: o.lines } });
  }
  store.putCustomers(records, token);
  const meta = stateMeta(store);
  if (whole && !desired.globalProblem && desired.global && meta.globalRevision() !== input.revision) {
    meta.setLastGlobal(desired.global, input.revision, token);
  }
  if (whole && meta.appliedRevision() !== input.revision) meta.setAppliedRevision(input.revision, token);
  store.setCursors(advanceCursors(seen.firstPass, store), token);
  // a one-shot reconcile run from cron keeps the state from growing, as the daemon does
  const pruned = whole ? pruneDetectionsDaily(store, token, now, () => desired.global) : undefined;
  if (pruned && pruned.counts + pruned.gaps > 0) {
    journal.push({ at: stamp(), kind: "reconcile", message: "old detection counters deleted", data: pruned });
  }
  journal.push({ at: stamp(), kind: "reconcile", message: "reconcile finished", data: { revision: input.revision, outcomes: countResults(report.outcomes) } });
  store.appendJournal(journal, token);
}

function outcomeIssues(outcomes: readonly Outcome[]): Map<string, Issue[]> {
  const m = new Map<string, Issue[]>();
  for (const o of outcomes) {
    if (o.result !== "failed" && o.result !== "unknown") continue;
    const issue: Issue = o.result === "failed"
      ? { state: "failing", reason: "send.failed", message: `${o.report} ${o.periodKey} failed: ${o.message ?? "unknown error"} — retried on the next reconcile` }
      : { state: "pending", reason: "send.unresolved", message: `${o.report} ${o.periodKey}: ${o.message ?? "outcome unknown"}` };
    m.set(o.customer, [...(m.get(o.customer) ?? []), issue]);
  }
  return m;
}

const POLL_REASONS = new Set(["detections.unavailable", "email-security.unreadable", "email-security.endless-paging"]);

/** Per customer and report, the cursor moves over the scheduled sends that reached a terminal ledger state, in order. */
function advanceCursors(due: readonly CursorStep[], store: StateStore): { customer: string; report: ReportName; at: string }[] {
  // the states only: an entry's payload is its ticket text, thousands of them at month-end (issue 16:
  // read 500 entries at a time they still grew the heap by ~20 MiB at the run's end)
  const states = store.ledgerStates(due.map((d) => d.key));
  const blocked = new Set<string>();
  const out = new Map<string, { customer: string; report: ReportName; at: string }>();
  for (const d of due) {
    if (d.trigger !== "schedule") continue;
    const k = cursorKey(d.customer, d.report);
    if (blocked.has(k)) continue;
    const state = states.get(d.key);
    if (state && TERMINAL_LEDGER_STATES.includes(state)) out.set(k, { customer: d.customer, report: d.report, at: d.due });
    else blocked.add(k);
  }
  // a cursor already there is not written again
  const cursors = store.cursors();
  for (const [k, c] of out) if (cursors.get(k) === c.at) out.delete(k);
  return [...out.values()];
}

/** The fields of a record other than `config` and `observed` (those are compared as stored JSON text). */
const PLAIN_FIELDS = ["name", "file", "appliedRevision", "attemptedRevision", "configHash", "firstAppliedAt", "removedAt", "status", "observedAt", "lastError"] as const;

/**
 * Whether the record a cycle would store says what the stored one says: an unchanged record is
 * not rewritten (a no-op writes nothing). `same` tells whether `config` and `observed` are the
 * stored ones, found by comparing JSON text, so that neither is parsed for it.
 */
function sameRecord(r: CustomerRecord, p: CustomerRecord, same: { config: boolean; observed: boolean }): boolean {
  if (!same.config || !same.observed) return false;
  const plain = (x: CustomerRecord) => JSON.stringify(PLAIN_FIELDS.map((k) => x[k] ?? null));
  return plain(r) === plain(p);
}

/**
 * `record[field]` read from `from` when first read (the stored record parses it then); written as
 * the stored text, so a record that changed elsewhere is stored without parsing it (issue 16: at
 * month-end, thousands of records change status and keep what ConnectWise showed).
 */
function keepFrom(record: CustomerRecord, field: "config" | "observed", from: CustomerRecord): void {
  Object.defineProperty(record, field, { enumerable: true, configurable: true, get: () => from[field] });
  keepStoredJson(record, field, from);
}

const countResults = (outcomes: readonly Outcome[]) => outcomes.reduce<Record<string, number>>((m, o) => ((m[o.result] = (m[o.result] ?? 0) + 1), m), {});
