import type { ConnectWiseSeed } from "./model.ts";
import { SeedBuilder } from "./seed-builder.ts";

export interface BulkSeedOptions {
  /** The type of each company's managed agreement (default "TMRM Management Solution", the first default type). */
  agreementType?: string;
  /** Records to start from (e.g. `seedFromCustomers(…)`); the bulk records follow their ids. */
  base?: ConnectWiseSeed;
}

/**
 * `n` companies `BULK00001`…, each with one active agreement of a default type and one
 * "Break Fix" agreement: enough rows for pagination tests and benchmarks.
 */
export function bulkSeed(n: number, opts: BulkSeedOptions = {}): ConnectWiseSeed {
  const b = new SeedBuilder(opts.base);
  const type = opts.agreementType ?? "TMRM Management Solution";
  b.agreementType(type);
  b.agreementType("Break Fix");
  // tickets need a board even when no base seed brings one
  if (!b.hasBoards()) b.board("Managed Services", ["New", "In Progress", "Closed"]);
  const width = Math.max(5, String(n).length);
  for (let i = 1; i <= n; i++) {
    const num = String(i).padStart(width, "0");
    const company = b.company(`BULK${num}`, `Bulk Customer ${num}`);
    b.agreement(company, type, `Bulk Customer ${num} - Managed Services`);
    b.agreement(company, "Break Fix", `Bulk Customer ${num} - Break Fix`);
  }
  return b.build();
}
