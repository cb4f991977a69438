/**
 * The ConnectWise Manage operations cwsync uses, in ConnectWise's own JSON shapes (the subset we
 * read). Implemented over HTTP by `adapters/connectwise/`; faked on loopback by `sandbox/`.
 */

export interface Reference {
  id: number;
  name?: string;
  identifier?: string;
}

export interface Company {
  id: number;
  identifier: string;
  name: string;
  status?: { id: number; name: string };
  deletedFlag?: boolean;
}

/** A row of the tenant's company status table: names are the tenant's own; `inactiveFlag` decides. */
export interface CompanyStatus {
  id: number;
  name: string;
  inactiveFlag?: boolean;
}

export type AgreementStatus = "Active" | "Cancelled" | "Expired" | "Inactive";

export interface Agreement {
  id: number;
  name: string;
  type: { id: number; name: string };
  company: { id: number; identifier?: string; name?: string };
  agreementStatus?: AgreementStatus;
  cancelledFlag?: boolean;
}

export interface AgreementType {
  id: number;
  name: string;
  inactiveFlag?: boolean;
}

export interface CatalogItem {
  id: number;
  identifier: string;
  description?: string;
  inactiveFlag?: boolean;
  productClass?: string;
}

export interface Addition {
  id: number;
  product: { id: number; identifier: string };
  quantity: number;
  billCustomer?: "Billable" | "DoNotBill" | "NoCharge";
  effectiveDate?: string;
  cancelledDate?: string | null;
  agreementId?: number;
  agreementStatus?: AgreementStatus;
}

export interface Ticket {
  id: number;
  summary: string;
  board?: Reference;
  status?: Reference;
  company?: Reference;
}

export interface TicketNote {
  id: number;
  ticketId?: number;
  text: string;
}

/**
 * The result of a create. ConnectWise has no idempotency key, so a create whose outcome is
 * unknown (connection lost after sending, 5xx, timeout) is never retried blindly: the caller
 * looks (re-reads additions, searches the ticket key) before creating again.
 */
export type CreateResult<T> =
  | { outcome: "created"; entity: T }
  | { outcome: "created-elsewhere"; location: string }
  | { outcome: "unknown"; reason: string }
  | { outcome: "rejected"; error: Error };

export interface NewAddition {
  productId: number;
  quantity: number;
  /** `YYYY-MM-DD`: the first of the billing month. */
  effectiveDate: string;
  billCustomer: "Billable";
  description?: string;
}

export interface NewTicket {
  boardName: string;
  statusName?: string;
  companyId: number;
  /** ≤ 100 characters, carrying the send key `cws-…`. */
  summary: string;
  initialDescription: string;
}

export interface ConnectWise {
  /** Companies whose identifier is one of `identifiers` (batched; deleted ones included, flagged). */
  findCompanies(identifiers: readonly string[], signal?: AbortSignal): Promise<Company[]>;
  getCompany(id: number, signal?: AbortSignal): Promise<Company | undefined>;
  /** The company status table (`/company/companies/statuses`): read once per cycle. */
  companyStatuses(signal?: AbortSignal): Promise<CompanyStatus[]>;
  /** Every agreement of these companies (batched by `company/id in (…)`). */
  agreementsOf(companyIds: readonly number[], signal?: AbortSignal): Promise<Agreement[]>;
  agreementTypes(signal?: AbortSignal): Promise<AgreementType[]>;
  /**
   * Companies and agreements ConnectWise changed after `since` (its `lastUpdated`), whoever they
   * belong to: two reads that tell whether a verification could have a different outcome now. A
   * hard-deleted record does not show here; only a full verification sees it gone.
   */
  changedSince(since: Date, signal?: AbortSignal): Promise<{ companies: Company[]; agreements: Pick<Agreement, "id" | "company">[] }>;
  catalogItems(identifiers: readonly string[], signal?: AbortSignal): Promise<CatalogItem[]>;
  additionsOf(agreementId: number, signal?: AbortSignal): Promise<Addition[]>;
  createAddition(agreementId: number, addition: NewAddition, signal?: AbortSignal): Promise<CreateResult<Addition>>;
  /** JSON Patch `replace` of `quantity`: absolute, so retrying it is safe. Resolves once a read-back shows the quantity. */
  setAdditionQuantity(agreementId: number, additionId: number, quantity: number, signal?: AbortSignal): Promise<Addition>;
  /** Tickets of this company whose summary contains the send key (`cws-` + 10 hex digits). */
  findTicketsByKey(key: string, companyId: number, signal?: AbortSignal): Promise<Ticket[]>;
  createTicket(ticket: NewTicket, signal?: AbortSignal): Promise<CreateResult<Ticket>>;
  addTicketNote(ticketId: number, text: string, signal?: AbortSignal): Promise<CreateResult<TicketNote>>;
}
