import { META_GLOBAL, META_REVISION } from "../apply/reconcile-cycle.ts";
import type { GlobalFile } from "../config/model.ts";
import type { ReportName, StateStore } from "../ports/state-store.ts";
import { customerView } from "../status/customer-view.ts";
import type { DaemonSnapshot } from "./snapshot.ts";

export interface SnapshotInput extends Omit<DaemonSnapshot, "at" | "repo" | "states" | "customers"> {
  store: StateStore;
  /** The cycle's now (next due sends are computed at it). */
  now: Date;
  /** The real time of the snapshot. */
  at: Date;
  repo: Omit<DaemonSnapshot["repo"], "applied">;
}

/** What the daemon knows now, from the state store (every customer's view) and the loop's own facts. */
export function buildSnapshot(inp: SnapshotInput): DaemonSnapshot {
  const { store, now } = inp;
  const globalText = store.getMeta(META_GLOBAL);
  const global = globalText ? (JSON.parse(globalText) as GlobalFile) : undefined;
  const cursors = store.cursors();
  const customers = store.customers().map((r) => customerView(r, global, store, cursors, now));
  const states: Record<string, number> = {};
  for (const c of customers) states[c.status.state] = (states[c.status.state] ?? 0) + 1;
  const applied = store.getMeta(META_REVISION);
  return {
    at: inp.at.toISOString(),
    repo: { ...inp.repo, ...(applied ? { applied } : {}) },
    connectwise: { ...inp.connectwise, requests: { ...inp.connectwise.requests } },
    ...(inp.lastReconcile ? { lastReconcile: inp.lastReconcile } : {}),
    ...(inp.nextReconcile ? { nextReconcile: inp.nextReconcile } : {}),
    ...(inp.lastPoll ? { lastPoll: inp.lastPoll } : {}),
    states,
    customers,
  };
}

/** Per report, how late its oldest due but unsent period is, in seconds. */
export function reportLag(snap: DaemonSnapshot, now: Date): Record<ReportName, number> {
  const lag: Record<ReportName, number> = { billing: 0, hostedEmailSecurity: 0, emailSecurity: 0 };
  for (const c of snap.customers) {
    if (c.status.state === "suspended" || c.status.state === "removed") continue;
    for (const n of c.nextDue) {
      if (n.overdue) lag[n.report as ReportName] = Math.max(lag[n.report as ReportName] ?? 0, (now.getTime() - Date.parse(n.due)) / 1000);
    }
  }
  return lag;
}
