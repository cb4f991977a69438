import type { LoadResult } from "../config/load.ts";
import { resolveCustomer, type EffectiveCustomer } from "../config/resolve.ts";
import { suspendedUntil } from "../core/preview.ts";
import { HES_ENV, TMES_ENV } from "./settings/email-security-env.ts";
import { LMPI_ENV } from "./settings/lmpi-env.ts";

/** The Trend Micro sources a configuration may read. ConnectWise is not one: every online command needs it. */
export type SourceName = "lmpi" | "tmes" | "hes";

export const SOURCE_NAMES: readonly SourceName[] = ["lmpi", "tmes", "hes"];

/** Per source, the customers whose configuration reads it, sorted. */
export type SourceNeeds = Readonly<Record<SourceName, readonly string[]>>;

/** A configuration that reads no Trend Micro source: only ConnectWise is required. */
export const NO_NEEDS: SourceNeeds = { lmpi: [], tmes: [], hes: [] };

export const SOURCE_ENV: Readonly<Record<SourceName, readonly string[]>> = { lmpi: LMPI_ENV, tmes: TMES_ENV, hes: HES_ENV };

/** How messages name a source, and what of a customer's configuration reads it. */
export const SOURCE_TEXT: Readonly<Record<SourceName, { system: string; use: string }>> = {
  lmpi: { system: "the Licensing Management Platform", use: "billing" },
  tmes: { system: "Trend Micro Email Security", use: "emailSecurity reports" },
  hes: { system: "Hosted Email Security", use: "hostedEmailSecurity reports" },
};

const SOURCE_OF_REPORT = { billing: "lmpi", emailSecurity: "tmes", hostedEmailSecurity: "hes" } as const;

/** "A", "A and B", "A, B and C". */
export const listing = (items: readonly string[]) => (items.length > 1 ? `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}` : items.join(""));

function suspendedAt(c: EffectiveCustomer, now: Date): boolean {
  if (!c.suspend) return false;
  const end = suspendedUntil(c);
  return end === undefined || now < end;
}

/**
 * Which sources a revision's configuration reads, and for whom: the reports of every valid customer
 * file that sends at `now`, `notifications: global` resolved through `_global.yaml`. A suspended or
 * disabled customer sends nothing, so it needs nothing; an invalid file (or an invalid `_global.yaml`)
 * counts for nothing either: it holds back only its own customers, which keep their last valid config
 * and fail alone, naming the variables, if that config reads a source that is not configured.
 */
export function sourceNeeds(load: LoadResult, now: Date): SourceNeeds {
  const out: Record<SourceName, string[]> = { lmpi: [], tmes: [], hes: [] };
  if (!load.global) return out;
  for (const c of load.customers) {
    if (!c.config) continue;
    const e = resolveCustomer(c.config, load.global);
    if (!e.enabled || suspendedAt(e, now)) continue;
    for (const s of new Set(e.reports.map((r) => SOURCE_OF_REPORT[r.report]))) out[s].push(e.name);
  }
  for (const s of SOURCE_NAMES) out[s].sort();
  return out;
}

/** "Hosted Email Security is used by the hostedEmailSecurity reports of 5 customers: a, b, c and 2 more". */
export function usedBy(source: SourceName, customers: readonly string[]): string {
  const n = customers.length;
  // four names read as easily as three and "1 more"
  const shown = n > 4 ? [...customers.slice(0, 3), `${n - 3} more`] : customers;
  return `${SOURCE_TEXT[source].system} is used by the ${SOURCE_TEXT[source].use} of ${n} customer${n === 1 ? "" : "s"}: ${listing(shown)}`;
}
