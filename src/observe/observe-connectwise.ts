import type { GlobalFile } from "../config/model.ts";
import type { EffectiveCustomer } from "../config/resolve.ts";
import type { ConnectWiseSnapshot } from "../core/connectwise-checks.ts";
import type { ConnectWise } from "../ports/connectwise.ts";

/**
 * Reads what the checks need for many customers at once: companies by identifier, their
 * agreements, the catalogue items, agreement types and the company status table — a handful of batched requests, not one
 * per customer. Read-only.
 */
export async function observeConnectWise(
  cw: ConnectWise,
  customers: readonly EffectiveCustomer[],
  global: GlobalFile,
  signal?: AbortSignal,
): Promise<ConnectWiseSnapshot> {
  const identifiers = customers.filter((c) => c.enabled && c.companyId).map((c) => c.companyId!);
  const catalogItems = [...new Set(customers.flatMap((c) => Object.keys(c.agreements)).map((p) => global.products[p]?.catalogItem).filter((x): x is string => !!x))];
  const [companies, catalog, agreementTypes, companyStatuses] = await Promise.all([
    cw.findCompanies(identifiers, signal),
    cw.catalogItems(catalogItems, signal),
    cw.agreementTypes(signal),
    cw.companyStatuses(signal),
  ]);
  const agreements = await cw.agreementsOf(companies.filter((c) => !c.deletedFlag).map((c) => c.id), signal);
  return { companies, agreements, catalog, agreementTypes, companyStatuses };
}
