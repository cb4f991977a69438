import type { GlobalFile } from "../config/model.ts";
import type { EffectiveCustomer } from "../config/resolve.ts";
import { billingPreview, nextBilling, type BillingPreview, type FailedRead } from "../core/billing-preview.ts";
import type { CustomerChecks } from "../core/connectwise-checks.ts";
import type { Addition, ConnectWise } from "../ports/connectwise.ts";
import type { LicenseRow, LicenseSource } from "../ports/license-source.ts";

export interface PreviewReads {
  cw: ConnectWise;
  license: LicenseSource;
  /** The enabled customers, with their ConnectWise checks. */
  customers: readonly EffectiveCustomer[];
  checks: ReadonlyMap<string, CustomerChecks>;
  global: GlobalFile;
  now: Date;
  signal?: AbortSignal;
}

const failure = (e: unknown): FailedRead => ({ error: e instanceof Error ? e.message : String(e) });

/**
 * Reads what the billing preview needs, read-only: the LMP report of each month a next billing reads
 * (once per month), and the additions of the agreements the billed products resolve to. A failed read
 * becomes the reason of the customers that needed it, never an error of the plan.
 */
export async function readBillingPreview(r: PreviewReads): Promise<BillingPreview[]> {
  const months = new Set<string>();
  const agreements = new Set<number>();
  for (const c of r.customers) {
    const next = nextBilling(c, r.now);
    const billed = c.reports.find((x) => x.report === "billing")?.products ?? [];
    if (!next || billed.length === 0) continue;
    months.add(next.seatsMonth);
    for (const m of r.checks.get(c.name)?.mappings ?? []) if (m.state === "resolved" && billed.includes(m.product)) agreements.add(m.agreements[0].id);
  }
  const rows = new Map<string, readonly LicenseRow[] | FailedRead>();
  const additions = new Map<number, readonly Addition[] | FailedRead>();
  const queue = [...agreements];
  await Promise.all([
    ...[...months].map(async (m) => {
      const [year, month] = m.split("-").map(Number);
      rows.set(m, await r.license.summary(year, month, r.signal).catch(failure));
    }),
    // the ConnectWise client's limiter bounds the real rate; this bounds what waits in it
    ...Array.from({ length: Math.min(8, queue.length) }, async () => {
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) additions.set(id, await r.cw.additionsOf(id, r.signal).catch(failure));
    }),
  ]);
  return billingPreview({ customers: r.customers, global: r.global, checks: r.checks, rows, additions, now: r.now });
}
