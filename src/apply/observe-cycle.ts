import type { GlobalFile } from "../config/model.ts";
import { checkCustomer, unlistedCompanyStatuses, type CustomerChecks } from "../core/connectwise-checks.ts";
import type { Desired } from "../core/desired.ts";
import { acting, skipReason, type DueSend, type Observed } from "../core/plan.ts";
import { seatsMonthOf } from "../core/seats-month.ts";
import { observeConnectWise } from "../observe/observe-connectwise.ts";
import type { Addition, ConnectWise } from "../ports/connectwise.ts";
import { UNREADABLE_REPORT, type LicenseRow, type LicenseSource } from "../ports/license-source.ts";
import { ApiError } from "../errors.ts";

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** Verifies every acting, enabled customer against ConnectWise: a few batched reads. */
export async function observeChecks(
  cw: ConnectWise, desired: Desired, signal?: AbortSignal, notice?: (fields: Record<string, unknown>, message: string) => void,
): Promise<Pick<Observed, "checks" | "connectwiseError">> {
  const global = desired.global;
  if (!global) return { checks: new Map() };
  const customers = desired.customers.filter(acting).map((d) => d.customer).filter((c) => c.enabled);
  try {
    const snapshot = await observeConnectWise(cw, customers, global, signal);
    for (const s of unlistedCompanyStatuses(snapshot)) {
      notice?.({ statusId: s.id, statusName: s.name }, "a company status is missing from the status table: its companies count as active");
    }
    return { checks: new Map(customers.map((c) => [c.name, checkCustomer(c, global, snapshot)])) };
  } catch (e) {
    return { connectwiseError: message(e) };
  }
}

/** What the due billing sends need read: LMP report months and the additions of the billed agreements. */
export function billingNeeds(due: readonly DueSend[], checks: ReadonlyMap<string, CustomerChecks> | undefined, global: GlobalFile | undefined): { months: string[]; agreements: number[] } {
  const months = new Set<string>();
  const agreements = new Set<number>();
  if (!checks || !global) return { months: [], agreements: [] };
  for (const d of due) {
    const c = d.customer.customer;
    if (d.report.report !== "billing" || d.entry || (d.trigger === "schedule" && skipReason(c, d.send.due))) continue;
    const ch = checks.get(c.name);
    if (!ch || ch.company.state !== "found") continue;
    months.add(seatsMonthOf(c, d.report, d.send.due));
    for (const m of ch.mappings) if (m.state === "resolved" && d.report.products?.includes(m.product)) agreements.add(m.agreements[0].id);
  }
  return { months: [...months].sort(), agreements: [...agreements] };
}

async function pool<T>(items: readonly T[], n: number, fn: (t: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(Array.from({ length: Math.min(n, queue.length) }, async () => {
    for (let t = queue.shift(); t !== undefined; t = queue.shift()) await fn(t);
  }));
}

/** Reads the LMP months and agreement additions; a failure is kept per month or agreement, never thrown. */
export async function observeBilling(
  cw: ConnectWise, license: LicenseSource, needs: { months: string[]; agreements: number[] }, signal?: AbortSignal,
): Promise<Pick<Observed, "licenses" | "additions">> {
  const licenses = new Map<string, LicenseRow[] | { error: string; reason?: string }>();
  const additions = new Map<number, Addition[] | { error: string }>();
  await Promise.all([
    pool(needs.months, 2, async (m) => {
      const [y, mo] = m.split("-").map(Number);
      try {
        licenses.set(m, await license.summary(y, mo, signal));
      } catch (e) {
        // a 2xx that is not the report has its own reason: the answer came, it was garbled
        const unreadable = e instanceof ApiError && e.code === UNREADABLE_REPORT;
        licenses.set(m, { error: message(e), ...(unreadable ? { reason: "lmpi.unreadable" } : {}) });
      }
    }),
    // the ConnectWise client's limiter bounds the real concurrency and rate
    pool(needs.agreements, 16, async (id) => {
      try {
        additions.set(id, await cw.additionsOf(id, signal));
      } catch (e) {
        additions.set(id, { error: message(e) });
      }
    }),
  ]);
  return { licenses, additions };
}
