import { readConfigFiles } from "../adapters/config-files.ts";
import { loadConfig } from "../config/load.ts";
import type { GlobalFile } from "../config/model.ts";
import { resolveCustomer, type EffectiveCustomer } from "../config/resolve.ts";
import { ConfigError } from "../errors.ts";
import type { ConnectWiseSeed, SandboxAgreement } from "./model.ts";
import { SeedBuilder, stableHash } from "./seed-builder.ts";

export { bulkSeed } from "./bulk-seed.ts";

export const TICKET_STATUSES = ["New", "In Progress", "Closed"] as const;
export const STANDARD_BOARD = "Managed Services";
export const BREAK_FIX = "Break Fix";

/** The customer whose `default` mapping finds two active agreements of default types. */
export const AMBIGUOUS_CUSTOMER = "fabrikam-retail";
/** The customer whose explicit agreement has a cancelled twin of the same type and name. */
export const CANCELLED_TWIN = { customer: "northwind-logistics", agreement: "Northwind - Web Gateway" } as const;

/** Name of the agreement a `default` mapping is seeded with. */
export const defaultAgreementName = (displayName: string) => `${displayName} - Managed Services`;

/**
 * Deterministic ConnectWise data for these customers: each enabled customer's company, the
 * agreements its mappings name, the catalogue, additions for some billed products (every third
 * one is left missing so that creating one is exercised), the ticket board; plus records that
 * match nothing or exercise failure modes: a deleted company (OldTenant), an inactive one
 * (DormantCo), a look-alike (AcmeCorpUK), exactly two active default-type agreements for
 * fabrikam-retail (its `default` is ambiguous), and a cancelled twin of northwind-logistics's
 * "Northwind - Web Gateway" that still holds a cancelled addition.
 */
export function seedFromCustomers(customers: readonly EffectiveCustomer[], global: GlobalFile): ConnectWiseSeed {
  const b = new SeedBuilder();
  const defaults = global.connectwise.defaultAgreementTypes;
  for (const t of defaults) b.agreementType(t);
  b.agreementType(BREAK_FIX);
  const products = Object.entries(global.products).sort(([x], [y]) => x.localeCompare(y));
  for (const [, p] of products) b.catalogItem(p.catalogItem, p.displayName);
  const tickets = global.connectwise.tickets;
  b.board(STANDARD_BOARD, TICKET_STATUSES);
  b.board(tickets.board, [...TICKET_STATUSES, ...(tickets.status ? [tickets.status] : [])]);

  const billed: { customer: EffectiveCustomer; product: string; agreement: SandboxAgreement }[] = [];
  const seen = new Set<string>();
  const enabled = customers.filter((c) => c.enabled && c.companyId).sort((x, y) => x.name.localeCompare(y.name));
  for (const c of enabled) {
    const companyId = c.companyId as string;
    // validation keeps enabled company IDs unique; a duplicate here is skipped, never seeded twice
    if (seen.has(companyId.toLowerCase())) continue;
    seen.add(companyId.toLowerCase());
    const company = b.company(companyId, c.displayName);
    const byProduct = new Map<string, SandboxAgreement>();
    for (const [product, mapping] of Object.entries(c.agreements).sort(([x], [y]) => x.localeCompare(y))) {
      const agreement = mapping === "default"
        ? b.agreement(company, defaults[0], defaultAgreementName(c.displayName))
        : b.agreement(company, mapping.type, mapping.name);
      byProduct.set(product, agreement);
    }
    if (c.name === AMBIGUOUS_CUSTOMER && Object.values(c.agreements).includes("default")) {
      // `default` means "the company's one active agreement of a default type that no explicit
      // mapping of the customer names": a second such agreement makes it ambiguous.
      b.agreement(company, defaults[1] ?? defaults[0], `${c.displayName} - Managed Services (2024)`);
    }
    if (c.name === CANCELLED_TWIN.customer) {
      const twin = Object.entries(c.agreements).find(([, m]) => m !== "default" && m.name === CANCELLED_TWIN.agreement);
      if (twin && twin[1] !== "default") {
        const old = b.agreement(company, twin[1].type, twin[1].name, "Cancelled");
        // the old agreement still holds its cancelled line: a client that picks it would bill the wrong agreement
        const item = global.products[twin[0]] && b.catalogItem(global.products[twin[0]].catalogItem, global.products[twin[0]].displayName);
        if (item) b.addition(old, item, 12, { cancelled: true });
      }
    }
    const billing = c.reports.find((r) => r.report === "billing");
    for (const product of [...(billing?.products ?? [])].sort()) {
      const agreement = byProduct.get(product);
      if (agreement && global.products[product]) billed.push({ customer: c, product, agreement });
    }
  }

  billed.forEach(({ customer, product, agreement }, i) => {
    const missing = i % 3 === 2 || (billed.length < 3 && i === billed.length - 1);
    if (missing) return;
    const p = global.products[product];
    const h = stableHash(`${customer.name}/${product}`);
    // appliances are few; seats are tens
    const quantity = p.quantity === "provisioned" ? 1 + (h % 4) : 5 + (h % 96);
    b.addition(agreement, b.catalogItem(p.catalogItem, p.displayName), quantity);
  });

  b.company("OldTenant", "Old Tenant Ltd", { deleted: true });
  const dormant = b.company("DormantCo", "Dormant Co", { inactive: true });
  b.agreement(dormant, defaults[0], defaultAgreementName("Dormant Co"));
  const lookalike = b.company("AcmeCorpUK", "Acme Corporation UK");
  b.agreement(lookalike, BREAK_FIX, "Acme Corporation UK - Break Fix");
  return b.build();
}

/**
 * The repository's `customers/` folder as the sandboxes are seeded from it: its valid customers
 * only (an invalid file is left out rather than stopping the demo), resolved against the global file.
 */
export function loadSandboxCustomers(repoDir: string): { customers: EffectiveCustomer[]; global: GlobalFile } {
  const { groups } = readConfigFiles(["customers"], repoDir);
  const group = groups[0];
  const result = loadConfig(group?.files ?? [], group?.globalPath ?? "customers/_global.yaml");
  const global = result.global;
  if (!global) throw new ConfigError(`${result.globalFile} is missing or invalid: the sandbox cannot be seeded`, result.diagnostics);
  const customers = result.customers.flatMap((c) => (c.config ? [resolveCustomer(c.config, global)] : []));
  return { customers, global };
}

/** Seeds from the repository's `customers/` folder (the demo's `--sandbox`): its valid customers only. */
export function loadSandboxSeed(repoDir: string): ConnectWiseSeed {
  const { customers, global } = loadSandboxCustomers(repoDir);
  return seedFromCustomers(customers, global);
}
