import type { GlobalFile } from "../config/model.ts";
import type { EffectiveCustomer } from "../config/resolve.ts";
import type { Addition } from "../ports/connectwise.ts";
import type { LicenseRow } from "../ports/license-source.ts";
import type { LedgerEntry } from "../ports/state-store.ts";
import { isLive, seatsOf } from "./billing-lines.ts";
import type { CustomerChecks } from "./connectwise-checks.ts";
import { heldDecreases, type Release } from "./held-decreases.ts";

/** The categories of DESIGN §10 `cwsync audit`, in the order they are shown. */
export const AUDIT_CATEGORIES = ["unbilled", "drift", "unmanaged", "held"] as const;
export type AuditCategory = (typeof AUDIT_CATEGORIES)[number];

/** Why seats in the LMP report are billed by no enabled customer file. */
export type UnbilledWhy = "no-customer-file" | "customer-disabled" | "product-not-billed" | "product-unknown";

/** One LMP customer's product: the report's seats, who bills them and what ConnectWise holds. */
export interface AuditLine {
  lmpCustomer: string;
  productName: string;
  /** The catalogue key of `_global.yaml` whose `lmp.productName` this is. */
  product?: string;
  used?: number;
  provisioned?: number;
  /** What cwsync bills: used or provisioned, as the product's `quantity` says. */
  seats?: number;
  /** Why the report's rows give no single count (`license.ambiguous`, `seats.invalid`). */
  seatsProblem?: string;
  customer?: string;
  agreementId?: number;
  agreementName?: string;
  additionId?: number;
  /** The addition's quantity in ConnectWise now. */
  quantity?: number;
  /** What cwsync last set on that addition (the ledger). */
  lastSet?: number;
  unitPrice?: number;
  status: "billed" | "unbilled";
  /** For `unbilled`. */
  why?: UnbilledWhy;
}

export interface UnbilledItem {
  lmpCustomer: string;
  productName: string;
  product?: string;
  /** The customer file naming the LMP customer, when one does (disabled, or not billing the product). */
  customer?: string;
  why: UnbilledWhy;
  used?: number;
  provisioned?: number;
  seats?: number;
  /** The unit price of this catalogue item's additions elsewhere (the most common one), when any has one. */
  unitPrice?: number;
  monthlyValue?: number;
}

export interface DriftItem {
  customer: string;
  product: string;
  productName: string;
  catalogItem: string;
  agreementId: number;
  agreementName: string;
  additionId: number;
  quantity: number;
  lastSet: number;
  /** The ledger send that set it. */
  lastSetPeriod: string;
  lastSetAt: string;
  /** quantity − lastSet. */
  difference: number;
  unitPrice?: number;
  /** The difference, in money per month. */
  monthlyValue?: number;
}

export interface UnmanagedItem {
  companyId?: number;
  companyIdentifier?: string;
  companyName?: string;
  agreementId: number;
  agreementName?: string;
  additionId: number;
  product: string;
  catalogItem: string;
  quantity: number;
  unitPrice?: number;
  monthlyValue?: number;
}

export interface HeldItem {
  customer: string;
  product: string;
  productName: string;
  agreementId: number;
  additionId: number;
  periodKey: string;
  /** The addition's quantity now (what is still billed). */
  quantity: number;
  /** The decrease waiting: what release would set. */
  heldQuantity: number;
  unitPrice?: number;
  /** (quantity − heldQuantity) × unit price: billed per month over the LMP seats while it waits. */
  monthlyValue?: number;
}

export interface Audit {
  month: string;
  lines: AuditLine[];
  unbilled: UnbilledItem[];
  drift: DriftItem[];
  unmanaged: UnmanagedItem[];
  held: HeldItem[];
  totals: {
    unbilledSeats: number;
    /** Sums of the values known; an item without a price adds nothing. */
    unbilledValue: number;
    drift: number;
    driftValue: number;
    unmanaged: number;
    unmanagedValue: number;
    held: number;
    heldValue: number;
  };
  /** What the audit could not see (no ledger, an agreement that could not be read). */
  notes: string[];
}

export interface AuditInputs {
  month: string;
  /** `YYYY-MM-DD`: the day additions are judged live on. */
  day: string;
  global: GlobalFile;
  customers: readonly EffectiveCustomer[];
  /** The LMP report of `month`. */
  rows: readonly LicenseRow[];
  /** Per enabled customer checked. */
  checks: ReadonlyMap<string, CustomerChecks>;
  /** Additions per agreement id: the mapped agreements and every other one read. */
  additions: ReadonlyMap<number, readonly Addition[]>;
  /** Every agreement of the tenant, with its company (names where known). */
  agreements: readonly { id: number; name?: string; company: { id: number; identifier?: string; name?: string } }[];
  /** Billing ledger entries, newest first per customer; absent: no state to read. */
  ledger?: readonly LedgerEntry[];
  notes?: readonly string[];
}

const norm = (s: string) => s.normalize("NFC").replace(/\s+/g, " ").trim().toLowerCase();
const money = (n: number) => Math.round(n * 100) / 100;
const times = (n: number | undefined, price: number | undefined) => (n === undefined || price === undefined ? undefined : money(n * price));

/** ConnectWise's `unitPrice` of an addition, when the answer carries one (the port's shape leaves it out). */
export function unitPriceOf(a: Addition): number | undefined {
  const p = (a as Addition & { unitPrice?: unknown }).unitPrice;
  return typeof p === "number" && Number.isFinite(p) && p >= 0 ? p : undefined;
}

interface LedgerLine { product: string; op: string; quantity?: number; previous?: number; additionId?: number; agreementId?: number }

function linesOf(e: LedgerEntry): LedgerLine[] {
  const result = (e.result as { lines?: LedgerLine[] } | undefined)?.lines;
  const planned = (e.payload as { lines?: LedgerLine[] } | undefined)?.lines ?? [];
  if (!Array.isArray(result)) return e.state === "done" ? planned : [];
  // the outcome lines carry the addition a create made; the planned ones the agreement
  return result.map((l) => ({ ...planned.find((p) => p.product === l.product), ...l }));
}

/** Per addition id: the quantity cwsync last set (or found already right), from the newest send that touched it. */
function lastSetOf(ledger: readonly LedgerEntry[]): Map<number, { quantity: number; periodKey: string; at: string }> {
  const out = new Map<number, { quantity: number; periodKey: string; at: string }>();
  for (const e of ledger) {
    if (e.report !== "billing") continue;
    // a release is later than the send whose decrease it applies
    const released = ((e.result as { released?: Release[] } | undefined)?.released ?? []).slice().sort((a, b) => b.at.localeCompare(a.at));
    for (const r of released) if (!out.has(r.additionId)) out.set(r.additionId, { quantity: r.quantity, periodKey: e.periodKey, at: r.at });
    for (const l of linesOf(e)) {
      if (l.additionId === undefined || l.quantity === undefined || out.has(l.additionId)) continue;
      if (l.op === "set" || l.op === "create" || l.op === "unchanged") out.set(l.additionId, { quantity: l.quantity, periodKey: e.periodKey, at: e.updatedAt });
    }
  }
  return out;
}

/** The most common unit price of each catalogue item's additions (the lower one on a tie): the price of seats nobody bills yet. */
function referencePrices(additions: ReadonlyMap<number, readonly Addition[]>): Map<string, number> {
  const counts = new Map<string, Map<number, number>>();
  for (const list of additions.values()) {
    for (const a of list) {
      const p = unitPriceOf(a);
      if (p === undefined) continue;
      const item = a.product.identifier.toLowerCase();
      const m = counts.get(item) ?? new Map<number, number>();
      m.set(p, (m.get(p) ?? 0) + 1);
      counts.set(item, m);
    }
  }
  return new Map([...counts].map(([item, m]) => [item, [...m].sort((x, y) => y[1] - x[1] || x[0] - y[0])[0][0]]));
}

/**
 * The billing audit (DESIGN §10): per LMP customer and product, who bills the seats and what
 * ConnectWise holds; and the four lists a billing clerk acts on — seats nobody bills, additions
 * changed by hand since cwsync set them, additions on agreements no customer file maps, and
 * decreases waiting for release. Pure: everything it needs is read beforehand.
 */
export function buildAudit(inp: AuditInputs): Audit {
  const { global } = inp;
  const notes = [...(inp.notes ?? [])];
  const byProductName = new Map(Object.entries(global.products).map(([key, p]) => [norm(p.lmp.productName), key]));
  const claimers = new Map<string, EffectiveCustomer[]>();
  for (const c of inp.customers) claimers.set(norm(c.lmpCustomer), [...(claimers.get(norm(c.lmpCustomer)) ?? []), c]);
  const lastSet = lastSetOf(inp.ledger ?? []);
  if (!inp.ledger) notes.push("no state to read: what cwsync last set is unknown, so drift and held decreases cannot be told");
  const prices = referencePrices(inp.additions);
  const billedProducts = (c: EffectiveCustomer) => c.reports.find((r) => r.report === "billing")?.products ?? [];

  /** The one live addition of a customer's billed product on its resolved agreement. */
  const billedAddition = (c: EffectiveCustomer, product: string) => {
    const mapping = inp.checks.get(c.name)?.mappings.find((m) => m.product === product);
    if (!mapping || mapping.state !== "resolved") return undefined;
    const agreement = mapping.agreements[0];
    const item = global.products[product]?.catalogItem.toLowerCase();
    const live = (inp.additions.get(agreement.id) ?? []).filter((a) => a.product.identifier.toLowerCase() === item && isLive(a, inp.day));
    return { agreement, addition: live.length === 1 ? live[0] : undefined };
  };

  // the report, grouped by customer and product as billing matches them
  const groups = new Map<string, LicenseRow>();
  for (const r of inp.rows) {
    const k = `${norm(r.customerName)}\u0000${norm(r.productName)}`;
    if (r.customerName !== "" && !groups.has(k)) groups.set(k, r);
  }
  const lines: AuditLine[] = [];
  const unbilled: UnbilledItem[] = [];
  for (const r of groups.values()) {
    const product = byProductName.get(norm(r.productName));
    const p = product ? global.products[product] : undefined;
    const used = seatsOf(inp.rows, r.customerName, r.productName, "used", false);
    const provisioned = seatsOf(inp.rows, r.customerName, r.productName, "provisioned", false);
    const seats = p?.quantity === "provisioned" ? provisioned : used;
    const counts: { used?: number; provisioned?: number; seats?: number; seatsProblem?: string } = {
      ...(used.state === "found" && !used.usedUnreported ? { used: used.seats } : {}),
      ...(provisioned.state === "found" ? { provisioned: provisioned.seats } : {}),
      ...(seats.state === "found" ? { seats: seats.seats } : { seatsProblem: seats.message }),
    };
    const mine = claimers.get(norm(r.customerName)) ?? [];
    const enabled = mine.filter((c) => c.enabled);
    const billing = enabled.find((c) => product !== undefined && billedProducts(c).includes(product));
    const base = { lmpCustomer: r.customerName, productName: r.productName, ...(product ? { product } : {}) };
    if (billing && product) {
      const found = billedAddition(billing, product);
      const a = found?.addition;
      const last = a ? lastSet.get(a.id) : undefined;
      const price = a ? unitPriceOf(a) : undefined;
      lines.push({
        ...base, ...counts, customer: billing.name, status: "billed",
        ...(found ? { agreementId: found.agreement.id, agreementName: found.agreement.name } : {}),
        ...(a ? { additionId: a.id, quantity: a.quantity } : {}),
        ...(last ? { lastSet: last.quantity } : {}),
        ...(price !== undefined ? { unitPrice: price } : {}),
      });
      continue;
    }
    const why: UnbilledWhy = !p ? "product-unknown" : mine.length === 0 ? "no-customer-file" : enabled.length === 0 ? "customer-disabled" : "product-not-billed";
    const customer = (enabled[0] ?? mine[0])?.name;
    const price = p ? prices.get(p.catalogItem.toLowerCase()) : undefined;
    lines.push({ ...base, ...counts, ...(customer ? { customer } : {}), status: "unbilled", why, ...(price !== undefined ? { unitPrice: price } : {}) });
    if (counts.seats === 0) continue; // nothing to bill is not revenue missed
    const value = times(counts.seats, price);
    unbilled.push({
      ...base, ...(customer ? { customer } : {}), why,
      ...(counts.used !== undefined ? { used: counts.used } : {}), ...(counts.provisioned !== undefined ? { provisioned: counts.provisioned } : {}),
      ...(counts.seats !== undefined ? { seats: counts.seats } : {}),
      ...(price !== undefined ? { unitPrice: price } : {}), ...(value !== undefined ? { monthlyValue: value } : {}),
    });
  }

  // drift: every billed product's addition, whether or not this month's report has its row
  const drift: DriftItem[] = [];
  const mapped = new Set<number>();
  for (const c of inp.customers.filter((x) => x.enabled)) {
    // an ambiguous mapping's candidates are the file's too: its problem is the customer's status, not unmanaged billing
    for (const m of inp.checks.get(c.name)?.mappings ?? []) for (const a of m.agreements) mapped.add(a.id);
    for (const product of billedProducts(c)) {
      const found = billedAddition(c, product);
      const a = found?.addition;
      const last = a ? lastSet.get(a.id) : undefined;
      if (!found || !a || !last || last.quantity === a.quantity) continue;
      const price = unitPriceOf(a);
      const value = times(a.quantity - last.quantity, price);
      drift.push({
        customer: c.name, product, productName: global.products[product].displayName, catalogItem: global.products[product].catalogItem,
        agreementId: found.agreement.id, agreementName: found.agreement.name, additionId: a.id, quantity: a.quantity,
        lastSet: last.quantity, lastSetPeriod: last.periodKey, lastSetAt: last.at, difference: a.quantity - last.quantity,
        ...(price !== undefined ? { unitPrice: price } : {}), ...(value !== undefined ? { monthlyValue: value } : {}),
      });
    }
  }

  // unmanaged: the catalogue's items on agreements no enabled customer file maps
  const byItem = new Map(Object.entries(global.products).map(([key, p]) => [p.catalogItem.toLowerCase(), key]));
  const unmanaged: UnmanagedItem[] = [];
  for (const ag of inp.agreements) {
    if (mapped.has(ag.id)) continue;
    for (const a of inp.additions.get(ag.id) ?? []) {
      const product = byItem.get(a.product.identifier.toLowerCase());
      if (!product || !isLive(a, inp.day)) continue;
      const price = unitPriceOf(a);
      const value = times(a.quantity, price);
      unmanaged.push({
        companyId: ag.company.id, ...(ag.company.identifier ? { companyIdentifier: ag.company.identifier } : {}), ...(ag.company.name ? { companyName: ag.company.name } : {}),
        agreementId: ag.id, ...(ag.name ? { agreementName: ag.name } : {}), additionId: a.id, product, catalogItem: a.product.identifier, quantity: a.quantity,
        ...(price !== undefined ? { unitPrice: price } : {}), ...(value !== undefined ? { monthlyValue: value } : {}),
      });
    }
  }

  const held = heldOf(inp, billedAddition);
  const sum = (xs: readonly { monthlyValue?: number }[]) => money(xs.reduce((n, x) => n + (x.monthlyValue ?? 0), 0));
  return {
    month: inp.month, lines, unbilled, drift, unmanaged, held,
    totals: {
      unbilledSeats: unbilled.reduce((n, u) => n + (u.seats ?? 0), 0), unbilledValue: sum(unbilled),
      drift: drift.length, driftValue: sum(drift), unmanaged: unmanaged.length, unmanagedValue: sum(unmanaged), held: held.length, heldValue: sum(held),
    },
    notes,
  };
}

/** The decreases held by each customer's latest billing send and not released, that the addition still waits for (its quantity is not the held one). */
function heldOf(
  inp: AuditInputs,
  billedAddition: (c: EffectiveCustomer, product: string) => { agreement: { id: number }; addition?: Addition } | undefined,
): HeldItem[] {
  const out: HeldItem[] = [];
  const byCustomer = new Map<string, LedgerEntry[]>();
  for (const e of inp.ledger ?? []) byCustomer.set(e.customer, [...(byCustomer.get(e.customer) ?? []), e]);
  for (const c of inp.customers) {
    if (!c.enabled) continue;
    for (const h of heldDecreases(byCustomer.get(c.name) ?? [])) {
      const a = inp.global.products[h.product] ? billedAddition(c, h.product)?.addition : undefined;
      if (a && a.quantity === h.quantity) continue; // set by hand to the seats: nothing waits
      const quantity = a?.quantity ?? h.previous;
      const price = a ? unitPriceOf(a) : undefined;
      const value = times(quantity - h.quantity, price);
      out.push({
        customer: c.name, product: h.product, productName: h.productName, agreementId: h.agreementId, additionId: a?.id ?? h.additionId,
        periodKey: h.periodKey, quantity, heldQuantity: h.quantity,
        ...(price !== undefined ? { unitPrice: price } : {}), ...(value !== undefined ? { monthlyValue: value } : {}),
      });
    }
  }
  return out;
}

/** The categories in `failOn` that have something in them. */
export function failingCategories(audit: Audit, failOn: readonly AuditCategory[]): AuditCategory[] {
  return failOn.filter((c) => audit[c].length > 0);
}
