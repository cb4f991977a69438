import { stateMeta } from "../ports/state-meta.ts";
import type { LoadResult } from "../config/load.ts";
import { assembleDesired, type Desired } from "../core/desired.ts";
import { dueSends } from "../core/plan.ts";
import { TERMINAL_LEDGER_STATES, type StateStore } from "../ports/state-store.ts";

/** The desired state of a revision as a reconcile would assemble it (last valid configs from the store). */
export function desiredNow(store: StateStore, inp: { revision: string; load: LoadResult; now: Date; allowMassRemoval: boolean }): Desired {
  return assembleDesired({ ...inp, previous: store.customers(), lastGlobal: stateMeta(store).lastGlobal() });
}

/**
 * Whether a detection report is due and unsent: its cycle then polls first, so the report counts
 * up to its period's end. Other cycles leave polling to the poller's own, longer interval.
 */
export function detectionSendDue(store: StateStore, desired: Desired, now: Date): boolean {
  const due = dueSends(desired, { entries: new Map(), cursors: store.cursors(), unfinished: [] }, now).filter((d) => d.report.report !== "billing");
  if (due.length === 0) return false;
  const states = new Map(store.ledgerEntries(due.map((d) => d.key)).map((e) => [e.key, e.state]));
  return due.some((d) => !TERMINAL_LEDGER_STATES.some((s) => s === states.get(d.key)));
}
