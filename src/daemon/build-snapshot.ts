import { stateMeta } from "../ports/state-meta.ts";
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
  private readonly views = new Map<string, { sig: Signature; view: CustomerView; until: number }>();
  /** The last snapshot's rows, reused while nothing was written and nothing fell due since. */
  private last?: { list: readonly CustomerRecord[]; global?: string; customers: CustomerView[]; states: Record<string, number>; until: number };

  /** The rows of the last snapshot, when they still hold: the same record list, global config, and nothing due since. */
  rows(list: readonly CustomerRecord[], global: string | undefined, now: number): { customers: CustomerView[]; states: Record<string, number> } | undefined {
    const l = this.last;
    return l && l.list === list && l.global === global && now < l.until ? l : undefined;
  }

  keepRows(list: readonly CustomerRecord[], global: string | undefined, customers: CustomerView[], states: Record<string, number>): void {
    let until = Infinity;
    for (const c of customers) until = Math.min(until, this.views.get(c.name)?.until ?? -Infinity);
    this.last = { list, global, customers, states, until };
  }

  /** Something was written (a cycle, a send): the next snapshot compares every row again. */
  touch(): void {
    this.last = undefined;
  }

  get(sig: Signature, name: string, now: number): CustomerView | undefined {
    const hit = this.views.get(name);
    return hit && sameSignature(hit.sig, sig) && now < hit.until ? hit.view : undefined;
  }

  set(sig: Signature, view: CustomerView): void {
    const pending = view.nextDue.filter((n) => !n.overdue).map((n) => Date.parse(n.due));
    this.views.set(view.name, { sig, view, until: pending.length ? Math.min(...pending) : Infinity });
  }

  forget(name: string): void {
    this.views.delete(name);
    this.last = undefined;
  }
}

const REPORTS: readonly ReportName[] = ["billing", "hostedEmailSecurity", "emailSecurity"];

/**
 * What a view is built from: the record (the store hands out the same object until it is
 * written, and a rewritten one equal in every field shown is a hit too), the global config's
 * revision, and the customer's cursors. Compared field by field, without building a string.
 */
export type Signature = readonly unknown[];

const sameSignature = (a: Signature, b: Signature) => a.length === b.length && a.every((x, i) => x === b[i]);

function signature(r: CustomerRecord, cursors: ReadonlyMap<string, string>, global: string | undefined): Signature {
  const s = r.status;
  return [
    s.state, s.reason, s.since, s.message, r.appliedRevision, r.attemptedRevision, r.observedAt, r.configHash, r.lastError?.at, r.removedAt, global,
    ...REPORTS.map((rep) => cursors.get(cursorKey(r.name, rep))),
  ];
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
  const list = store.customers();
  const meta = stateMeta(store);
  const globalRevision = meta.globalRevision();
  let rows = inp.cache?.rows(list, globalRevision, now.getTime());
  if (!rows) {
    const global = meta.lastGlobal()?.config;
    const cursors = store.cursors();
    const customers = list.map((r) => {
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
    inp.cache?.keepRows(list, globalRevision, customers, states);
    rows = { customers, states };
  }
  const { customers, states } = rows;
  const applied = meta.appliedRevision();
  return {
    at: inp.at.toISOString(),
    repo: { ...inp.repo, ...(applied ? { applied } : {}) },
    connectwise: { ...inp.connectwise, requests: { ...inp.connectwise.requests } },
    ...(inp.unavailable?.length ? { unavailable: inp.unavailable } : {}),
    ...(inp.lastReconcile ? { lastReconcile: inp.lastReconcile } : {}),
    ...(inp.nextReconcile ? { nextReconcile: inp.nextReconcile } : {}),
    ...(inp.lastPoll ? { lastPoll: inp.lastPoll } : {}),
    states,
    customers,
  };
}

/** Per report, how late its oldest due but unsent period is, in seconds. */
export function reportLag(snap: Pick<DaemonSnapshot, "customers">, now: Date): Record<ReportName, number> {
  const lag: Record<ReportName, number> = { billing: 0, hostedEmailSecurity: 0, emailSecurity: 0 };
  for (const n of overdueOf(snap.customers)) lag[n.report] = Math.max(lag[n.report] ?? 0, (now.getTime() - n.due) / 1000);
  return lag;
}

const overdue = new WeakMap<readonly CustomerView[], { report: ReportName; due: number }[]>();

/** The overdue sends of these rows (kept per rows array: a snapshot reusing its rows reuses them). */
function overdueOf(rows: readonly CustomerView[]): { report: ReportName; due: number }[] {
  let out = overdue.get(rows);
  if (!out) {
    out = [];
    for (const c of rows) {
      if (c.status.state === "suspended" || c.status.state === "removed") continue;
      for (const n of c.nextDue) if (n.overdue) out.push({ report: n.report as ReportName, due: Date.parse(n.due) });
    }
    overdue.set(rows, out);
  }
  return out;
}
