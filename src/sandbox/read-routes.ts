import { countReply, listReply, serve } from "./list-query.ts";
import type {
  SandboxAgreement, SandboxAgreementType, SandboxCompanyStatus, SandboxBoard, SandboxCatalogItem, SandboxCompany, SandboxState, SandboxStatus,
} from "./model.ts";
import { replies } from "./replies.ts";
import type { Handler, Resource, Route } from "./route.ts";

/** The fields `conditions`/`orderBy` accept per endpoint; anything else is "not a recognized name". */
export const RESOURCES = {
  companies: { fields: ["id", "identifier", "name", "status/name", "status/id", "deletedFlag", "lastUpdated"] } as Resource<SandboxCompany>,
  agreements: {
    fields: ["id", "name", "company/id", "company/identifier", "company/name", "type/name", "type/id", "agreementStatus", "cancelledFlag", "lastUpdated"],
  } as Resource<SandboxAgreement>,
  agreementTypes: { fields: ["id", "name", "inactiveFlag", "defaultFlag"] } as Resource<SandboxAgreementType>,
  companyStatuses: { fields: ["id", "name", "inactiveFlag", "defaultFlag"] } as Resource<SandboxCompanyStatus>,
  catalog: { fields: ["id", "identifier", "description", "inactiveFlag", "productClass"] } as Resource<SandboxCatalogItem>,
  boards: { fields: ["id", "name", "inactiveFlag"] } as Resource<SandboxBoard>,
  statuses: { fields: ["id", "name", "sort", "closedStatus", "board/id", "board/name"] } as Resource<SandboxStatus>,
};

type ReadOnly = "companies" | "companyStatuses" | "agreements" | "agreementTypes" | "catalog" | "boards";

const NAMES: Record<ReadOnly, string> = {
  companies: "Company",
  companyStatuses: "CompanyStatus",
  agreements: "Agreement",
  agreementTypes: "AgreementType",
  catalog: "CatalogItem",
  boards: "Board",
};

function list<K extends ReadOnly>(key: K): Handler {
  return (ctx) => listReply(ctx, ctx.state[key] as SandboxState[K], RESOURCES[key] as Resource<SandboxState[K][number]>);
}

function count<K extends ReadOnly>(key: K): Handler {
  return (ctx) => countReply(ctx, ctx.state[key] as SandboxState[K], RESOURCES[key] as Resource<SandboxState[K][number]>);
}

function one<K extends ReadOnly>(key: K): Handler {
  return (ctx, [id]) => {
    const row = (ctx.state[key] as SandboxState[K]).find((r) => r.id === Number(id));
    return row ? replies.ok(serve(ctx, row, RESOURCES[key] as Resource<typeof row>)) : replies.notFound(NAMES[key], Number(id));
  };
}

/** The three routes of a read-only collection: list, `/count`, `/{id}`. */
function collection(prefix: string, key: ReadOnly): Route[] {
  return [
    { pattern: new RegExp(`^${prefix}$`, "i"), methods: { GET: list(key) } },
    { pattern: new RegExp(`^${prefix}/count$`, "i"), methods: { GET: count(key) } },
    { pattern: new RegExp(`^${prefix}/(\\d+)$`, "i"), methods: { GET: one(key) } },
  ];
}

const boardStatuses: Handler = (ctx, [id]) => {
  const board = ctx.state.boards.find((b) => b.id === Number(id));
  if (!board) return replies.notFound("Board", Number(id));
  return listReply(ctx, ctx.state.statuses.filter((s) => s.board.id === board.id), RESOURCES.statuses);
};

/** Companies, agreements, agreement types, the product catalogue and service boards: read only. */
export const readRoutes: Route[] = [
  ...collection("/company/companies/statuses", "companyStatuses"),
  ...collection("/company/companies", "companies"),
  ...collection("/finance/agreements/types", "agreementTypes"),
  ...collection("/finance/agreements", "agreements"),
  ...collection("/procurement/catalog", "catalog"),
  ...collection("/service/boards", "boards"),
  { pattern: /^\/service\/boards\/(\d+)\/statuses$/i, methods: { GET: boardStatuses } },
];
