import { stateMeta } from "../ports/state-meta.ts";
import type { LoadResult } from "../config/load.ts";
import type { Action } from "../core/actions.ts";
import { assembleDesired, type Desired } from "../core/desired.ts";
import { buildPlan, dueSends, type DueSend, type LedgerView, type Observed, type Plan, type SendNowRequest } from "../core/plan.ts";
import { primaryIssue, withSince, type Issue } from "../core/status.ts";
import type { Clock } from "../ports/clock.ts";
import type { ConnectWise } from "../ports/connectwise.ts";
import type { LicenseSource } from "../ports/license-source.ts";
import { TERMINAL_LEDGER_STATES, cursorKey, isStoredJson, keepStoredJson, type CustomerRecord, type CustomerStatus, type JournalEntry, type LedgerState, type PollCursor, type ReportName, type StateStore } from "../ports/state-store.ts";
import { unclaimedLmpCustomers } from "../core/billing-lines.ts";
import { heldDecreases, type HeldDecrease } from "../core/held-decreases.ts";
import { eventsFor } from "../core/detection-categories.ts";
import type { DetectionData } from "../core/detection-report.ts";
import { pollTargets, SERVICE_OF } from "../core/poll-targets.ts";
import type { DetectionService, DetectionSource } from "../ports/detection-source.ts";
import { pollDetections, type PollResult } from "./poll-detections.ts";
import { applyActions, type Outcome } from "./apply-actions.ts";
import { pruneDetectionsDaily } from "./prune-detections.ts";
import { billingNeeds, observeBilling, observeChecks } from "./observe-cycle.ts";


export interface CycleDeps {
  cw: ConnectWise;
  license: LicenseSource;
  store: StateStore;
  /** Real time, for ledger and journal timestamps (the cycle's `now` may be `--at`). */
  clock: Clock;
  /** The lease's fencing token; absent for a dry run, which writes nothing. */
  token?: number;
  concurrency?: number;
  /** See ApplyDeps.settleMs. */
  settleMs?: number;
  /** One log line for something worth knowing that is no customer's state (a company status the table does not list). */
  notice?: (fields: Record<string, unknown>, message: string) => void;
  /** Email-security sources; absent: detection reports wait for a data source. */
  detections?: Partial<Record<DetectionService, DetectionSource>>;
  signal?: AbortSignal;
}

export interface CycleInput {
  revision: string;
  /** The revision's files loaded; needed unless `desired` is given. */
  load?: LoadResult;
  now: Date;
  allowMassRemoval: boolean;
  dryRun: boolean;
  sendNow?: SendNowRequest;
  /**
   * Only these customers are observed, planned, sent for and stored; the others keep their records
   * as they are (the daemon's cycle when nothing else changed). Absent: every customer.
   */
  scope?: ReadonlySet<string>;
  /** The desired state when the caller has it for this revision already (assembled as this cycle would). */
  desired?: Desired;
  /** Polling failures the caller knows of, shown on their customers when this cycle does not poll itself. */
  pollErrors?: PollResult["errors"];
}

export interface CycleReport {
  revision: string;
  now: Date;
  dryRun: boolean;
  desired: Desired;
  plan: Plan;
  outcomes: Outcome[];
  statuses: Map<string, CustomerStatus>;
  poll?: PollResult;
  /** Per LMP report month read in this cycle, customers in it that no customer file names. */
  unclaimedLmp: { month: string; customers: string[] }[];
}

function ledgerView(store: StateStore, keys: readonly string[], desired: Desired, scope?: ReadonlySet<string>): LedgerView {
  const unfinished = store.unfinishedEntries();
  return {
    entries: new Map(store.ledgerEntries(keys).map((e) => [e.key, e])),
    cursors: store.cursors(),
    unfinished: scope ? unfinished.filter((e) => scope.has(e.customer)) : unfinished,
    held: heldOf(store, desired),
  };
}

/** Entries of a customer looked through for its last billing send: months of daily reports and more. */
const HELD_LOOKBACK = 200;

/** The decreases each billing customer's last billing send held and no one released (`cwsync release`). */
function heldOf(store: StateStore, desired: Desired): Map<string, readonly HeldDecrease[]> {
  const held = new Map<string, readonly HeldDecrease[]>();
  for (const d of desired.customers) {
    if (!d.customer?.reports.some((r) => r.report === "billing")) continue;
    const mine = heldDecreases(store.ledgerOf(d.name, HELD_LOOKBACK));
    if (mine.length > 0) held.set(d.name, mine);
  }
  return held;
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

/** What one cycle acts on: the desired state (all of it, and the part in scope) and its scope. */
interface CycleScope {
  all: Desired;
  desired: Desired;
  scope?: ReadonlySet<string>;
  previous: readonly CustomerRecord[];
}

/** What a cycle saw: ConnectWise, the LMP reports and additions it needs, detections, and the ledger of its due sends. */
interface CycleObservation {
  observed: Observed;
  ledger: LedgerView;
  /** Every send the schedules make due, before the ledger is read (the cursors advance over these). */
  firstPass: DueSend[];
  /** The due sends without a terminal ledger entry. */
  due: DueSend[];
  poll?: PollResult;
}

/** Observe: read ConnectWise and the sources for exactly what is due; poll detections first in a one-shot run. */
async function observe(input: CycleInput, deps: CycleDeps, { desired, scope }: CycleScope): Promise<CycleObservation> {
  const { store, clock } = deps;
  const { now } = input;
  const checks = await observeChecks(deps.cw, desired, deps.signal, deps.notice);
  // two passes: the candidates first, then the ledger entries of exactly those keys
  const firstPass = dueSends(desired, { entries: new Map(), cursors: store.cursors(), unfinished: [] }, now, input.sendNow);
  const ledger = ledgerView(store, firstPass.map((d) => d.key), desired, scope);
  const due = firstPass.flatMap((d) => {
    const entry = ledger.entries.get(d.key);
    return entry && TERMINAL_LEDGER_STATES.includes(entry.state) ? [] : [{ ...d, entry }];
  });
  const billing = await observeBilling(deps.cw, deps.license, billingNeeds(due, checks.checks, desired.global), deps.signal);
  let poll: PollResult | undefined;
  if (deps.detections && deps.token !== undefined && !input.dryRun) {
    // one-shot reconcile polls up to its `now` before planning (DESIGN §8)
    poll = await pollDetections(pollTargets(desired), { sources: deps.detections, store, token: deps.token, now, realNow: () => clock.now(), signal: deps.signal });
  }
  const observed: Observed = { ...checks, ...billing, ...(deps.detections ? { detections: detectionData(due, store, poll, deps.detections) } : {}) };
  return { observed, ledger, firstPass, due, ...(poll ? { poll } : {}) };
}

/** Plan: the pure core's actions and issues, and the LMP customers no file claims. */
function plan(input: CycleInput, { all, desired, scope }: CycleScope, seen: CycleObservation): CycleReport {
  // the plan sees every customer (it sends for the send-now one only): an LMP customer name that
  // another file also claims stays ambiguous for send-now, as it is for the scheduled send
  const planned = buildPlan(scope ? all : desired, seen.observed, seen.ledger, input.now, input.sendNow, seen.due, scope);
  const claimed = all.customers.flatMap((d) => (d.customer ? [d.customer.lmpCustomer] : []));
  const unclaimedLmp = [...seen.observed.licenses].flatMap(([month, rows]) => {
    const customers = Array.isArray(rows) ? unclaimedLmpCustomers(rows, claimed) : [];
    return customers.length ? [{ month, customers }] : [];
  });
  return { revision: input.revision, now: input.now, dryRun: input.dryRun, desired, plan: planned, outcomes: [], statuses: new Map(), unclaimedLmp, ...(seen.poll ? { poll: seen.poll } : {}) };
}

/** A due send as the cursors advance over it. */
interface CursorStep {
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
interface Recordable {
  checks?: Observed["checks"];
  firstPass: readonly CursorStep[];
  poll?: PollResult;
}

/** Observe, then plan: the plan, and only what recording needs of what was seen. */
async function observeAndPlan(input: CycleInput, deps: CycleDeps, cycle: CycleScope): Promise<{ report: CycleReport; seen: Recordable }> {
  const seen = await observe(input, deps, cycle);
  const report = plan(input, cycle, seen);
  const firstPass = seen.firstPass.map((d) => ({ key: d.key, customer: d.customer.name, report: d.report.report, trigger: d.trigger, due: d.send.due.toISOString() }));
  return { report, seen: { checks: seen.observed.checks, firstPass, ...(seen.poll ? { poll: seen.poll } : {}) } };
}

/** Record: statuses, customer records, the applied revision, cursors and the journal, under the lease. */
function record(input: CycleInput, deps: CycleDeps & { token: number }, { desired, scope, previous }: CycleScope, seen: Recordable, report: CycleReport): void {
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

/**
 * One reconcile, in four steps: observe (ConnectWise, the LMP, detections, the ledger), plan (the
 * pure core), apply (the sends, exactly once) and record (statuses, cursors, journal). A dry run,
 * or one without the lease, stops after the plan and writes nothing.
 */
export async function reconcileCycle(input: CycleInput, deps: CycleDeps): Promise<CycleReport> {
  const { store, clock } = deps;
  const { now } = input;
  const previous = store.customers();
  if (!input.desired && !input.load) throw new Error("reconcileCycle needs the revision's files or its desired state");
  const all = input.desired ?? assembleDesired({ revision: input.revision, load: input.load!, previous, lastGlobal: stateMeta(store).lastGlobal(), allowMassRemoval: input.allowMassRemoval, now });
  // send-now acts on its customer only, a scoped cycle on its scope: nothing else is observed, planned or stored
  const scope = input.sendNow ? new Set([input.sendNow.customer]) : input.scope;
  const cycle: CycleScope = { all, desired: scope ? { ...all, customers: all.customers.filter((d) => scope.has(d.name)) } : all, previous, ...(scope ? { scope } : {}) };

  const { report, seen } = await observeAndPlan(input, deps, cycle);
  if (input.dryRun || deps.token === undefined) {
    const prev = new Map(previous.map((r) => [r.name, r.status]));
    for (const d of cycle.desired.customers) report.statuses.set(d.name, withSince(primaryIssue(report.plan.issues.get(d.name) ?? []), prev.get(d.name), now));
    return report;
  }
  const token = deps.token;
  store.appendJournal([{ at: new Date(clock.now()).toISOString(), kind: "reconcile", message: "reconcile started", data: { revision: input.revision, at: now.toISOString(), actions: countKinds(report.plan.actions) } }], token);
  report.outcomes = await applyActions(report.plan.actions, { cw: deps.cw, store, token, clock, concurrency: deps.concurrency, settleMs: deps.settleMs, signal: deps.signal });
  record(input, { ...deps, token }, cycle, seen, report);
  return report;
}

/**
 * How far a send's events are counted. A scheduled report waits until every cursor, which stays
 * CWSYNC_POLL_LAG behind each poll, has passed its period's end, so that late events are in it; a
 * send-now covers its period "so far", up to what this run read.
 */
function polledUntil(d: DueSend, mine: readonly PollCursor[], poll: PollResult | undefined): string {
  const settled = mine.map((c) => c.at).sort()[0];
  if (d.trigger !== "send-now" || !poll || d.report.report === "billing") return settled;
  const service = SERVICE_OF[d.report.report];
  const failed = poll.errors.some((e) => e.customer === d.customer.name && e.service === service);
  return !failed && poll.readTo > settled ? poll.readTo : settled;
}

const POLL_REASONS = new Set(["detections.unavailable", "email-security.unreadable", "email-security.endless-paging"]);

/** The counters, gaps and poll progress behind each due detection send. */
function detectionData(
  due: readonly DueSend[], store: StateStore, poll: PollResult | undefined, sources: Partial<Record<DetectionService, DetectionSource>>,
): Map<string, DetectionData> {
  const cursors = new Map<string, PollCursor[]>();
  for (const c of store.pollCursors()) cursors.set(c.customer, [...(cursors.get(c.customer) ?? []), c]);
  const out = new Map<string, DetectionData>();
  for (const d of due) {
    if (d.report.report === "billing") continue;
    const service = SERVICE_OF[d.report.report];
    if (!sources[service]) continue; // no source for it: the report waits for one
    const customer = d.customer.name;
    const events = eventsFor(d.report.detections ?? []);
    const mine = (cursors.get(customer) ?? []).filter((c) => c.service === service && d.customer.customer.emailDomains.includes(c.domain) && events.includes(c.event));
    const wanted = d.customer.customer.emailDomains.length * events.length;
    const from = d.send.period.start.toISOString();
    const to = d.send.period.end.toISOString();
    out.set(d.key, {
      counts: store.detectionCounts(customer, service, from, to),
      gaps: store.pollGaps(customer, service, from, to),
      // every target must have reached the period's end
      ...(mine.length >= wanted && mine.length > 0 ? { polledUntil: polledUntil(d, mine, poll) } : {}),
      errors: (poll?.errors ?? []).filter((e) => e.customer === customer && e.service === service).map((e) => `${e.domain}: ${e.message}`),
    });
  }
  return out;
}

const LEDGER_READ_BATCH = 500;

/** Per customer and report, the cursor moves over the scheduled sends that reached a terminal ledger state, in order. */
function advanceCursors(due: readonly CursorStep[], store: StateStore): { customer: string; report: ReportName; at: string }[] {
  // a few hundred entries at a time: each comes with its payload (the ticket text), thousands at month-end
  const states = new Map<string, LedgerState>();
  for (let i = 0; i < due.length; i += LEDGER_READ_BATCH) {
    for (const e of store.ledgerEntries(due.slice(i, i + LEDGER_READ_BATCH).map((d) => d.key))) states.set(e.key, e.state);
  }
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

const countKinds = (actions: readonly Action[]) => actions.reduce<Record<string, number>>((m, a) => ((m[a.kind] = (m[a.kind] ?? 0) + 1), m), {});
const countResults = (outcomes: readonly Outcome[]) => outcomes.reduce<Record<string, number>>((m, o) => ((m[o.result] = (m[o.result] ?? 0) + 1), m), {});
