import type { LoadResult } from "../config/load.ts";
import type { EffectiveCustomer } from "../config/resolve.ts";
import { cursorKey, type CustomerRecord, type LedgerEntry } from "../ports/state-store.ts";
import { assembleDesired, textHash, type Desired } from "./desired.ts";
import { acting, dueSends, parseCatchUp, skipReason, type LedgerView } from "./plan.ts";
import { scheduleOf } from "./preview.ts";
import { sendsBetween, type Send } from "./schedule.ts";
import { sendKey } from "./send-key.ts";

/** How far back the base revision is taken to have run: longer than any month, so every monthly send has a predecessor. */
const BASE_HISTORY_MS = 62 * 24 * 3600_000;

/** A send that the first reconcile after the merge makes at once, because the new config made it due before `at`. */
export interface AtOnceSend {
  report: string;
  send: Send;
  /** `sent`, or recorded without a ticket: `skipped` (suspended, disabled) or `missed` (older than the detection catch-up window). */
  outcome: "sent" | "skipped" | "missed";
}

export interface ChangeModel {
  /** The base as the reconciler applied it. */
  baseDesired: Desired;
  /** What the first reconcile after the merge acts on: the same assembly as reconcile's, from the base as the last applied revision. */
  desired: Desired;
  /** Per customer, the sends that reconcile makes at once (oldest first). */
  atOnce: ReadonlyMap<string, AtOnceSend[]>;
}

/** The customers a desired state runs on their own config (current or last valid), by name: what a plan compares. */
export function runningCustomers(desired: Desired): Map<string, EffectiveCustomer> {
  const map = new Map<string, EffectiveCustomer>();
  for (const d of desired.customers) if (d.customer && (d.source === "current" || d.source === "last-valid")) map.set(d.name, d.customer);
  return map;
}

export interface ChangeInputs {
  base: LoadResult;
  head: LoadResult;
  at: Date;
  allowMassRemoval?: boolean;
}

/**
 * Pure: what merging `head` over `base` does at `at`, by the reconciler's own rules (DESIGN §6 "One
 * model of what a change does"). The state is the one a daemon that applied `base` and sent everything
 * due until `at` would hold; `head` is then assembled over it (last valid configs, the mass-removal
 * guard) and its sends due at `at` are the ones the merge sends at once.
 */
export function modelChange(inp: ChangeInputs): ChangeModel {
  const historyStart = new Date(inp.at.getTime() - BASE_HISTORY_MS);
  const baseDesired = assembleDesired({ revision: "base", load: inp.base, previous: [], allowMassRemoval: true, now: historyStart });
  const previous: CustomerRecord[] = [];
  const entries = new Map<string, LedgerEntry>();
  const cursors = new Map<string, string>();
  for (const d of baseDesired.customers) {
    if (!acting(d)) continue;
    const since = historyStart.toISOString();
    previous.push({
      name: d.name, file: d.file, appliedRevision: "base", config: d.config, configHash: d.configHash ?? textHash(""),
      firstAppliedAt: since, status: { state: "ready", reason: "ok", message: "", since },
    });
    for (const report of d.customer.reports) {
      const sent = sendsBetween(scheduleOf(report, d.customer), historyStart, new Date(inp.at.getTime() + 1), 10_000);
      for (const s of sent) {
        const key = sendKey(d.name, report.report, s.periodKey);
        const dueAt = s.due.toISOString();
        entries.set(key, { key, customer: d.name, report: report.report, periodKey: s.periodKey, trigger: "schedule", state: "done", dueAt, attempts: 1, createdAt: dueAt, updatedAt: dueAt });
      }
      const last = sent.at(-1);
      if (last) cursors.set(cursorKey(d.name, report.report), last.due.toISOString());
    }
  }
  const ledger: LedgerView = { entries, cursors, unfinished: [] };
  const desired = assembleDesired({
    revision: "head", load: inp.head, previous,
    ...(baseDesired.global ? { lastGlobal: { config: baseDesired.global, revision: "base" } } : {}),
    allowMassRemoval: inp.allowMassRemoval ?? false, now: inp.at,
  });
  const window = parseCatchUp(desired.global?.catchUp?.detections);
  const atOnce = new Map<string, AtOnceSend[]>();
  for (const due of dueSends(desired, ledger, inp.at)) {
    const skipped = skipReason(due.customer.customer, due.send.due) !== undefined;
    const missed = due.report.report !== "billing" && inp.at.getTime() - due.send.due.getTime() > window;
    const list = atOnce.get(due.customer.name) ?? [];
    list.push({ report: due.report.report, send: due.send, outcome: skipped ? "skipped" : missed ? "missed" : "sent" });
    atOnce.set(due.customer.name, list);
  }
  return { baseDesired, desired, atOnce };
}
