import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface BulkCustomerOptions {
  /** Day of the month billing is due (default 1). */
  dayOfMonth?: number;
  /** Local time of day (default "06:00", UTC). */
  at?: string;
  /** The `_global.yaml` to copy (default: this project's). */
  globalFrom?: string;
}

export const bulkName = (i: number) => `bulk-${String(i).padStart(5, "0")}`;

/**
 * Writes `customers/_global.yaml` and `n` customer files into `dir`: each billing two products
 * (`wfbs-svc`, `hes`) on its company's default agreement, no email reports — the shape of the
 * crash tests and the 5,000-customer benchmark. The sandboxes seed themselves from these files.
 */
export function writeBulkCustomers(dir: string, n: number, opts: BulkCustomerOptions = {}): void {
  const customers = join(dir, "customers");
  mkdirSync(customers, { recursive: true });
  copyFileSync(opts.globalFrom ?? join(import.meta.dirname, "../../customers/_global.yaml"), join(customers, "_global.yaml"));
  for (let i = 1; i <= n; i++) {
    const name = bulkName(i);
    writeFileSync(join(customers, `${name}.yaml`), `# yaml-language-server: $schema=../schemas/customer.schema.json
apiVersion: cwsync/v1
kind: Customer
name: ${name}
displayName: Bulk Customer ${i}
trendMicro:
  customer: Bulk Customer ${i} Ltd
connectwise:
  enabled: true
  companyId: BULK${String(i).padStart(5, "0")}
agreements:
  wfbs-svc: default
  hes: default
notifications:
  timezone: UTC
  at: "${opts.at ?? "06:00"}"
  billing:
    products: [wfbs-svc, hes]
    dayOfMonth: ${opts.dayOfMonth ?? 1}
`);
  }
}
