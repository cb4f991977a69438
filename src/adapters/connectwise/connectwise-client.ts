import { ApiError } from "../../errors.ts";
import type {
  Addition, Agreement, AgreementType, CatalogItem, Company, ConnectWise, CreateResult, NewAddition, NewTicket, Ticket, TicketNote,
} from "../../ports/connectwise.ts";
import { cond, quote } from "./conditions.ts";
import { batches, fetchAll, PAGE_SIZE } from "./paging.ts";
import type { ConnectWiseTransport, Query } from "./transport.ts";

/** Longest request URL we send; ConnectWise advises staying under ~2,000 characters. */
export const MAX_URL = 1800;
/** At most this many identifiers per `identifier in (…)` (DESIGN §3). */
export const MAX_IDENTIFIERS = 100;
const MAX_COMPANY_IDS = 250;

const COMPANY_FIELDS = "id,identifier,name,status/id,status/name,deletedFlag";
const AGREEMENT_FIELDS = "id,name,type/id,type/name,company/id,company/identifier,company/name,agreementStatus,cancelledFlag";

/** The ConnectWise port over HTTP: batching, paging, and create semantics that never double-create. */
export class ConnectWiseClient implements ConnectWise {
  constructor(private readonly http: ConnectWiseTransport) {}

  /** Runs `in (…)` lists in batches that respect count and URL length; batches run concurrently under the limiter. */
  private async inBatches<T, V extends string | number>(
    path: string,
    field: Parameters<typeof cond.in>[0],
    values: readonly V[],
    maxCount: number,
    query: Query,
    signal?: AbortSignal,
  ): Promise<T[]> {
    const unique = [...new Set(values)];
    if (unique.length === 0) return [];
    // quote() refuses unsafe values before any request is made
    const render = (v: V) => (typeof v === "number" ? String(v) : quote(v));
    const fixed = this.http.url(path, { ...query, conditions: `${field} in ()`, pageSize: PAGE_SIZE, page: 10 }).href.length;
    const groups = batches(unique, render, { maxCount, budget: MAX_URL - fixed });
    const results = await Promise.all(groups.map((g) => fetchAll<T>(this.http, path, { ...query, conditions: cond.in(field, g) }, signal)));
    return results.flat();
  }

  findCompanies(identifiers: readonly string[], signal?: AbortSignal): Promise<Company[]> {
    return this.inBatches<Company, string>("company/companies", "identifier", identifiers, MAX_IDENTIFIERS, { fields: COMPANY_FIELDS }, signal);
  }

  async getCompany(id: number, signal?: AbortSignal): Promise<Company | undefined> {
    try {
      return (await this.http.send("GET", `company/companies/${id}`, { query: { fields: COMPANY_FIELDS }, signal })).body as Company;
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return undefined;
      throw e;
    }
  }

  agreementsOf(companyIds: readonly number[], signal?: AbortSignal): Promise<Agreement[]> {
    return this.inBatches<Agreement, number>("finance/agreements", "company/id", companyIds, MAX_COMPANY_IDS, { fields: AGREEMENT_FIELDS }, signal);
  }

  async changedSince(since: Date, signal?: AbortSignal): Promise<{ companies: Company[]; agreements: Pick<Agreement, "id" | "company">[] }> {
    const conditions = cond.after("lastUpdated", since);
    const [companies, agreements] = await Promise.all([
      fetchAll<Company>(this.http, "company/companies", { conditions, fields: COMPANY_FIELDS }, signal),
      fetchAll<Pick<Agreement, "id" | "company">>(this.http, "finance/agreements", { conditions, fields: "id,company/id,company/identifier" }, signal),
    ]);
    return { companies, agreements };
  }

  agreementTypes(signal?: AbortSignal): Promise<AgreementType[]> {
    return fetchAll<AgreementType>(this.http, "finance/agreements/types", { fields: "id,name,inactiveFlag" }, signal);
  }

  catalogItems(identifiers: readonly string[], signal?: AbortSignal): Promise<CatalogItem[]> {
    return this.inBatches<CatalogItem, string>("procurement/catalog", "identifier", identifiers, MAX_IDENTIFIERS, { fields: "id,identifier,description,inactiveFlag,productClass" }, signal);
  }

  additionsOf(agreementId: number, signal?: AbortSignal): Promise<Addition[]> {
    return fetchAll<Addition>(this.http, `finance/agreements/${agreementId}/additions`, {}, signal);
  }

  createAddition(agreementId: number, a: NewAddition, signal?: AbortSignal): Promise<CreateResult<Addition>> {
    return this.create<Addition>(`finance/agreements/${agreementId}/additions`, {
      product: { id: a.productId },
      quantity: a.quantity,
      billCustomer: a.billCustomer,
      effectiveDate: `${a.effectiveDate}T00:00:00Z`,
      ...(a.description ? { description: a.description } : {}),
    }, signal);
  }

  async setAdditionQuantity(agreementId: number, additionId: number, quantity: number, signal?: AbortSignal): Promise<Addition> {
    const res = await this.http.send("PATCH", `finance/agreements/${agreementId}/additions/${additionId}`, {
      body: [{ op: "replace", path: "quantity", value: quantity }],
      signal,
    });
    return res.body as Addition;
  }

  findTicketsByKey(key: string, signal?: AbortSignal): Promise<Ticket[]> {
    if (!/^cws-[0-9a-f]{10}$/.test(key)) throw new TypeError(`not a send key: ${key}`);
    return fetchAll<Ticket>(this.http, "service/tickets", { conditions: cond.contains("summary", key), fields: "id,summary,board/id,board/name,status/id,status/name,company/id,company/identifier" }, signal);
  }

  createTicket(t: NewTicket, signal?: AbortSignal): Promise<CreateResult<Ticket>> {
    if (t.summary.length > 100) throw new TypeError(`ticket summary longer than 100 characters: ${t.summary}`);
    return this.create<Ticket>("service/tickets", {
      summary: t.summary,
      recordType: "ServiceTicket",
      board: { name: t.boardName },
      ...(t.statusName ? { status: { name: t.statusName } } : {}),
      company: { id: t.companyId },
      initialDescription: t.initialDescription,
      processNotifications: false,
    }, signal);
  }

  addTicketNote(ticketId: number, text: string, signal?: AbortSignal): Promise<CreateResult<TicketNote>> {
    return this.create<TicketNote>(`service/tickets/${ticketId}/notes`, {
      text,
      detailDescriptionFlag: true,
      internalAnalysisFlag: false,
      resolutionFlag: false,
      processNotifications: false,
    }, signal);
  }

  /**
   * POST once. A lost connection or a 5xx after sending may or may not have created the record:
   * `unknown` tells the caller to look before creating again. A redirect (cloud proxies answer
   * creates with one) means it was created.
   */
  private async create<T>(path: string, body: unknown, signal?: AbortSignal): Promise<CreateResult<T>> {
    try {
      const res = await this.http.send("POST", path, { body, signal });
      if (res.status >= 300) {
        const location = res.headers.location;
        return { outcome: "created-elsewhere", location: String(Array.isArray(location) ? location[0] : (location ?? "")) };
      }
      return { outcome: "created", entity: res.body as T };
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      // a refused connection never carried the request
      const neverSent = e.reason === "connection refused";
      if (!neverSent && (e.status === undefined || e.status >= 500 || e.status === 429)) {
        return { outcome: "unknown", reason: e.message };
      }
      return { outcome: "rejected", error: e };
    }
  }
}
