import { ApiError } from "../../errors.ts";
import type {
  Addition, Agreement, AgreementType, CatalogItem, Company, CompanyStatus, ConnectWise, CreateResult, NewAddition, NewTicket, Ticket, TicketNote,
} from "../../ports/connectwise.ts";
import { cond, quote } from "./conditions.ts";
import { batches, fetchAll, fetchAllByKeysetRanges, highestId, MAX_PAGES, PAGE_SIZE } from "./paging.ts";
import { readCount, readOne, SHAPES, type Shape } from "./response-shapes.ts";
import { NOT_SENT, type ConnectWiseTransport, type Query } from "./transport.ts";

/** Longest request URL we send; ConnectWise advises staying under ~2,000 characters. */
export const MAX_URL = 1800;
/** At most this many identifiers per `identifier in (…)` (DESIGN §3). */
export const MAX_IDENTIFIERS = 100;
const MAX_COMPANY_IDS = 250;

/** From this many `in (…)` requests on, ask `/count` whether reading the whole collection takes fewer. */
export const LIST_FROM_BATCHES = 4;
/** A listing of many pages is cut into at most this many id ranges read side by side (a page of 1,000 rows is slow on ConnectWise). */
export const MAX_LISTING_RANGES = 4;

/**
 * An identifier as ConnectWise's `identifier in (…)` matches it (SQL Server, case-insensitive
 * collation, trailing spaces ignored). Only ASCII letters are folded: a value whose match would
 * depend on how non-ASCII letters fold is simply not matched here, and so asked by batch.
 */
export const identifierKey = (s: string): string => s.replace(/ +$/, "").replace(/[A-Z]+/g, (m) => m.toLowerCase());

const COMPANY_FIELDS = "id,identifier,name,status/id,status/name,deletedFlag";
const AGREEMENT_FIELDS = "id,name,type/id,type/name,company/id,company/identifier,company/name,agreementStatus,cancelledFlag";

/** The ConnectWise port over HTTP: batching, paging, and create semantics that never double-create. */
export class ConnectWiseClient implements ConnectWise {
  constructor(private readonly http: ConnectWiseTransport) {}

  /** The `in (…)` lists for `values`, each keeping count and URL length; quote() refuses unsafe values here, before any request. */
  private plan<V extends string | number>(path: string, field: Parameters<typeof cond.in>[0], values: readonly V[], maxCount: number, query: Query): V[][] {
    const render = (v: V) => (typeof v === "number" ? String(v) : quote(v));
    const fixed = this.http.url(path, { ...query, conditions: `${field} in ()`, pageSize: PAGE_SIZE, page: 10 }).href.length;
    return batches(values, render, { maxCount, budget: MAX_URL - fixed });
  }

  /** Runs planned `in (…)` lists; batches run concurrently under the limiter. */
  private async runBatches<T>(path: string, field: Parameters<typeof cond.in>[0], groups: readonly (readonly (string | number)[])[], query: Query, shape: Shape, signal?: AbortSignal): Promise<T[]> {
    const results = await Promise.all(groups.map((g) => fetchAll<T>(this.http, path, { ...query, conditions: cond.in(field, g) }, shape, signal)));
    return results.flat();
  }

  /** `GET <path>/count` with no conditions: how many rows the whole collection holds. */
  private async count(path: string, signal?: AbortSignal): Promise<number> {
    const at = `${path}/count`;
    const res = await this.http.send("GET", at, { signal });
    return readCount(res.body, "GET", at, res.status, (t) => this.http.scrub(t));
  }

  /**
   * The rows whose `field` is one of `values`, exactly as the `in (…)` batches find them, in fewer
   * requests when that is cheaper: from LIST_FROM_BATCHES batches on, `/count` says how many
   * pages the whole collection takes; when that is fewer than the batches, the collection is read
   * by keyset (in up to MAX_LISTING_RANGES id ranges side by side) and filtered here (`keyOf`
   * maps a row to the value it matches, `norm` folds values as ConnectWise compares them). Every
   * value the listing did not find is asked again by batch, so a row it missed for any reason is
   * never reported missing. A listing with fewer rows than the count, or a range that runs past
   * twice the count's pages, falls back to the batches; an unreadable count or page is an error.
   */
  private async listOrBatches<T extends { id: number }, V extends string | number>(
    path: string,
    field: Parameters<typeof cond.in>[0],
    values: readonly V[],
    maxCount: number,
    query: Query,
    shape: Shape,
    keyOf: (row: T) => V | undefined,
    norm: (v: V) => string | number,
    signal?: AbortSignal,
  ): Promise<T[]> {
    const unique = [...new Set(values)];
    if (unique.length === 0) return [];
    const groups = this.plan(path, field, unique, maxCount, query);
    if (groups.length < LIST_FROM_BATCHES) return this.runBatches<T>(path, field, groups, query, shape, signal);
    const total = await this.count(path, signal);
    // a full last page needs one more (empty) page to show it is the last
    const pages = Math.floor(total / PAGE_SIZE) + 1;
    if (pages >= groups.length || pages > MAX_PAGES) return this.runBatches<T>(path, field, groups, query, shape, signal);
    // side by side in id ranges, at the price of the highest-id request and a short page per range
    let ranges = Math.min(MAX_LISTING_RANGES, Math.floor(pages / 2));
    if (ranges < 2 || pages + ranges >= groups.length) ranges = 1;
    const highest = ranges > 1 ? await highestId(this.http, path, signal) : undefined;
    if (highest === undefined) ranges = 1;
    const wanted = new Set(unique.map(norm));
    const keep = (row: T) => {
      const k = keyOf(row);
      return k !== undefined && wanted.has(norm(k));
    };
    // ids need not spread evenly: one range may hold them all, but none more than twice the count
    const maxPagesPerRange = Math.min(MAX_PAGES, 2 * pages + 1);
    const listing = await fetchAllByKeysetRanges<T>(this.http, path, query, shape, { signal, keep, maxPagesPerRange, ranges, highest: highest ?? 0 });
    // the collection grew far past its count while it was read, or the listing holds fewer rows
    // than the count (a row deleted meanwhile, or a server that cut pages short without saying
    // so, which could hide one of a company's agreements): the batches are the answer
    if (!listing.complete || listing.seen < total) return this.runBatches<T>(path, field, groups, query, shape, signal);
    const found = new Set(listing.rows.map((r) => norm(keyOf(r)!)));
    const missing = unique.filter((v) => !found.has(norm(v)));
    if (missing.length === 0) return listing.rows;
    const again = await this.runBatches<T>(path, field, this.plan(path, field, missing, maxCount, query), query, shape, signal);
    const have = new Set(listing.rows.map((r) => r.id));
    return [...listing.rows, ...again.filter((r) => !have.has(r.id))];
  }

  findCompanies(identifiers: readonly string[], signal?: AbortSignal): Promise<Company[]> {
    return this.listOrBatches<Company, string>(
      "company/companies", "identifier", identifiers, MAX_IDENTIFIERS, { fields: COMPANY_FIELDS }, SHAPES.company, (c) => c.identifier, identifierKey, signal,
    );
  }

  companyStatuses(signal?: AbortSignal): Promise<CompanyStatus[]> {
    return fetchAll<CompanyStatus>(this.http, "company/companies/statuses", { fields: "id,name,inactiveFlag" }, SHAPES.companyStatus, signal);
  }

  async getCompany(id: number, signal?: AbortSignal): Promise<Company | undefined> {
    try {
      const path = `company/companies/${id}`;
      const res = await this.http.send("GET", path, { query: { fields: COMPANY_FIELDS }, signal });
      return readOne<Company>(res.body, SHAPES.company, "GET", path, res.status, (t) => this.http.scrub(t));
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return undefined;
      throw e;
    }
  }

  agreementsOf(companyIds: readonly number[], signal?: AbortSignal): Promise<Agreement[]> {
    return this.listOrBatches<Agreement, number>(
      "finance/agreements", "company/id", companyIds, MAX_COMPANY_IDS, { fields: AGREEMENT_FIELDS }, SHAPES.agreement, (a) => a.company.id, (id) => id, signal,
    );
  }

  async changedSince(since: Date, signal?: AbortSignal): Promise<{ companies: Company[]; agreements: Pick<Agreement, "id" | "company">[] }> {
    const conditions = cond.after("lastUpdated", since);
    const [companies, agreements] = await Promise.all([
      fetchAll<Company>(this.http, "company/companies", { conditions, fields: COMPANY_FIELDS }, SHAPES.company, signal),
      fetchAll<Pick<Agreement, "id" | "company">>(this.http, "finance/agreements", { conditions, fields: "id,company/id,company/identifier" }, SHAPES.agreementChange, signal),
    ]);
    return { companies, agreements };
  }

  agreementTypes(signal?: AbortSignal): Promise<AgreementType[]> {
    return fetchAll<AgreementType>(this.http, "finance/agreements/types", { fields: "id,name,inactiveFlag" }, SHAPES.agreementType, signal);
  }

  catalogItems(identifiers: readonly string[], signal?: AbortSignal): Promise<CatalogItem[]> {
    return this.listOrBatches<CatalogItem, string>(
      "procurement/catalog", "identifier", identifiers, MAX_IDENTIFIERS, { fields: "id,identifier,description,inactiveFlag,productClass" }, SHAPES.catalogItem,
      (i) => i.identifier, identifierKey, signal,
    );
  }

  additionsOf(agreementId: number, signal?: AbortSignal): Promise<Addition[]> {
    return fetchAll<Addition>(this.http, `finance/agreements/${agreementId}/additions`, {}, SHAPES.addition, signal);
  }

  createAddition(agreementId: number, a: NewAddition, signal?: AbortSignal): Promise<CreateResult<Addition>> {
    const shows = (x: Addition) => x.quantity === a.quantity && x.product.id === a.productId;
    return this.create<Addition>(`finance/agreements/${agreementId}/additions`, SHAPES.addition, shows, {
      product: { id: a.productId },
      quantity: a.quantity,
      billCustomer: a.billCustomer,
      effectiveDate: `${a.effectiveDate}T00:00:00Z`,
      ...(a.description ? { description: a.description } : {}),
    }, signal);
  }

  /** PATCH, then read the addition back: the change counts only once ConnectWise shows it. */
  async setAdditionQuantity(agreementId: number, additionId: number, quantity: number, signal?: AbortSignal): Promise<Addition> {
    const path = `finance/agreements/${agreementId}/additions/${additionId}`;
    await this.http.send("PATCH", path, { body: [{ op: "replace", path: "quantity", value: quantity }], signal });
    const back = await this.readBack<Addition>(path, SHAPES.addition, signal);
    if (back?.quantity !== quantity) {
      throw new ApiError({
        method: "GET", path, status: back ? 200 : 404, retryable: true, code: "connectwise.unconfirmed",
        apiMessage: `the quantity was set to ${quantity}, but ConnectWise shows ${back ? back.quantity : "no such addition"} when read back — retried on the next reconcile`,
      });
    }
    return back;
  }

  findTicketsByKey(key: string, companyId: number, signal?: AbortSignal): Promise<Ticket[]> {
    if (!/^cws-[0-9a-f]{10}$/.test(key)) throw new TypeError(`not a send key: ${key}`);
    // the company narrows a LIKE '%…%' over every ticket of the tenant to that customer's tickets
    const conditions = cond.and(cond.eq("company/id", companyId), cond.contains("summary", key));
    return fetchAll<Ticket>(this.http, "service/tickets", { conditions, fields: "id,summary,board/id,board/name,status/id,status/name,company/id,company/identifier" }, SHAPES.ticket, signal);
  }

  createTicket(t: NewTicket, signal?: AbortSignal): Promise<CreateResult<Ticket>> {
    if (t.summary.length > 100) throw new TypeError(`ticket summary longer than 100 characters: ${t.summary}`);
    return this.create<Ticket>("service/tickets", SHAPES.ticket, (x) => x.summary.trim() === t.summary.trim() && x.company?.id === t.companyId, {
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
    return this.create<TicketNote>(`service/tickets/${ticketId}/notes`, SHAPES.ticketNote, () => true, {
      text,
      detailDescriptionFlag: true,
      internalAnalysisFlag: false,
      resolutionFlag: false,
      processNotifications: false,
    }, signal);
  }

  /** The record at `path`, or undefined when ConnectWise has none (404). */
  private async readBack<T>(path: string, shape: Shape, signal?: AbortSignal): Promise<T | undefined> {
    try {
      const res = await this.http.send("GET", path, { signal });
      return readOne<T>(res.body, shape, "GET", path, res.status, (t) => this.http.scrub(t));
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return undefined;
      throw e;
    }
  }

  /** Where a redirect points, for a message: its origin only (a login URL may carry tokens). */
  private whereTo(collection: string, location: string): string {
    try {
      return location ? `to ${this.http.scrub(new URL(location, this.http.url(collection)).origin)}` : "nowhere";
    } catch {
      return "to an unreadable location";
    }
  }

  /** `collection/{id}` when `location` names a record of `collection` on our own API host. */
  private ownRecord(collection: string, location: string): string | undefined {
    let at: URL;
    try {
      at = new URL(location, this.http.url(collection));
    } catch {
      return undefined;
    }
    const mine = this.http.url(collection);
    // scheme, host and port all ours: a redirect to plain http or another host is not followed
    if (at.origin !== mine.origin) return undefined;
    const base = mine.pathname.replace(/\/+$/, "") + "/";
    const rest = at.pathname.toLowerCase().startsWith(base.toLowerCase()) ? at.pathname.slice(base.length) : "";
    const m = /^(\d+)\/?$/.exec(rest);
    return m ? `${collection}/${m[1]}` : undefined;
  }

  /**
   * POST once, then read the record back: a create counts only once ConnectWise shows it. A lost
   * connection, a 5xx, an unreadable answer or a redirect elsewhere may or may not have created
   * it: `unknown` tells the caller to look before creating again. A redirect to the created
   * record on our own API host is read there.
   */
  private async create<T extends { id: number }>(path: string, shape: Shape, shows: (x: T) => boolean, body: unknown, signal?: AbortSignal): Promise<CreateResult<T>> {
    let recordPath: string | undefined;
    try {
      const res = await this.http.send("POST", path, { body, signal });
      if (res.status >= 300) {
        const raw = res.headers.location;
        const location = String(Array.isArray(raw) ? raw[0] : (raw ?? ""));
        recordPath = location ? this.ownRecord(path, location) : undefined;
        if (!recordPath) return { outcome: "unknown", reason: `ConnectWise answered ${res.status} to a create, redirecting ${this.whereTo(path, location)}: not followed; looked for before creating again` };
      } else {
        const made = readOne<T>(res.body, shape, "POST", path, res.status, (t) => this.http.scrub(t));
        recordPath = `${path}/${made.id}`;
      }
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      // a refused connection never carried the request; a 429 was not processed (DESIGN §6)
      const neverSent = e.reason === "connection refused" || e.reason === NOT_SENT;
      if (e.code === "connectwise.unreadable" || (!neverSent && (e.status === undefined || e.status >= 500))) {
        return { outcome: "unknown", reason: e.message };
      }
      return { outcome: "rejected", error: e };
    }
    try {
      const back = await this.readBack<T>(recordPath, shape, signal);
      if (!back) return { outcome: "unknown", reason: `the created record ${recordPath} is not there when read back` };
      if (!shows(back)) return { outcome: "unknown", reason: `the created record ${recordPath} does not show what was sent when read back` };
      return { outcome: "created", entity: back };
    } catch (e) {
      // stopped while reading back: the record may well be there; the next run looks for it
      if (!(e instanceof ApiError) && !signal?.aborted) throw e;
      return { outcome: "unknown", reason: `created, but reading ${recordPath} back failed: ${e instanceof Error ? e.message : String(e)}` };
    }
  }
}
