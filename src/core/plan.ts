import type { EffectiveCustomer, EffectiveReport } from "../config/resolve.ts";
import type { Addition } from "../ports/connectwise.ts";
import type { LicenseRow } from "../ports/license-source.ts";
import { TERMINAL_LEDGER_STATES, cursorKey, type LedgerEntry } from "../ports/state-store.ts";
import type { Action, BillingSend, ReportSend, TicketSend } from "./actions.ts";
import { incompleteNote, reportDescription, reportTable, type DetectionData } from "./detection-report.ts";
import { billingDescription, billingLine } from "./billing-lines.ts";
import type { CustomerChecks } from "./connectwise-checks.ts";
import type { Desired, DesiredCustomer } from "./desired.ts";
import type { HeldDecrease } from "./held-decreases.ts";
import { connectwiseReason, customerIssues } from "./issues.ts";
import { scheduleOf, suspendedUntil } from "./preview.ts";
import { sendsBetween, type ReportSchedule, type Send } from "./schedule.ts";
import { reportTitle, sendKey, ticketSummary } from "./send-key.ts";
import type { Issue } from "./status.ts";
import { monthOf, seatsMonthOf } from "./seats-month.ts";

export interface Observed {
  /** ConnectWise checks per customer; absent when ConnectWise could not be read. */
  checks?: ReadonlyMap<string, CustomerChecks>;
  connectwiseError?: string;
  /** LMP summary rows per report month `YYYY-MM`, or why they could not be read (`reason` default `license.unavailable`). */
  licenses: ReadonlyMap<string, readonly LicenseRow[] | { error: string; reason?: string }>;
  /** Live additions per agreement id (read only for agreements billed in this cycle), or the error. */
  additions: ReadonlyMap<number, readonly Addition[] | { error: string }>;
  /** The counters of each due detection send, by send key; absent when no detection source is configured. */
  detections?: ReadonlyMap<string, DetectionData>;
}

export interface LedgerView {
  /** Entries for the keys in question (at least every candidate send's). */
  entries: ReadonlyMap<string, LedgerEntry>;
  cursors: ReadonlyMap<string, string>;
  /** Every open, unknown or failed entry. */
  unfinished: readonly LedgerEntry[];
  /** Per customer, the decreases its last billing send held and no one released yet (absent: none). */
  held?: ReadonlyMap<string, readonly HeldDecrease[]>;
}

/** A `send-now`: sent even when not due, each report as its own ledger entry; nothing scheduled is sent with it. */
export interface SendNowRequest {
  customer: string;
  reports: readonly EffectiveReport["report"][];
  /** The instant it was asked for (the command's `now`). */
  at: Date;
}

/** A send the schedule (or send-now) makes due now, before deciding what to do with it. */
export interface DueSend {
  customer: DesiredCustomer & { customer: EffectiveCustomer };
  report: EffectiveReport;
  send: Send;
  key: string;
  trigger: LedgerEntry["trigger"];
  entry?: LedgerEntry;
}

export interface Plan {
  actions: Action[];
  /** Per customer, what the plan found wrong or notable (statuses are chosen from these after apply). */
  issues: Map<string, Issue[]>;
}

export const DEFAULT_DETECTION_CATCH_UP_MS = 7 * 24 * 3600_000;
/** A safety net: far more sends than any schedule can owe after a long outage. */
const MAX_SENDS_PER_REPORT = 1000;

export function parseCatchUp(text: string | undefined): number {
  const m = text ? /^(\d+)([hd])$/.exec(text) : null;
  if (!m) return DEFAULT_DETECTION_CATCH_UP_MS;
  return Number(m[1]) * (m[2] === "h" ? 3600_000 : 24 * 3600_000);
}

const isTerminal = (e: LedgerEntry | undefined) => e !== undefined && TERMINAL_LEDGER_STATES.includes(e.state);

export const acting = (d: DesiredCustomer): d is DesiredCustomer & { customer: EffectiveCustomer } =>
  d.customer !== undefined && (d.source === "current" || d.source === "last-valid" || d.source === "removal-held");


/** The sends due at `now` that have no terminal ledger entry yet, oldest first per report. */
export function dueSends(desired: Desired, ledger: LedgerView, now: Date, sendNow?: SendNowRequest): DueSend[] {
  const out: DueSend[] = [];
  const until = new Date(now.getTime() + 1);
  for (const d of desired.customers) {
    if (!acting(d)) continue;
    if (sendNow) {
      if (sendNow.customer === d.name) out.push(...forcedSends(d, ledger, sendNow));
      continue;
    }
    for (const report of d.customer.reports) {
      const cursor = ledger.cursors.get(cursorKey(d.name, report.report));
      // history starts when the customer was (last) applied, whatever an older cursor says
      const from = new Date(Math.max(cursor ? new Date(cursor).getTime() + 1 : 0, d.firstAppliedAt.getTime()));
      for (const send of sendsBetween(scheduleOf(report, d.customer), from, until, MAX_SENDS_PER_REPORT)) {
        const key = sendKey(d.name, report.report, send.periodKey);
        const entry = ledger.entries.get(key);
        if (!isTerminal(entry)) out.push({ customer: d, report, send, key, trigger: "schedule", entry });
      }
    }
  }
  return out;
}

function forcedSends(d: DesiredCustomer & { customer: EffectiveCustomer }, ledger: LedgerView, req: SendNowRequest): DueSend[] {
  return d.customer.reports.filter((r) => req.reports.includes(r.report)).map((report) => {
    const key = sendKey(d.name, report.report, `now@${req.at.toISOString()}`);
    const send = report.report === "billing"
      ? { due: req.at, periodKey: monthOf(req.at, d.customer.timezone), period: { start: req.at, end: req.at } }
      : currentPeriod(scheduleOf(report, d.customer), req.at);
    return { customer: d, report, send, key, trigger: "send-now" as const, entry: ledger.entries.get(key) };
  });
}

/** The period holding `at`, cut at `at`: what a detection send-now reports ("so far"). */
export function currentPeriod(s: ReportSchedule, at: Date): Send {
  const around = sendsBetween(s, new Date(at.getTime() - 400 * 24 * 3600_000), new Date(at.getTime() + 400 * 24 * 3600_000), 2000);
  const holding = around.find((x) => x.period.start <= at && at < x.period.end) ?? around.find((x) => x.due > at);
  const start = holding && holding.period.start <= at ? holding.period.start : at;
  return { due: at, periodKey: holding?.periodKey ?? at.toISOString().slice(0, 16) + "Z", period: { start, end: at } };
}

export function skipReason(c: EffectiveCustomer, due: Date): string | undefined {
  if (!c.enabled) return "integration.disabled";
  if (!c.suspend) return undefined;
  const end = suspendedUntil(c);
  return end === undefined || due < end ? "suspended" : undefined;
}

/** LMP customer names claimed by more than one acting customer file. */
function claimedTwice(desired: Desired): Set<string> {
  const seen = new Map<string, number>();
  for (const d of desired.customers) {
    if (!acting(d)) continue;
    const k = d.customer.lmpCustomer.replace(/\s+/g, " ").trim().toLowerCase();
    seen.set(k, (seen.get(k) ?? 0) + 1);
  }
  return new Set([...seen].filter(([, n]) => n > 1).map(([k]) => k));
}

interface Ctx {
  desired: Desired;
  observed: Observed;
  now: Date;
  twice: Set<string>;
}


function billingAction(due: DueSend, ctx: Ctx): Action {
  const c = due.customer.customer;
  const base = { key: due.key, customer: c.name, report: "billing" as const, periodKey: due.send.periodKey, due: due.send.due.toISOString() };
  const checks = ctx.observed.checks?.get(c.name);
  if (!checks) {
    return { ...base, kind: "wait", reason: connectwiseReason(ctx.observed.connectwiseError), message: `ConnectWise could not be read: ${ctx.observed.connectwiseError ?? "no observation"}` };
  }
  if (checks.company.state !== "found") {
    return { ...base, kind: "wait", reason: `company.${checks.company.state}`, message: `billing ${due.send.periodKey} waits: company ${c.companyId} is ${checks.company.state.replace("-", " ")} in ConnectWise` };
  }
  const month = seatsMonthOf(c, due.report, due.send.due);
  const rows = ctx.observed.licenses.get(month);
  if (!rows || !Array.isArray(rows)) {
    const failed = rows as { error: string; reason?: string } | undefined;
    return { ...base, kind: "wait", reason: failed?.reason ?? "license.unavailable", message: `the LMP report for ${month} could not be read: ${failed?.error ?? "not fetched"}` };
  }
  if (rows.length === 0) {
    // a month being billed has customers in it: no rows at all is a report not generated yet, never "nothing to bill"
    return { ...base, kind: "wait", reason: "lmpi.empty-report", message: `the LMP report for ${month} has no rows (not generated yet?): billing ${due.send.periodKey} is retried at the next reconcile` };
  }
  const additions = new Map<number, readonly Addition[]>();
  for (const m of checks.mappings) {
    if (m.state !== "resolved" || !c.reports.find((r) => r.report === "billing")?.products?.includes(m.product)) continue;
    const got = ctx.observed.additions.get(m.agreements[0].id);
    if (!got || !Array.isArray(got)) {
      return { ...base, kind: "wait", reason: connectwiseReason((got as { error: string } | undefined)?.error), message: `the additions of agreement #${m.agreements[0].id} could not be read: ${(got as { error: string } | undefined)?.error ?? "not fetched"}` };
    }
    additions.set(m.agreements[0].id, got);
  }
  const global = ctx.desired.global!;
  const day = due.send.due.toISOString().slice(0, 10);
  const lines = (due.report.products ?? []).map((p) =>
    billingLine(p, { customer: c, global, checks, rows, additions, claimedTwice: ctx.twice.has(c.lmpCustomer.replace(/\s+/g, " ").trim().toLowerCase()), day }),
  );
  const sendNow = due.trigger === "send-now";
  const title = sendNow ? "Billing (send now)" : reportTitle("billing", due.report.spec);
  const action: BillingSend = {
    ...base, kind: "billing", trigger: due.trigger, resume: false,
    companyId: checks.company.company.id, companyIdentifier: checks.company.company.identifier,
    board: global.connectwise.tickets.board,
    ...(global.connectwise.tickets.status ? { status: global.connectwise.tickets.status } : {}),
    summary: ticketSummary(title, due.send.periodKey, c.displayName, due.key),
    description: "",
    lines,
  };
  return textWhenRead(action, billingText(c, due.send.periodKey, lines, { month, seatsFrom: due.report.seatsFrom }, sendNow ? `Sent on request (send-now) at ${due.send.due.toISOString()}.` : undefined));
}

/**
 * `send.description` written out each time it is read (the ledger entry, the ticket, the output),
 * not kept: at month-end, thousands of ticket texts held from the plan to the report (issue 16).
 * It stays where it stood among the fields (the JSON output and the ledger payload are unchanged).
 */
function textWhenRead<T extends TicketSend>(send: T, text: () => string): T {
  Object.defineProperty(send, "description", { get: text, enumerable: true, configurable: true });
  return send;
}

// The texts' functions are made here, not in billingAction or reportAction: a closure made there would
// hold what every closure there holds (V8 gives them one context), the observation read for the plan too.

function billingText(...args: Parameters<typeof billingDescription>): () => string {
  return () => billingDescription(...args);
}

function reportText(...args: Parameters<typeof reportDescription>): () => string {
  return () => reportDescription(...args);
}

function reportAction(due: DueSend, ctx: Ctx): Action {
  const c = due.customer.customer;
  const report = due.report.report as "hostedEmailSecurity" | "emailSecurity";
  const base = { key: due.key, customer: c.name, report, periodKey: due.send.periodKey, due: due.send.due.toISOString() };
  const what = `${report} ${due.send.periodKey}`;
  const data = ctx.observed.detections?.get(due.key);
  if (!data) {
    return { ...base, kind: "wait", reason: "report.waiting-for-data-source", message: `${what} is ${due.trigger === "send-now" ? "requested" : "due"}, but no ${report === "emailSecurity" ? "Trend Micro Email Security" : "Hosted Email Security"} source is configured — nothing is sent` };
  }
  const checks = ctx.observed.checks?.get(c.name);
  if (!checks) return { ...base, kind: "wait", reason: connectwiseReason(ctx.observed.connectwiseError), message: `ConnectWise could not be read: ${ctx.observed.connectwiseError ?? "no observation"}` };
  if (checks.company.state !== "found") {
    return { ...base, kind: "wait", reason: `company.${checks.company.state}`, message: `${what} waits: company ${c.companyId} is ${checks.company.state.replace("-", " ")} in ConnectWise` };
  }
  const end = due.send.period.end;
  if (!data.polledUntil || Date.parse(data.polledUntil) < end.getTime()) {
    const failing = data.errors.length > 0;
    return {
      ...base, kind: "wait", reason: failing ? "detections.unavailable" : "detections.polling",
      message: failing ? `${what} waits: polling failed — ${data.errors[0]}` : `${what} waits until its events are polled up to ${end.toISOString()}`,
    };
  }
  const table = reportTable(c, due.report, data.counts);
  const note = incompleteNote(data.gaps, due.send.period.start, end, c.timezone);
  const global = ctx.desired.global!;
  const partial = due.trigger === "send-now";
  const title = reportTitle(report, due.report.spec) + (partial ? " (so far)" : "");
  return textWhenRead<ReportSend>({
    ...base, kind: "report", trigger: due.trigger, resume: false,
    companyId: checks.company.company.id, companyIdentifier: checks.company.company.identifier,
    board: global.connectwise.tickets.board,
    ...(global.connectwise.tickets.status ? { status: global.connectwise.tickets.status } : {}),
    summary: ticketSummary(title, due.send.periodKey, c.displayName, due.key),
    description: "",
    start: due.send.period.start.toISOString(), end: end.toISOString(),
    counts: table.rows.flatMap((r) => r.perDomain.map((count, i) => ({ category: r.category, domain: table.domains[i], count }))),
    total: table.total,
    ...(note ? { incomplete: note } : {}),
  }, reportText(c, due.report, due.send.periodKey, due.send.period.start, end, table, note, partial));
}

function actionFor(due: DueSend, ctx: Ctx): Action {
  const c = due.customer.customer;
  const base = { key: due.key, customer: c.name, report: due.report.report, periodKey: due.send.periodKey, due: due.send.due.toISOString() };
  const skip = skipReason(c, due.send.due);
  if (skip && due.trigger === "schedule") return { ...base, kind: "record", state: "skipped", reason: skip };
  if (skip) return { ...base, kind: "wait", reason: skip, message: `${skip === "suspended" ? `${c.name} is suspended (${c.suspend?.reason})` : "connectwise.enabled is false"}` };
  if (due.report.report !== "billing") {
    const window = parseCatchUp(ctx.desired.global?.catchUp?.detections);
    if (due.trigger === "schedule" && ctx.now.getTime() - due.send.due.getTime() > window) {
      return { ...base, kind: "record", state: "missed", reason: "catch-up.expired" };
    }
    return reportAction(due, ctx);
  }
  return billingAction(due, ctx);
}

/**
 * Pure: desired state + observed state + ledger + now → actions. An unfinished ledger entry is
 * resumed from its stored payload (the same quantities, looking before creating); a due send
 * becomes a billing send, a recorded skip or miss, or a wait with a reason.
 */
export function buildPlan(
  desired: Desired, observed: Observed, ledger: LedgerView, now: Date, sendNow?: SendNowRequest,
  /** `dueSends(desired, ledger, now, sendNow)` when the caller has it already (the schedules are the costly part). */
  due: readonly DueSend[] = dueSends(desired, ledger, now, sendNow),
  /** Plan for these customers only (the others are still seen, e.g. for LMP names claimed twice). */
  only?: ReadonlySet<string>,
): Plan {
  const ctx: Ctx = { desired, observed, now, twice: claimedTwice(desired) };
  const actions: Action[] = [];
  const planned = new Set<string>();
  for (const e of ledger.unfinished) {
    if (!e.payload || (sendNow && e.customer !== sendNow.customer) || (only && !only.has(e.customer))) continue;
    actions.push({ ...(e.payload as TicketSend), resume: true });
    planned.add(e.key);
  }
  for (const d of due) {
    if (planned.has(d.key)) continue;
    planned.add(d.key);
    actions.push(actionFor(d, ctx));
  }
  const byCustomer = new Map<string, Action[]>();
  for (const a of actions) byCustomer.set(a.customer, [...(byCustomer.get(a.customer) ?? []), a]);
  const issues = new Map<string, Issue[]>();
  for (const d of desired.customers) {
    if (!only || only.has(d.name)) issues.set(d.name, customerIssues(d, desired, observed, byCustomer.get(d.name) ?? [], now, ledger.held?.get(d.name)));
  }
  return { actions, issues };
}
