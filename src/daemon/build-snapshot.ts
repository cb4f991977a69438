import { META_GLOBAL, META_GLOBAL_REVISION, META_REVISION } from "../apply/reconcile-cycle.ts";
import type { GlobalFile } from "../config/model.ts";
import { cursorKey, type CustomerRecord, type ReportName, type StateStore } from "../ports/state-store.ts";
import { customerView, type CustomerView } from "../status/customer-view.ts";
import type { DaemonSnapshot } from "./snapshot.ts";

/**
 * Customer views kept between snapshots. Building one reads the customer's ledger and walks its
 * schedules; in an idle cycle almost none changes, so a view is rebuilt only when its record, its
 * schedule cursors or the global config changed, when a send touched it (`forget`), or when its
 * next due send falls due.
 */
export class ViewCache {
  private readonly views = new Map<string, { sig: string; view: CustomerView; until: number }>();

  get(sig: string, name: string, now: number): CustomerView | undefined {
    const hit = this.views.get(name);
    return hit && hit.sig === sig && now < hit.until ? hit.view : undefined;
  }

  set(sig: string, view: CustomerView): void {
    const pending = view.nextDue.filter((n) => !n.overdue).map((n) => Date.parse(n.due));
    this.views.set(view.name, { sig, view, until: pending.length ? Math.min(...pending) : Infinity });
  }

  forget(name: string): void {
    this.views.delete(name);
  }
}

const REPORTS: readonly ReportName[] = ["billing", "hostedEmailSecurity", "emailSecurity"];

function signature(r: CustomerRecord, cursors: ReadonlyMap<string, string>, global: string | undefined): string {
  const s = r.status;
  return [
    s.state, s.reason, s.since, s.message, r.appliedRevision, r.attemptedRevision, r.observedAt, r.configHash, r.lastError?.at, r.removedAt, global,
    ...REPORTS.map((rep) => cursors.get(cursorKey(r.name, rep))),
  ].join("\u0000");
}

export interface SnapshotInput extends Omit<DaemonSnapshot, "at" | "repo" | "states" | "customers"> {
  store: StateStore;
  cache?: ViewCache;
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
  const globalRevision = store.getMeta(META_GLOBAL_REVISION);
  const customers = store.customers().map((r) => {
    if (!inp.cache) return customerView(r, global, store, cursors, now);
    const sig = signature(r, cursors, globalRevision);
    const cached = inp.cache.get(sig, r.name, now.getTime());
    if (cached) return cached;
    const view = customerView(r, global, store, cursors, now);
    inp.cache.set(sig, view);
    return view;
  });
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
