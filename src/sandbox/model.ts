import type { AgreementStatus } from "../ports/connectwise.ts";

/**
 * The records the ConnectWise sandbox serves, stored in their wire shape (what a GET returns,
 * minus computed fields) so that a test can push or edit a record and see it served as is.
 */

export interface SandboxInfo {
  lastUpdated: string;
  updatedBy: string;
  dateEntered?: string;
  enteredBy?: string;
}

interface Entity {
  id: number;
  /** Filled in when served if a test pushes a record without one. */
  _info?: SandboxInfo;
}

export type BillCustomer = "Billable" | "DoNotBill" | "NoCharge";
export type ProductClass = "Agreement" | "Bundle" | "Inventory" | "NonInventory" | "Service";

export interface SandboxCompany extends Entity {
  identifier: string;
  name: string;
  status: { id: number; name: string };
  deletedFlag: boolean;
}

/** A row of `/company/companies/statuses`: tenants name these as they like; `inactiveFlag` is what counts. */
export interface SandboxCompanyStatus extends Entity {
  name: string;
  inactiveFlag: boolean;
  defaultFlag?: boolean;
}

export interface SandboxAgreementType extends Entity {
  name: string;
  inactiveFlag: boolean;
  defaultFlag?: boolean;
}

export interface SandboxAgreement extends Entity {
  name: string;
  type: { id: number; name: string };
  company: { id: number; identifier: string; name: string };
  agreementStatus: AgreementStatus;
  cancelledFlag: boolean;
  startDate?: string;
  dateCancelled?: string | null;
  noEndingDateFlag?: boolean;
}

export interface SandboxCatalogItem extends Entity {
  identifier: string;
  description: string;
  inactiveFlag: boolean;
  productClass: ProductClass;
  price?: number;
  cost?: number;
}

export interface SandboxAddition extends Entity {
  agreementId: number;
  product: { id: number; identifier: string };
  quantity: number;
  lessIncluded: number;
  unitPrice: number;
  unitCost: number;
  billCustomer: BillCustomer;
  effectiveDate: string;
  cancelledDate: string | null;
  agreementStatus: AgreementStatus;
  description?: string;
  invoiceDescription?: string;
  serialNumber?: string;
  taxableFlag?: boolean;
}

export interface SandboxBoard extends Entity {
  name: string;
  inactiveFlag: boolean;
}

export interface SandboxStatus extends Entity {
  board: { id: number; name: string };
  name: string;
  sort: number;
  closedStatus: boolean;
}

export interface SandboxTicket extends Entity {
  summary: string;
  recordType: "ServiceTicket" | "ProjectTicket" | "ProjectIssue";
  board: { id: number; name: string };
  status: { id: number; name: string; sort: number };
  company: { id: number; identifier: string; name: string };
  closedFlag: boolean;
  externalXRef?: string;
}

export interface SandboxNote extends Entity {
  ticketId: number;
  text: string;
  detailDescriptionFlag: boolean;
  internalAnalysisFlag: boolean;
  resolutionFlag: boolean;
  dateCreated: string;
  createdBy: string;
}

/** The live data of one sandbox; tests may read and change it between requests. */
export interface SandboxState {
  companies: SandboxCompany[];
  companyStatuses: SandboxCompanyStatus[];
  agreementTypes: SandboxAgreementType[];
  agreements: SandboxAgreement[];
  catalog: SandboxCatalogItem[];
  additions: SandboxAddition[];
  boards: SandboxBoard[];
  statuses: SandboxStatus[];
  tickets: SandboxTicket[];
  notes: SandboxNote[];
}

export type Collection = keyof SandboxState;

/** Initial data; every collection is optional. The sandbox copies it, so one seed serves many sandboxes. */
export type ConnectWiseSeed = Partial<SandboxState>;

/**
 * Where each collection's ids start. Distinct ranges make a client that sends a company id
 * where an agreement id belongs fail loudly instead of hitting an unrelated record.
 */
export const ID_BASE: Readonly<Record<Collection, number>> = {
  companies: 250,
  companyStatuses: 1,
  agreementTypes: 1,
  agreements: 800,
  catalog: 4400,
  additions: 9900,
  boards: 1,
  statuses: 11,
  tickets: 100_000,
  notes: 500_000,
};

/** The `_info` of seeded records: fixed, so that runs compare equal. */
export const SEED_INFO: Readonly<SandboxInfo> = { lastUpdated: "2025-01-01T00:00:00Z", updatedBy: "seed" };

/**
 * A tenant's company status table as MSPs set it up: ids 1 and 2 are the seed's "Active" and
 * "Inactive"; the others carry tenant names, and "Credit Hold" is flagged inactive.
 */
export const COMPANY_STATUSES: readonly SandboxCompanyStatus[] = [
  { id: 1, name: "Active", inactiveFlag: false, defaultFlag: true },
  { id: 2, name: "Inactive", inactiveFlag: true },
  { id: 3, name: "Active - Managed", inactiveFlag: false },
  { id: 4, name: "Client", inactiveFlag: false },
  { id: 5, name: "Credit Hold", inactiveFlag: true },
  { id: 6, name: "Not Approved", inactiveFlag: true },
];

export function createSandboxState(seed: ConnectWiseSeed = {}): SandboxState {
  const copy = structuredClone(seed);
  return {
    companies: copy.companies ?? [],
    companyStatuses: copy.companyStatuses ?? COMPANY_STATUSES.map((s) => ({ ...s })),
    agreementTypes: copy.agreementTypes ?? [],
    agreements: copy.agreements ?? [],
    catalog: copy.catalog ?? [],
    additions: copy.additions ?? [],
    boards: copy.boards ?? [],
    statuses: copy.statuses ?? [],
    tickets: copy.tickets ?? [],
    notes: copy.notes ?? [],
  };
}

/** The next id of a collection: one past the largest, so records a test pushed are never reused. */
export function nextId(state: SandboxState, collection: Collection): number {
  let max = ID_BASE[collection] - 1;
  for (const e of state[collection]) if (e.id > max) max = e.id;
  return max + 1;
}
