import { createHash } from "node:crypto";
import type { GlobalFile } from "../config/model.ts";
import type { EffectiveCustomer } from "../config/resolve.ts";
import { stableHash } from "./seed-builder.ts";

/** One `summary[]` row as LMPI sends it (tmrm.md §5.2). */
export interface LmpiSummaryRow {
  customer: string;
  city: string;
  state: string;
  owned_by_vendor: string;
  created_by_vendor: string;
  product_name: string;
  service_plan: string;
  provisioned: number;
  used: number;
  unit: string;
}

/** The sandbox's report data: rows per report month, by a function or by `YYYY-MM` key. */
export type LmpiSeed = ((year: number, month: number) => readonly LmpiSummaryRow[]) | Readonly<Record<string, readonly LmpiSummaryRow[]>>;

export const SANDBOX_VENDOR = "Sandbox MSP";

export const periodKey = (year: number, month: number) => `${year}-${String(month).padStart(2, "0")}`;

/** The rows a seed holds for a month (none when it has no entry for it). */
export function seedRows(seed: LmpiSeed | undefined, year: number, month: number): LmpiSummaryRow[] {
  if (!seed) return [];
  const rows = typeof seed === "function" ? seed(year, month) : seed[periodKey(year, month)];
  return [...(rows ?? [])];
}

/** 32 bits of SHA-256 of the parts: stable across runs and platforms, spread across months. */
function monthHash(parts: readonly string[], word: number): number {
  return createHash("sha256").update(parts.join("\u0000")).digest().readUInt32BE(word * 4);
}

/**
 * Report rows for these customers in any month: one row per customer (its `trendMicro.customer`)
 * and product it maps in `agreements` (the product's `lmp.productName`). The level of each row
 * starts from the quantity the ConnectWise sandbox gives the matching addition, so a billing
 * run shows small, believable changes; each month then moves it a little, up or down, from a
 * hash of customer, product and month. Used never exceeds provisioned.
 */
export function seedLmpiFromCustomers(customers: readonly EffectiveCustomer[], global: GlobalFile): (year: number, month: number) => LmpiSummaryRow[] {
  const pairs: { name: string; customer: string; key: string; productName: string; appliance: boolean }[] = [];
  const seen = new Set<string>();
  for (const c of [...customers].sort((x, y) => x.name.localeCompare(y.name))) {
    for (const key of Object.keys(c.agreements).sort()) {
      const product = global.products[key];
      if (!product) continue;
      // two files may name the same LMP customer (a legacy twin): LMPI has one row for it
      const id = `${c.lmpCustomer}\u0000${product.lmp.productName}`;
      if (seen.has(id)) continue;
      seen.add(id);
      pairs.push({ name: c.name, customer: c.lmpCustomer, key, productName: product.lmp.productName, appliance: product.quantity === "provisioned" });
    }
  }
  return (year, month) => pairs.map((p) => {
    // the same level formula as the ConnectWise sandbox's additions (seed.ts)
    const level = stableHash(`${p.name}/${p.key}`);
    const base = p.appliance ? 1 + (level % 4) : 5 + (level % 96);
    const parts = [p.customer, p.productName, periodKey(year, month)];
    const drift = monthHash(parts, 0);
    const provisioned = p.appliance ? base + (drift % 2) : Math.max(1, base + (drift % 9) - 3);
    const spare = monthHash(parts, 1) % (Math.floor(provisioned / 5) + 1);
    return {
      customer: p.customer,
      city: "",
      state: "",
      owned_by_vendor: SANDBOX_VENDOR,
      created_by_vendor: SANDBOX_VENDOR,
      product_name: p.productName,
      service_plan: `${p.productName} (Full)`,
      provisioned,
      used: p.appliance ? provisioned : provisioned - spare,
      unit: p.appliance ? "Appliances" : "Seats",
    };
  });
}
