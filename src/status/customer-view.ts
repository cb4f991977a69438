import type { CustomerFile, GlobalFile } from "../config/model.ts";
import { resolveCustomer } from "../config/resolve.ts";
import type { CustomerChecks } from "../core/connectwise-checks.ts";
import { heldDecreases } from "../core/held-decreases.ts";
import { scheduleOf } from "../core/preview.ts";
import { nextSends } from "../core/schedule.ts";
import { sendKey } from "../core/send-key.ts";
import { TERMINAL_LEDGER_STATES, cursorKey, type CustomerRecord, type CustomerStatus, type LedgerEntry, type StateStore } from "../ports/state-store.ts";

export interface CustomerView {
  name: string;
  file: string;
  status: CustomerStatus;
  appliedRevision?: string;
  attemptedRevision?: string;
  company?: { identifier: string; state: string; id?: number; name?: string };
  agreements: { product: string; state: string; agreement?: string; message: string }[];
  nextDue: { report: string; periodKey: string; due: string; overdue: boolean }[];
  lastSend?: { report: string; periodKey: string; key: string; at: string; ticketId?: number };
  lastError?: { at: string; message: string };
  unfinished: { key: string; report: string; periodKey: string; state: string; error?: string }[];
  missed: { report: string; periodKey: string; reason?: string }[];
  /** Decreases held (decreases: hold) in the last billing send: they wait for a human. */
  heldDecreases: { periodKey: string; product: string; previous?: number; quantity?: number }[];
}

/** What `status` shows of one customer: read from the state store only (no network). */
export function customerView(r: CustomerRecord, global: GlobalFile | undefined, store: StateStore, cursors: ReadonlyMap<string, string>, now: Date): CustomerView {
  const checks = r.observed as CustomerChecks | undefined;
  const ledger = store.ledgerOf(r.name, 200);
  const view: CustomerView = {
    name: r.name, file: r.file, status: r.status,
    appliedRevision: r.appliedRevision, attemptedRevision: r.attemptedRevision,
    agreements: (checks?.mappings ?? []).map((m) => ({ product: m.product, state: m.state, ...(m.state === "resolved" ? { agreement: m.agreements[0]?.name } : {}), message: m.message })),
    nextDue: [],
    heldDecreases: [],
    ...(r.lastError ? { lastError: r.lastError } : {}),
    unfinished: ledger.filter((e) => !TERMINAL_LEDGER_STATES.includes(e.state)).map((e) => ({ key: e.key, report: e.report, periodKey: e.periodKey, state: e.state, ...(e.error ? { error: e.error } : {}) })),
    missed: ledger.filter((e) => e.state === "missed").slice(0, 20).map((e) => ({ report: e.report, periodKey: e.periodKey, reason: (e.result as { reason?: string } | undefined)?.reason })),
  };
  if (checks?.company) {
    const c = checks.company;
    view.company = c.state === "not-found" ? { identifier: c.identifier, state: c.state } : { identifier: c.company.identifier, state: c.state, id: c.company.id, name: c.company.name };
  }
  // those released since (`cwsync release`) are no longer held
  view.heldDecreases = heldDecreases(ledger).map((h) => ({ periodKey: h.periodKey, product: h.product, previous: h.previous, quantity: h.quantity }));
  const done = ledger.find((e) => e.state === "done");
  if (done) view.lastSend = { report: done.report, periodKey: done.periodKey, key: done.key, at: done.updatedAt, ...ticketOf(done) };
  if (r.config && global && !r.removedAt) {
    const c = resolveCustomer(r.config as CustomerFile, global);
    for (const rep of c.reports) {
      const cursor = cursors.get(cursorKey(r.name, rep.report));
      const first = r.firstAppliedAt ? new Date(r.firstAppliedAt).getTime() : now.getTime();
      const from = new Date(Math.max(cursor ? new Date(cursor).getTime() + 1 : 0, first));
      const sends = nextSends(scheduleOf(rep, c), from, 5);
      const states = store.ledgerStates(sends.map((s) => sendKey(r.name, rep.report, s.periodKey)));
      const next = sends.find((s) => !TERMINAL_LEDGER_STATES.some((t) => t === states.get(sendKey(r.name, rep.report, s.periodKey))));
      if (next) view.nextDue.push({ report: rep.report, periodKey: next.periodKey, due: next.due.toISOString(), overdue: next.due <= now });
    }
  }
  return view;
}

const ticketOf = (e: LedgerEntry) => {
  const id = (e.result as { ticketId?: number } | undefined)?.ticketId;
  return id === undefined ? {} : { ticketId: id };
};
