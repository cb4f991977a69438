import type { GlobalFile } from "../config/model.ts";
import type { EffectiveCustomer, EffectiveReport } from "../config/resolve.ts";
import type { Addition } from "../ports/connectwise.ts";
import type { LicenseRow } from "../ports/license-source.ts";
import type { BillingLine } from "./actions.ts";
import type { CustomerChecks } from "./connectwise-checks.ts";
import { seatsMonthLabel } from "./seats-month.ts";

const norm = (s: string) => s.normalize("NFC").replace(/\s+/g, " ").trim().toLowerCase();

/** Per report (one array per month), its rows by normalized customer name, then product name. */
const rowIndexes = new WeakMap<readonly LicenseRow[], Map<string, Map<string, LicenseRow[]>>>();

const rowFields = ["customerName", "productName", "servicePlan", "provisioned", "used", "invalid", "unit", "city", "state", "ownedByVendor", "createdByVendor"] as const;

/** A row the report repeats in every field is one row said twice, not two plans: summing it bills double (trial M7). */
const sameRow = (a: LicenseRow, b: LicenseRow) => rowFields.every((k) => a[k] === b[k]);

/**
 * The rows of one customer's product, in report order, a row repeated word for word counted once. The report is indexed once: scanning it
 * for every billed line made a cycle quadratic (5,000 customers: 100 million comparisons, ~70 s).
 */
function rowsOf(rows: readonly LicenseRow[], lmpCustomer: string, productName: string): LicenseRow[] {
  let index = rowIndexes.get(rows);
  if (!index) {
    index = new Map();
    for (const r of rows) {
      const customer = norm(r.customerName);
      let products = index.get(customer);
      if (!products) index.set(customer, (products = new Map()));
      const product = norm(r.productName);
      const list = products.get(product);
      if (!list) products.set(product, [r]);
      else if (!list.some((seen) => sameRow(seen, r))) list.push(r);
    }
    rowIndexes.set(rows, index);
  }
  return index.get(norm(lmpCustomer))?.get(norm(productName)) ?? [];
}

/** The seats of one customer's product in an LMP report month, or why there is no single answer. */
export type SeatCount =
  /** `usedUnreported`: billed `used`, but some row reports no used units, so its provisioned units count. */
  | { state: "found"; seats: number; rows: number; usedUnreported?: boolean }
  | { state: "license.unmatched" | "license.ambiguous" | "seats.invalid"; message: string };

/**
 * Rows match on the LMP customer name and the catalogue's `lmp.productName`, ignoring case and
 * spacing. Several service-plan rows of one product are summed (a row repeated in every field counts once). Rows under two spellings of the
 * customer (`Acme Corp`, `ACME Corp`), or an LMP customer name claimed by two customer files,
 * are ambiguous: shown, never guessed.
 */
export function seatsOf(
  rows: readonly LicenseRow[],
  lmpCustomer: string,
  productName: string,
  quantity: "used" | "provisioned",
  claimedTwice: boolean,
): SeatCount {
  if (claimedTwice) {
    return { state: "license.ambiguous", message: `more than one customer file names the LMP customer “${lmpCustomer}” in trendMicro.customer` };
  }
  const mine = rowsOf(rows, lmpCustomer, productName);
  const spellings = new Set(mine.map((r) => r.customerName));
  if (spellings.size > 1) {
    return { state: "license.ambiguous", message: `the LMP report names the customer in ${spellings.size} ways (${[...spellings].map((s) => `“${s}”`).join(", ")}); set trendMicro.customer to the one meant and ask Trend Micro to merge them` };
  }
  if (mine.length === 0) {
    return { state: "license.unmatched", message: `the LMP report has no “${productName}” row for customer “${lmpCustomer}” (check trendMicro.customer and the product's lmp.productName)` };
  }
  const broken = mine.find((r) => r.invalid !== undefined);
  if (broken) {
    return { state: "seats.invalid", message: `the LMP report's “${productName}” row for “${lmpCustomer}” cannot be billed: ${broken.invalid}; nothing is set for it this month (ask Trend Micro to correct the report, then \`cwsync send-now\` bills it)` };
  }
  // Trend Micro charges the provisioned units of a row that reports no used units (LMP "Usage Reports")
  const usedUnreported = quantity === "used" && mine.some((r) => r.used === undefined);
  const seats = mine.reduce((n, r) => n + (quantity === "provisioned" ? r.provisioned : (r.used ?? r.provisioned)), 0);
  return { state: "found", seats, rows: mine.length, ...(usedUnreported ? { usedUnreported } : {}) };
}

const same = (a: string | undefined, b: string) => a !== undefined && a.toLowerCase() === b.toLowerCase();

/** An addition still billing: not cancelled (a cancelled date on or before the billing day ends it). */
export function isLive(a: Addition, day: string): boolean {
  if (a.agreementStatus === "Cancelled") return false;
  return !a.cancelledDate || a.cancelledDate.slice(0, 10) > day;
}

export interface LineInputs {
  customer: EffectiveCustomer;
  global: GlobalFile;
  checks: CustomerChecks;
  rows: readonly LicenseRow[];
  /** Additions per agreement id, read in this cycle. */
  additions: ReadonlyMap<number, readonly Addition[]>;
  claimedTwice: boolean;
  /** `YYYY-MM-DD`: the day the send is due, for telling live additions. */
  day: string;
}

/** One billed product: which addition gets which absolute quantity, or why it is not billed. */
export function billingLine(product: string, inp: LineInputs): BillingLine {
  const p = inp.global.products[product];
  if (!p) {
    return { product, productName: product, catalogItem: "", op: "refused", reason: "product.unknown", message: `“${product}” is no longer in the catalogue of _global.yaml` };
  }
  const base: BillingLine = { product, productName: p.displayName, catalogItem: p.catalogItem, op: "refused" };
  const mapping = inp.checks.mappings.find((m) => m.product === product);
  if (!mapping || mapping.state !== "resolved") {
    return { ...base, reason: mapping?.state ?? "agreement.not-found", message: mapping?.message ?? "no agreement mapping" };
  }
  const agreement = mapping.agreements[0];
  const catalog = inp.checks.catalog.find((c) => c.product === product);
  const withAgreement: BillingLine = {
    ...base, agreementId: agreement.id, agreementName: agreement.name,
    ...(catalog?.item && catalog.state === "present" ? { catalogItemId: catalog.item.id } : {}),
  };
  const seats = seatsOf(inp.rows, inp.customer.lmpCustomer, p.lmp.productName, p.quantity, inp.claimedTwice);
  if (seats.state !== "found") return { ...withAgreement, reason: seats.state, message: seats.message };
  const quantity = seats.seats;
  // billed at provisioned for want of used units: said on the line, whatever happens to it next
  const billed: BillingLine = seats.usedUnreported ? {
    ...withAgreement,
    warning: { reason: "seats.used-unreported", message: `the LMP report has no used units for “${p.lmp.productName}” (customer “${inp.customer.lmpCustomer}”): billed at provisioned, ${quantity} seats, as Trend Micro charges it` },
  } : withAgreement;
  const live = (inp.additions.get(agreement.id) ?? []).filter((a) => same(a.product.identifier, p.catalogItem) && isLive(a, inp.day));
  if (live.length > 1) {
    return {
      ...billed, quantity, reason: "addition.ambiguous",
      message: `agreement “${agreement.name}” has ${live.length} live additions for ${p.catalogItem} (#${live.map((a) => a.id).join(", #")}); cancel all but one — cwsync never bills twice`,
    };
  }
  if (live.length === 0) {
    if (billed.catalogItemId === undefined) {
      return { ...billed, quantity, reason: "catalog.missing", message: `no addition for ${p.catalogItem} on “${agreement.name}”, and the catalogue item ${p.catalogItem} is ${catalog?.state ?? "missing"} in ConnectWise, so none can be created` };
    }
    return { ...billed, quantity, op: "create" };
  }
  const addition = live[0];
  const line: BillingLine = { ...billed, additionId: addition.id, previous: addition.quantity, quantity };
  if (addition.quantity === quantity) return { ...line, op: "unchanged" };
  if (quantity < addition.quantity && inp.global.connectwise.decreases === "hold") {
    return { ...line, op: "held", reason: "decrease.held", message: `${p.displayName}: ${addition.quantity} → ${quantity} seats is a decrease; held for a human (decreases: hold)` };
  }
  return { ...line, op: "set" };
}

/** The ticket text: the seed's billing e-mail, as a plain-text table. */
export function billingDescription(
  customer: EffectiveCustomer, periodKey: string, lines: readonly BillingLine[],
  /** The LMP report month the seats were read from, and why that one (`billing.seatsFrom`). */
  seats: { month: string; seatsFrom?: EffectiveReport["seatsFrom"] },
  note?: string,
): string {
  const rows = lines.map((l) => {
    const change = l.previous === undefined ? `${l.quantity ?? "?"} (new)` : `${l.previous} → ${l.quantity}`;
    const what = {
      set: "updated", create: "addition created", unchanged: "unchanged",
      held: "decrease held, not applied", refused: `not billed${l.reason === "seats.invalid" ? ` (${l.reason})` : ""}: ${l.message ?? l.reason}`,
    }[l.op];
    const warning = l.warning?.reason === "seats.used-unreported" ? "; LMP reports no used units: billed at provisioned (seats.used-unreported)" : "";
    return `- ${l.productName} (${l.catalogItem}) on ${l.agreementName ? `“${l.agreementName}”` : "no agreement"}: ${l.op === "refused" && l.quantity === undefined ? "—" : change} — ${what}${warning}`;
  });
  return [
    `Billing for ${customer.displayName}, ${periodKey}: seats from the Trend Micro Licensing Management Platform.`,
    `Seats: LMP report for ${seatsMonthLabel(seats.month, seats)}.`,
    ...(note ? [note] : []),
    "",
    ...rows,
    "",
    "Sent by cwsync.",
  ].join("\n");
}

/** LMP customers in the report that no customer file names: shown, so a forgotten customer is noticed. */
export function unclaimedLmpCustomers(rows: readonly LicenseRow[], claimed: readonly string[]): string[] {
  const mine = new Set(claimed.map(norm));
  return [...new Set(rows.map((r) => r.customerName))].filter((n) => n !== "" && !mine.has(norm(n))).sort();
}
