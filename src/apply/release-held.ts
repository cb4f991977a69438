import { isLive } from "../core/billing-lines.ts";
import { heldDecreases, withReleases, type HeldDecrease, type Release } from "../core/held-decreases.ts";
import { OperationError } from "../errors.ts";
import type { Clock } from "../ports/clock.ts";
import type { ConnectWise } from "../ports/connectwise.ts";
import type { StateStore } from "../ports/state-store.ts";

export interface ReleaseRequest {
  customer: string;
  /** One product (its catalogue key, e.g. `hes`); absent: every held decrease. */
  product?: string;
  /** `YYYY-MM`: the billing of that month; absent: the latest billing. */
  month?: string;
  /** Who asked for it, for the journal. */
  by: string;
}

export interface ReleasedDecrease {
  product: string;
  productName: string;
  periodKey: string;
  agreementId: number;
  additionId: number;
  /** The quantity the addition had just before (read back now, whatever the billing saw). */
  from: number;
  to: number;
}

export interface ReleaseResult {
  customer: string;
  released: ReleasedDecrease[];
}

export interface ReleaseDeps {
  cw: ConnectWise;
  store: StateStore;
  token: number;
  clock: Clock;
  signal?: AbortSignal;
}

/** A customer's ledger entries looked through for the billing to release (a year of daily reports and more). */
const LOOKBACK = 1000;

/** What a release would apply now: the held decreases of the customer's latest billing (or of `month`), one product's if asked. */
export function toRelease(store: StateStore, req: Omit<ReleaseRequest, "by">): HeldDecrease[] {
  return heldDecreases(store.ledgerOf(req.customer, LOOKBACK), req.month).filter((h) => req.product === undefined || h.product === req.product);
}

/**
 * Applies held decreases, under the lease the caller holds: for each, the addition is read, set to
 * the held (absolute) quantity unless it holds it already, the quantity confirmed by reading it
 * back, and the release recorded on the billing entry that held it and in the journal. Setting an
 * absolute quantity twice changes nothing, so a release cut short is simply run again.
 */
export async function releaseHeld(req: ReleaseRequest, deps: ReleaseDeps): Promise<ReleaseResult> {
  const { store, token, clock } = deps;
  const held = toRelease(store, req);
  const released: ReleasedDecrease[] = [];
  const iso = () => new Date(clock.now()).toISOString();
  for (const h of held) {
    const day = iso().slice(0, 10);
    const addition = (await deps.cw.additionsOf(h.agreementId, deps.signal)).find((a) => a.id === h.additionId);
    if (!addition || !isLive(addition, day)) {
      throw new OperationError(`${req.customer}: the ${h.productName} addition #${h.additionId} on agreement #${h.agreementId} is ${addition ? "cancelled" : "gone"}; its held decrease (${h.previous} → ${h.quantity}) was not applied${released.length ? ` (released before it: ${released.map((r) => r.product).join(", ")})` : ""}`);
    }
    if (addition.quantity !== h.quantity) await deps.cw.setAdditionQuantity(h.agreementId, h.additionId, h.quantity, deps.signal);
    const at = iso();
    const entry = store.ledgerEntries([h.key])[0];
    const release: Release = { product: h.product, additionId: h.additionId, quantity: h.quantity, at, by: req.by };
    if (entry) store.putLedger(withReleases(entry, [release], at), token);
    store.appendJournal([{
      at, customer: req.customer, kind: "send", message: "held decrease released",
      data: { key: h.key, periodKey: h.periodKey, product: h.product, additionId: h.additionId, from: addition.quantity, to: h.quantity, by: req.by },
    }], token);
    released.push({ product: h.product, productName: h.productName, periodKey: h.periodKey, agreementId: h.agreementId, additionId: h.additionId, from: addition.quantity, to: h.quantity });
  }
  return { customer: req.customer, released };
}
