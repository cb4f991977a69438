import type { GlobalFile } from "../config/model.ts";
import type { EffectiveCustomer } from "../config/resolve.ts";
import type { Addition } from "../ports/connectwise.ts";
import type { LicenseRow } from "../ports/license-source.ts";
import type { BillingLine } from "./actions.ts";
import { unitPriceOf } from "./audit.ts";
import { billingLine } from "./billing-lines.ts";
import type { CustomerChecks } from "./connectwise-checks.ts";
import { previewCustomer } from "./preview.ts";
import { seatsMonthOf } from "./seats-month.ts";

/** A read that failed: why, for the customers that needed it. */
export interface FailedRead { error: string }

/** One billed product at the next billing: the addition's quantity now → the LMP seats now. */
export interface PreviewLine {
  product: string;
  productName: string;
  op: BillingLine["op"];
  /** The addition's quantity now (absent: no addition yet). */
  previous?: number;
  /** The LMP seats now: what the billing would set. */
  quantity?: number;
  /** quantity − previous (a new addition: quantity). */
  change?: number;
  unitPrice?: number;
  /** change × unit price, per month, where the addition has a unit price. */
  money?: number;
  /** The billing would lower the quantity (`held` under `decreases: hold`, set otherwise). */
  decrease: boolean;
  reason?: string;
  message?: string;
}

export type BillingPreview =
  | { customer: string; state: "ok"; periodKey: string; due: Date; timezone: string; seatsMonth: string; lines: PreviewLine[] }
  | { customer: string; state: "none"; reason: string; message: string; periodKey?: string; due?: Date; timezone: string; seatsMonth?: string };

export interface PreviewInputs {
  /** The enabled customers. */
  customers: readonly EffectiveCustomer[];
  global: GlobalFile;
  checks: ReadonlyMap<string, CustomerChecks>;
  /** LMP report rows per `YYYY-MM`, or why they could not be read. */
  rows: ReadonlyMap<string, readonly LicenseRow[] | FailedRead>;
  /** Additions per agreement id, or why they could not be read. */
  additions: ReadonlyMap<number, readonly Addition[] | FailedRead>;
  now: Date;
}

const norm = (s: string) => s.replace(/\s+/g, " ").trim().toLowerCase();
const money = (n: number) => Math.round(n * 100) / 100;
const failed = <T>(x: T | FailedRead | undefined): x is FailedRead | undefined => x === undefined || !Array.isArray(x);

/** The next billing send that goes out (a suspension skips some), with the LMP month it reads. */
export function nextBilling(c: EffectiveCustomer, now: Date): { periodKey: string; due: Date; seatsMonth: string } | undefined {
  const report = c.reports.find((r) => r.report === "billing");
  if (!report) return undefined;
  const sends = previewCustomer({ ...c, reports: [report] }, now, 3).reports[0]?.sends ?? [];
  const send = sends.find((s) => !s.skipped);
  return send && { periodKey: send.periodKey, due: send.due, seatsMonth: seatsMonthOf(c, report, send.due) };
}

/** What a billing line does to the money, and whether it lowers the quantity. */
function previewLine(l: BillingLine, additions: ReadonlyMap<number, readonly Addition[] | FailedRead>): PreviewLine {
  const previous = l.previous;
  const change = l.quantity === undefined || (l.op === "refused" && previous === undefined) ? undefined : l.quantity - (previous ?? 0);
  const got = l.agreementId === undefined ? undefined : additions.get(l.agreementId);
  const addition = l.additionId === undefined || failed(got) ? undefined : got.find((a) => a.id === l.additionId);
  const unitPrice = addition ? unitPriceOf(addition) : undefined;
  return {
    product: l.product, productName: l.productName, op: l.op,
    ...(previous !== undefined ? { previous } : {}),
    ...(l.quantity !== undefined ? { quantity: l.quantity } : {}),
    ...(change !== undefined ? { change } : {}),
    ...(unitPrice !== undefined ? { unitPrice } : {}),
    ...(unitPrice !== undefined && change !== undefined ? { money: money(change * unitPrice) } : {}),
    decrease: change !== undefined && change < 0 && (l.op === "held" || l.op === "set"),
    ...(l.reason ? { reason: l.reason } : {}),
    ...(l.message ? { message: l.message } : l.warning ? { message: l.warning.message } : {}),
  };
}

/**
 * The billing preview (DESIGN §10): per enabled customer that bills, its next billing and, per billed
 * product, the addition's quantity now → the LMP seats now, as `billingLine` — the billing's own
 * decision — computes it from what was read now. Pure: the use case reads, this decides.
 */
export function billingPreview(inp: PreviewInputs): BillingPreview[] {
  const seen = new Map<string, number>();
  for (const c of inp.customers) seen.set(norm(c.lmpCustomer), (seen.get(norm(c.lmpCustomer)) ?? 0) + 1);
  return inp.customers.flatMap((c): BillingPreview[] => {
    const report = c.reports.find((r) => r.report === "billing");
    if (!report) return [];
    const base = { customer: c.name, timezone: c.timezone };
    const next = nextBilling(c, inp.now);
    if (!next) return [{ ...base, state: "none", reason: "suspended", message: "no billing goes out in the next three (suspended)" }];
    const when = { periodKey: next.periodKey, due: next.due, seatsMonth: next.seatsMonth };
    const none = (reason: string, message: string): BillingPreview[] => [{ ...base, ...when, state: "none", reason, message }];
    const checks = inp.checks.get(c.name);
    if (!checks) return none("connectwise.unavailable", "ConnectWise was not read for this customer");
    if (checks.company.state !== "found") return none(`company.${checks.company.state}`, `company ${c.companyId} is ${checks.company.state.replace("-", " ")} in ConnectWise`);
    const rows = inp.rows.get(next.seatsMonth);
    if (failed(rows)) return none("license.unavailable", `the LMP report for ${next.seatsMonth} could not be read: ${rows?.error ?? "not fetched"}`);
    if (rows.length === 0) return none("lmpi.empty-report", `the LMP report for ${next.seatsMonth} has no rows yet`);
    const additions = new Map<number, readonly Addition[]>();
    for (const m of checks.mappings) {
      if (m.state !== "resolved" || !report.products?.includes(m.product)) continue;
      const got = inp.additions.get(m.agreements[0].id);
      if (failed(got)) return none("connectwise.unavailable", `the additions of agreement #${m.agreements[0].id} could not be read: ${got?.error ?? "not fetched"}`);
      additions.set(m.agreements[0].id, got);
    }
    const day = next.due.toISOString().slice(0, 10);
    const claimedTwice = (seen.get(norm(c.lmpCustomer)) ?? 0) > 1;
    const lines = (report.products ?? []).map((p) => previewLine(billingLine(p, { customer: c, global: inp.global, checks, rows, additions, claimedTwice, day }), inp.additions));
    return [{ ...base, ...when, state: "ok", lines }];
  });
}
