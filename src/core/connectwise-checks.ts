import type { GlobalFile } from "../config/model.ts";
import type { EffectiveCustomer } from "../config/resolve.ts";
import type { Agreement, AgreementType, CatalogItem, Company, CompanyStatus } from "../ports/connectwise.ts";

/** What ConnectWise holds for the customers in question (read once, batched). */
export interface ConnectWiseSnapshot {
  companies: Company[];
  agreements: Agreement[];
  catalog: CatalogItem[];
  agreementTypes: AgreementType[];
  /** The tenant's company status table; a company's activity is its status's `inactiveFlag`. */
  companyStatuses: CompanyStatus[];
}

export type CompanyCheck =
  | { state: "found"; company: Company }
  | { state: "not-found"; identifier: string }
  | { state: "deleted" | "inactive"; company: Company };

export type MappingState = "resolved" | "agreement.not-found" | "agreement.ambiguous" | "agreement.cancelled";

export interface MappingCheck {
  product: string;
  state: MappingState;
  /** The one active agreement when resolved; the candidates otherwise. */
  agreements: Agreement[];
  message: string;
}

export interface CatalogCheck {
  product: string;
  catalogItem: string;
  state: "present" | "missing" | "inactive";
  item?: CatalogItem;
}

export interface CustomerChecks {
  name: string;
  company: CompanyCheck;
  mappings: MappingCheck[];
  catalog: CatalogCheck[];
}

const same = (a: string | undefined, b: string) => a?.toLowerCase() === b.toLowerCase();
const isCancelled = (a: Agreement) => a.cancelledFlag === true || a.agreementStatus === "Cancelled";
const isActive = (a: Agreement) => !isCancelled(a) && (a.agreementStatus === undefined || a.agreementStatus === "Active");

/**
 * The company for an identifier: ConnectWise compares identifiers case-insensitively; an exact match
 * wins. Inactive means its status is flagged inactive in the tenant's status table (names are each
 * tenant's own: "Active - Managed", "Credit Hold"); a status the table does not list counts as active.
 */
export function checkCompany(identifier: string, companies: readonly Company[], statuses: readonly CompanyStatus[]): CompanyCheck {
  const matches = companies.filter((c) => same(c.identifier, identifier));
  const company = matches.find((c) => c.identifier === identifier) ?? matches.find((c) => !c.deletedFlag) ?? matches[0];
  if (!company) return { state: "not-found", identifier };
  if (company.deletedFlag) return { state: "deleted", company };
  const status = company.status && statuses.find((s) => s.id === company.status!.id);
  if (status?.inactiveFlag === true) return { state: "inactive", company };
  return { state: "found", company };
}

const describeAgreement = (a: Agreement) => `“${a.name}” (#${a.id}, ${a.type.name}${a.agreementStatus && a.agreementStatus !== "Active" ? `, ${a.agreementStatus}` : ""})`;

const matches = (a: Agreement, m: { type: string; name: string }) => same(a.type.name, m.type) && same(a.name, m.name);

/**
 * A mapping resolves to exactly one active, non-cancelled agreement of the company, else a reason.
 * `default` looks among the agreements of a default type that no explicit mapping of the same
 * customer names: an MSP that maps its email product to a "Managed Service" agreement by name
 * still means the other one by "default".
 */
export function checkMapping(
  product: string,
  mapping: EffectiveCustomer["agreements"][string],
  companyAgreements: readonly Agreement[],
  defaultTypes: readonly string[],
  explicit: readonly { type: string; name: string }[] = [],
): MappingCheck {
  const wanted = mapping === "default"
    ? companyAgreements.filter((a) => defaultTypes.some((t) => same(a.type.name, t)) && !explicit.some((m) => matches(a, m)))
    : companyAgreements.filter((a) => matches(a, mapping));
  const what = mapping === "default" ? `an agreement of a default type (${defaultTypes.join(", ")})` : `agreement “${mapping.name}” of type ${mapping.type}`;
  const active = wanted.filter(isActive);
  if (active.length === 1) return { product, state: "resolved", agreements: active, message: `${describeAgreement(active[0])}` };
  if (active.length > 1) {
    return { product, state: "agreement.ambiguous", agreements: active, message: `${active.length} active matches for ${what}: ${active.map(describeAgreement).join(", ")} — nothing is billed until one remains` };
  }
  if (wanted.length > 0) {
    return { product, state: "agreement.cancelled", agreements: wanted, message: `${what} is no longer active: ${wanted.map(describeAgreement).join(", ")}` };
  }
  return { product, state: "agreement.not-found", agreements: [], message: `the company has no ${what}` };
}

interface SnapshotIndex {
  companies: Map<string, Company[]>;
  agreements: Map<number, Agreement[]>;
  catalog: Map<string, CatalogItem>;
}

// One index per snapshot: checking thousands of customers must not scan every company for each.
const indexes = new WeakMap<ConnectWiseSnapshot, SnapshotIndex>();

function indexOf(snapshot: ConnectWiseSnapshot): SnapshotIndex {
  let ix = indexes.get(snapshot);
  if (ix) return ix;
  ix = { companies: new Map(), agreements: new Map(), catalog: new Map() };
  for (const c of snapshot.companies) {
    const k = c.identifier.toLowerCase();
    ix.companies.set(k, [...(ix.companies.get(k) ?? []), c]);
  }
  for (const a of snapshot.agreements) ix.agreements.set(a.company.id, [...(ix.agreements.get(a.company.id) ?? []), a]);
  for (const i of snapshot.catalog) if (!ix.catalog.has(i.identifier.toLowerCase())) ix.catalog.set(i.identifier.toLowerCase(), i);
  indexes.set(snapshot, ix);
  return ix;
}

/** Pure: every ConnectWise-side check of one customer against a snapshot. */
export function checkCustomer(c: EffectiveCustomer, global: GlobalFile, snapshot: ConnectWiseSnapshot): CustomerChecks {
  const ix = indexOf(snapshot);
  const company: CompanyCheck = c.companyId ? checkCompany(c.companyId, ix.companies.get(c.companyId.toLowerCase()) ?? [], snapshot.companyStatuses) : { state: "not-found", identifier: "" };
  const own = company.state === "not-found" ? [] : (ix.agreements.get(company.company.id) ?? []);
  const explicit = Object.values(c.agreements).filter((m) => m !== "default");
  const mappings = Object.entries(c.agreements).map(([product, m]) => checkMapping(product, m, own, global.connectwise.defaultAgreementTypes, explicit));
  const catalog = Object.keys(c.agreements).flatMap((product): CatalogCheck[] => {
    const p = global.products[product];
    if (!p) return [];
    const item = ix.catalog.get(p.catalogItem.toLowerCase());
    return [{ product, catalogItem: p.catalogItem, state: !item ? "missing" : item.inactiveFlag ? "inactive" : "present", item }];
  });
  return { name: c.name, company, mappings, catalog };
}

/** Status ids the snapshot's companies carry that the status table does not list (they count as active). */
export function unlistedCompanyStatuses(snapshot: ConnectWiseSnapshot): { id: number; name: string }[] {
  const listed = new Set(snapshot.companyStatuses.map((s) => s.id));
  const out = new Map<number, { id: number; name: string }>();
  for (const c of snapshot.companies) if (c.status && !listed.has(c.status.id)) out.set(c.status.id, { id: c.status.id, name: c.status.name });
  return [...out.values()];
}

/** Default agreement types configured in `_global.yaml` that ConnectWise does not know (or has inactive). */
export function unknownDefaultTypes(global: GlobalFile, types: readonly AgreementType[]): string[] {
  return global.connectwise.defaultAgreementTypes.filter((t) => !types.some((x) => same(x.name, t) && !x.inactiveFlag));
}
