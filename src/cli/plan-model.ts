import type { Diagnostic } from "../config/diagnostic.ts";
import type { LoadResult } from "../config/load.ts";
import { resolveCustomer, type EffectiveCustomer } from "../config/resolve.ts";
import type { ConfigDiff } from "../core/config-diff.ts";
import type { BillingPreview } from "../core/billing-preview.ts";
import type { CustomerChecks } from "../core/connectwise-checks.ts";
import type { CustomerPreview } from "../core/preview.ts";

/** Everything `plan` shows; rendered as text, Markdown or JSON. */
export interface PlanView {
  at: Date;
  base?: string;
  previews: CustomerPreview[];
  /** Customers whose file has errors at the head: the daemon keeps their last valid config. */
  invalid: { name: string; file: string; errors: Diagnostic[] }[];
  /** `_global.yaml` missing or invalid: every customer is held back. */
  blocked?: Diagnostic[];
  diff?: ConfigDiff;
  /**
   * `--online`: what ConnectWise says about each enabled customer, and the billing preview: each
   * customer's next billing, the additions' quantities now → the LMP seats now (DESIGN §10).
   */
  online?: { target: string; checks: CustomerChecks[]; unknownDefaultTypes: string[]; skipped: string[]; preview: BillingPreview[] };
}

export function effectiveCustomers(result: LoadResult): Map<string, EffectiveCustomer> {
  const map = new Map<string, EffectiveCustomer>();
  if (!result.global) return map;
  for (const c of result.customers) if (c.config) map.set(c.name, resolveCustomer(c.config, result.global));
  return map;
}

export function changeCount(diff: ConfigDiff | undefined): number {
  return diff ? diff.changes.length + diff.global.length : 0;
}
