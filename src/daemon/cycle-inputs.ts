import type { Desired } from "../core/desired.ts";
import { dueSends } from "../core/plan.ts";
import { TERMINAL_LEDGER_STATES, type StateStore } from "../ports/state-store.ts";

/**
 * Whether a detection report is due and unsent: its cycle then polls first, so the report counts
 * up to its period's end. Other cycles leave polling to the poller's own, longer interval.
 */
export function detectionSendDue(store: StateStore, desired: Desired, now: Date): boolean {
  const due = dueSends(desired, { entries: new Map(), cursors: store.cursors(), unfinished: [] }, now).filter((d) => d.report.report !== "billing");
  if (due.length === 0) return false;
  const states = store.ledgerStates(due.map((d) => d.key));
  return due.some((d) => !TERMINAL_LEDGER_STATES.some((s) => s === states.get(d.key)));
}
