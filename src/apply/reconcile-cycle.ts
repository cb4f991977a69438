import { stateMeta } from "../ports/state-meta.ts";
import type { LoadResult } from "../config/load.ts";
import type { Action } from "../core/actions.ts";
import { assembleDesired, type Desired } from "../core/desired.ts";
import { buildPlan, dueSends, type DueSend, type LedgerView, type Observed, type Plan, type SendNowRequest } from "../core/plan.ts";
import { primaryIssue, withSince } from "../core/status.ts";
import type { Clock } from "../ports/clock.ts";
import type { ConnectWise } from "../ports/connectwise.ts";
import type { LicenseSource } from "../ports/license-source.ts";
import { TERMINAL_LEDGER_STATES, type CustomerRecord, type CustomerStatus, type PollCursor, type StateStore } from "../ports/state-store.ts";
import { unclaimedLmpCustomers } from "../core/billing-lines.ts";
import { heldDecreases, type HeldDecrease } from "../core/held-decreases.ts";
import { eventsFor } from "../core/detection-categories.ts";
import type { DetectionData } from "../core/detection-report.ts";
import { pollTargets, SERVICE_OF } from "../core/poll-targets.ts";
import type { DetectionService, DetectionSource } from "../ports/detection-source.ts";
import { pollDetections, type PollResult } from "./poll-detections.ts";
import { applyActions, type Outcome } from "./apply-actions.ts";
import { billingNeeds, observeBilling, observeChecks } from "./observe-cycle.ts";
import { recordCycle, type Recordable } from "./record-cycle.ts";


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

/** What one cycle acts on: the desired state (all of it, and the part in scope) and its scope. */
export interface CycleScope {
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

/** Observe, then plan: the plan, and only what recording needs of what was seen. */
async function observeAndPlan(input: CycleInput, deps: CycleDeps, cycle: CycleScope): Promise<{ report: CycleReport; seen: Recordable }> {
  const seen = await observe(input, deps, cycle);
  const report = plan(input, cycle, seen);
  const firstPass = seen.firstPass.map((d) => ({ key: d.key, customer: d.customer.name, report: d.report.report, trigger: d.trigger, due: d.send.due.toISOString() }));
  return { report, seen: { checks: seen.observed.checks, firstPass, ...(seen.poll ? { poll: seen.poll } : {}) } };
}

/** The desired state of a revision's loaded files, assembled against the stored records as a cycle does. */
export function desiredOf(input: Pick<CycleInput, "revision" | "now" | "allowMassRemoval"> & { load: LoadResult }, store: StateStore): Desired {
  const { revision, load, now, allowMassRemoval } = input;
  return assembleDesired({ revision, load, previous: store.customers(), lastGlobal: stateMeta(store).lastGlobal(), allowMassRemoval, now });
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
  const all = input.desired ?? desiredOf({ ...input, load: input.load! }, store);
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
  recordCycle(input, { ...deps, token }, cycle, seen, report);
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

const countKinds = (actions: readonly Action[]) => actions.reduce<Record<string, number>>((m, a) => ((m[a.kind] = (m[a.kind] ?? 0) + 1), m), {});
