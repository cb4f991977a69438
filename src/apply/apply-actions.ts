import type { Action, BillingLine, BillingSend, RecordSend, TicketSend } from "../core/actions.ts";
import { isLive } from "../core/billing-lines.ts";
import type { Clock } from "../ports/clock.ts";
import type { ConnectWise, CreateResult } from "../ports/connectwise.ts";
import { LeaseLostError, type LedgerEntry, type StateStore } from "../ports/state-store.ts";

export interface ApplyDeps {
  cw: ConnectWise;
  store: StateStore;
  /** The fencing token of the lease this run holds: every ledger write carries it. */
  token: number;
  /** Real time, for ledger and journal timestamps. */
  clock: Clock;
  /** Customers worked on at once (each customer's sends stay in order, oldest first). */
  concurrency?: number;
  /** How long after a write of unknown outcome a send waits before looking and sending again (default UNKNOWN_SETTLE_MS). */
  settleMs?: number;
  signal?: AbortSignal;
}

/**
 * A write whose answer was lost (a timeout, a reset, a 5xx) may still be committed by ConnectWise
 * after its client gave up. Looking for it at once could miss it and send a second time; so a send
 * left `unknown` is looked at again only this long after that attempt.
 */
export const UNKNOWN_SETTLE_MS = 120_000;

export type OutcomeResult = "done" | "recorded" | "failed" | "unknown";

export interface Outcome {
  key: string;
  customer: string;
  report: Action["report"];
  periodKey: string;
  result: OutcomeResult;
  message?: string;
  ticketId?: number;
  /** Per billed product: what was done. */
  lines?: { product: string; op: BillingLine["op"]; quantity?: number; previous?: number; additionId?: number }[];
}

const iso = (clock: Clock) => new Date(clock.now()).toISOString();

/** Thrown inside a send when an outcome is unknown: the entry stays for the next reconcile to resolve by looking. */
class Unknown extends Error {}

function created<T>(r: CreateResult<T>, what: string): T | undefined {
  if (r.outcome === "created") return r.entity;
  if (r.outcome === "created-elsewhere") return undefined;
  if (r.outcome === "unknown") throw new Unknown(`${what}: outcome unknown (${r.reason}); the next reconcile looks before creating again`);
  throw r.error;
}

async function applyLine(l: BillingLine, a: BillingSend, deps: ApplyDeps): Promise<NonNullable<Outcome["lines"]>[number]> {
  const out = { product: l.product, op: l.op, quantity: l.quantity, previous: l.previous, additionId: l.additionId };
  if ((l.op !== "set" && l.op !== "create") || l.agreementId === undefined || l.quantity === undefined) return out;
  let { op, additionId } = l;
  if (a.resume) {
    // after a crash or an unknown outcome: the addition may exist already; re-read, never create blind
    const live = (await deps.cw.additionsOf(l.agreementId, deps.signal)).filter(
      (x) => x.product.identifier.toLowerCase() === l.catalogItem.toLowerCase() && isLive(x, a.due.slice(0, 10)),
    );
    if (live.length > 1) throw new Error(`agreement #${l.agreementId} now has ${live.length} live additions for ${l.catalogItem}; nothing changed (cancel all but one)`);
    if (live.length === 1) {
      additionId = live[0].id;
      if (live[0].quantity === l.quantity) return { ...out, op: op === "create" ? "create" : "set", additionId };
      op = "set";
    } else op = "create";
  }
  if (op === "set" && additionId !== undefined) {
    await deps.cw.setAdditionQuantity(l.agreementId, additionId, l.quantity, deps.signal);
    return { ...out, additionId };
  }
  if (l.catalogItemId === undefined) throw new Error(`${l.catalogItem} has no catalogue item in ConnectWise: cannot create its addition`);
  const made = created(await deps.cw.createAddition(l.agreementId, {
    productId: l.catalogItemId, quantity: l.quantity, effectiveDate: `${a.periodKey.slice(0, 7)}-01`, billCustomer: "Billable",
    description: `${l.productName} (cwsync)`,
  }, deps.signal), `creating the ${l.catalogItem} addition on agreement #${l.agreementId}`);
  return { ...out, op: "create", additionId: made?.id };
}

/** A billing send (additions, then the ticket) or a detection report (the ticket), through the ledger. */
async function applyTicketSend(a: TicketSend, deps: ApplyDeps): Promise<Outcome> {
  const { store, token, clock } = deps;
  const previous = store.ledgerEntries([a.key])[0];
  const base = { key: a.key, customer: a.customer, report: a.report, periodKey: a.periodKey };
  if (previous?.state === "unknown") {
    const lookAt = Date.parse(previous.updatedAt) + (deps.settleMs ?? UNKNOWN_SETTLE_MS);
    if (clock.now() < lookAt) {
      // nothing touched: the entry stays unknown until ConnectWise has surely settled the earlier attempt
      return { ...base, result: "unknown", message: `${previous.error ?? "the earlier attempt's outcome is unknown"} — looked for again after ${new Date(lookAt).toISOString()}, once ConnectWise has settled it` };
    }
  }
  const payload: TicketSend = { ...a, resume: false };
  const entry: LedgerEntry = previous
    ? { ...previous, state: "open", attempts: previous.attempts + 1, updatedAt: iso(clock) }
    : { key: a.key, customer: a.customer, report: a.report, periodKey: a.periodKey, trigger: a.trigger, state: "open", dueAt: a.due, payload, attempts: 1, createdAt: iso(clock), updatedAt: iso(clock) };
  store.putLedger(entry, token); // before any remote call
  const lines: NonNullable<Outcome["lines"]> = [];
  try {
    if (a.kind === "billing") for (const l of a.lines) lines.push(await applyLine(l, { ...a, resume: a.resume || previous !== undefined }, deps));
    let ticketId: number | undefined;
    const found = a.resume || previous ? (await deps.cw.findTicketsByKey(a.key, a.companyId, deps.signal)).find((t) => t.summary.includes(a.key)) : undefined;
    if (found) ticketId = found.id;
    else {
      const t = created(await deps.cw.createTicket({
        boardName: a.board, ...(a.status ? { statusName: a.status } : {}), companyId: a.companyId, summary: a.summary, initialDescription: a.description,
      }, deps.signal), `creating the ${a.report} ticket`);
      ticketId = t?.id;
    }
    store.putLedger({ ...entry, state: "done", result: a.kind === "billing" ? { ticketId, lines } : { ticketId, total: a.total }, error: undefined, updatedAt: iso(clock) }, token);
    return { ...base, result: "done", ticketId, ...(a.kind === "billing" ? { lines } : {}) };
  } catch (e) {
    if (e instanceof LeaseLostError) throw e;
    const unknown = e instanceof Unknown;
    const message = e instanceof Error ? e.message : String(e);
    store.putLedger({ ...entry, state: unknown ? "unknown" : "failed", result: { lines }, error: message, updatedAt: iso(clock) }, token);
    return { ...base, result: unknown ? "unknown" : "failed", message, lines };
  }
}

function applyRecord(a: RecordSend, deps: ApplyDeps): Outcome {
  const now = iso(deps.clock);
  deps.store.putLedger({
    key: a.key, customer: a.customer, report: a.report, periodKey: a.periodKey, trigger: "schedule", state: a.state,
    dueAt: a.due, result: { reason: a.reason }, attempts: 0, createdAt: now, updatedAt: now,
  }, deps.token);
  return { key: a.key, customer: a.customer, report: a.report, periodKey: a.periodKey, result: "recorded", message: `${a.state}: ${a.reason}` };
}

/**
 * The only code that writes to ConnectWise. Each send: ledger entry first, then the remote calls,
 * then the entry completed (or left `unknown`/`failed` for the next reconcile to resolve by
 * looking). Customers run concurrently; one customer's sends run in order, oldest first.
 */
export async function applyActions(actions: readonly Action[], deps: ApplyDeps): Promise<Outcome[]> {
  const byCustomer = new Map<string, Action[]>();
  for (const a of actions) if (a.kind !== "wait") byCustomer.set(a.customer, [...(byCustomer.get(a.customer) ?? []), a]);
  const queue = [...byCustomer.values()];
  const outcomes: Outcome[] = [];
  let stop: unknown;
  const worker = async () => {
    for (let work = queue.shift(); work && stop === undefined; work = queue.shift()) {
      for (const a of work) {
        if (stop !== undefined || deps.signal?.aborted) return;
        try {
          const o = a.kind === "billing" || a.kind === "report" ? await applyTicketSend(a, deps) : applyRecord(a as RecordSend, deps);
          outcomes.push(o);
          if (o.result === "failed" || o.result === "unknown") break; // later months of this customer wait for this one
        } catch (e) {
          stop = e;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, deps.concurrency ?? 8) }, worker));
  if (stop !== undefined) throw stop;
  return outcomes;
}
