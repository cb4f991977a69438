import { afterEach, describe, expect, it } from "vitest";
import { FakeClock } from "../../../test/helpers/fake-clock.ts";
import type { ApiError } from "../../errors.ts";
import type { Agreement, Company } from "../../ports/connectwise.ts";
import { startConnectWiseSandbox, type ConnectWiseSandbox } from "../../sandbox/connectwise-sandbox.ts";
import { bulkSeed } from "../../sandbox/seed.ts";
import { ConnectWiseClient, identifierKey } from "./connectwise-client.ts";
import { fetchAllByKeyset, fetchAllByKeysetRanges } from "./paging.ts";
import { readCount, SHAPES } from "./response-shapes.ts";
import { ConnectWiseTransport, type Query, type Response } from "./transport.ts";

// Reading a whole collection by keyset instead of dozens of `in (…)` batches, against the sandbox over loopback HTTP.

type Init = { query?: Query; body?: unknown; signal?: AbortSignal };
/** Changes what the client sees: `after` may rewrite an answer (as a faulty server or a lost row would). */
type Tamper = (method: string, path: string, init: Init, res: Response) => Response | void;

class TamperedTransport extends ConnectWiseTransport {
  tamper?: Tamper;
  before?: (method: string, path: string, init: Init) => Init | void;
  override async send(method: string, path: string, init: Init = {}): Promise<Response> {
    const sent = this.before?.(method, path, init) ?? init;
    const res = await super.send(method, path, sent);
    return this.tamper?.(method, path, sent, res) ?? res;
  }
}

let sandbox: ConnectWiseSandbox | undefined;
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

const N = 5000;
const bulkSeed5000 = bulkSeed(N);
const bulkId = (i: number) => `BULK${String(i).padStart(5, "0")}`;
const allIds = Array.from({ length: N }, (_, i) => bulkId(i + 1));

async function connect(seed = bulkSeed5000) {
  sandbox = await startConnectWiseSandbox({ seed });
  const http = new TamperedTransport({ url: sandbox.url, ...sandbox.credentials }, { clock: new FakeClock(), random: () => 0.5 });
  return { sb: sandbox, http, cw: new ConnectWiseClient(http) };
}

const byId = <T extends { id: number }>(rows: readonly T[]) => [...rows].sort((a, b) => a.id - b.id);
const isListing = (r: { query: Record<string, string> }) => r.query.orderBy === "id asc";
const isBatch = (r: { query: Record<string, string> }) => / in \(/.test(r.query.conditions ?? "");

/** The batched path through the public API: chunks small enough to stay under the listing threshold. */
async function batched(cw: ConnectWiseClient, ids: readonly string[]): Promise<{ companies: Company[]; agreements: Agreement[] }> {
  const companies: Company[] = [];
  for (let i = 0; i < ids.length; i += 250) companies.push(...(await cw.findCompanies(ids.slice(i, i + 250))));
  const companyIds = companies.filter((c) => !c.deletedFlag).map((c) => c.id);
  const agreements: Agreement[] = [];
  for (let i = 0; i < companyIds.length; i += 400) agreements.push(...(await cw.agreementsOf(companyIds.slice(i, i + 400))));
  return { companies, agreements };
}

describe("findCompanies / agreementsOf: a listing when it takes fewer requests than batches", () => {
  it("finds 5,000 companies and their 10,000 agreements in about 20 requests, the same rows as the batches", async () => {
    const { sb, cw } = await connect();
    const companies = await cw.findCompanies(allIds);
    const agreements = await cw.agreementsOf(companies.map((c) => c.id));
    const listed = sb.requests.length;
    // old client: 57 + 23 batches. Now a count, the highest id, and 6 + 11 pages in id ranges (each range ends on a short page)
    expect(listed).toBeLessThanOrEqual(22);
    expect(sb.requests.filter(isBatch)).toHaveLength(0);
    expect(sb.requests.filter((r) => r.path.endsWith("/count")).map((r) => r.path)).toEqual(["/company/companies/count", "/finance/agreements/count"]);
    // every listing page: page 1, 1,000 rows, ordered by id, the same fields, and keyset conditions
    const pages = sb.requests.filter(isListing);
    expect(pages.every((r) => r.query.page === "1" && r.query.pageSize === "1000")).toBe(true);
    const companyPages = pages.filter((r) => r.path === "/company/companies");
    expect(companyPages.every((r) => /^(id > \d+ and id <= \d+|id > \d+|id <= \d+)$/.test(r.query.conditions))).toBe(true);
    // id ranges read side by side: below the first bound, between bounds, and open above the last
    expect(companyPages.filter((r) => /^id <= \d+$/.test(r.query.conditions))).toHaveLength(1);
    expect(sb.requests.filter((r) => r.query.orderBy === "id desc" && r.query.pageSize === "1").map((r) => r.path)).toEqual(["/company/companies", "/finance/agreements"]);
    expect(companyPages.every((r) => r.query.fields === "id,identifier,name,status/id,status/name,deletedFlag")).toBe(true);

    expect(companies).toHaveLength(N);
    expect(agreements).toHaveLength(2 * N);
    const reference = await batched(cw, allIds);
    expect(sb.requests.length - listed).toBeGreaterThan(50);
    expect(byId(companies)).toEqual(byId(reference.companies));
    expect(byId(agreements)).toEqual(byId(reference.agreements));
    // and what the sandbox holds
    expect(byId(companies).map((c) => c.identifier)).toEqual(sb.state.companies.filter((c) => c.identifier.startsWith("BULK")).map((c) => c.identifier).sort());
  });

  it("a few identifiers: one batch, no count", async () => {
    const { sb, cw } = await connect();
    const companies = await cw.findCompanies(allIds.slice(100, 150));
    expect(companies.map((c) => c.identifier).sort()).toEqual(allIds.slice(100, 150));
    expect(sb.requests).toHaveLength(1);
    expect(isBatch(sb.requests[0])).toBe(true);
    await cw.agreementsOf(companies.map((c) => c.id));
    expect(sb.requests).toHaveLength(2);
    expect(sb.requests.some((r) => r.path.endsWith("/count"))).toBe(false);
  });

  it("matches identifiers as ConnectWise does: case-insensitively, and asks by batch what it cannot fold", async () => {
    const { sb, cw } = await connect();
    const template = sb.state.companies.find((c) => c.identifier === "BULK00001")!;
    const nextId = Math.max(...sb.state.companies.map((c) => c.id)) + 1;
    sb.state.companies.push({ ...structuredClone(template), id: nextId, identifier: "ÉCOLE", name: "École" });
    const asked = [...allIds.map((id, i) => (i % 2 ? id.toLowerCase() : id)), "école", "NoSuchCompany"];
    const companies = await cw.findCompanies(asked);
    expect(companies).toHaveLength(N + 1);
    expect(companies.find((c) => c.id === nextId)?.identifier).toBe("ÉCOLE");
    // "école" and the unknown one, asked again in one batch: the sandbox (like SQL Server) folds É, the client does not guess
    const again = sb.requests.filter(isBatch);
    expect(again).toHaveLength(1);
    expect(again[0].query.conditions).toBe('identifier in ("école","NoSuchCompany")');
    // the batched path finds the same rows for the same mixed-case identifiers
    const reference: Company[] = [];
    for (let i = 0; i < asked.length; i += 250) reference.push(...(await cw.findCompanies(asked.slice(i, i + 250))));
    expect(byId(companies)).toEqual(byId(reference));
  });

  it("an identifier that cannot be quoted is refused before any request, listing or not", async () => {
    const { sb, cw } = await connect();
    await expect(cw.findCompanies([...allIds, 'BAD"ONE'])).rejects.toThrow(/cannot put/);
    expect(sb.requests).toHaveLength(0);
  });

  it("identifierKey folds ASCII case and trailing spaces only", () => {
    expect(identifierKey("AcmeCorp  ")).toBe(identifierKey("acmecorp"));
    expect(identifierKey(" Acme")).not.toBe(identifierKey("acme"));
    expect(identifierKey("ÉCOLE")).not.toBe(identifierKey("école"));
  });

  it("a company the listing missed is asked again by batch, never reported missing", async () => {
    const { sb, cw, http } = await connect();
    // one company created after the count, and a page that silently lacks another: as many rows as counted, one missed
    http.tamper = (_m, path, init, res) => {
      if (path === "company/companies/count") {
        const template = sb.state.companies[0];
        sb.state.companies.push({ ...structuredClone(template), id: Math.max(...sb.state.companies.map((c) => c.id)) + 1, identifier: "NEWCO", name: "New Co" });
      }
      if (path === "company/companies" && init.query?.orderBy === "id asc" && Array.isArray(res.body)) {
        return { ...res, body: res.body.filter((r: { identifier: string }) => r.identifier !== "BULK02500") };
      }
    };
    const companies = await cw.findCompanies(allIds);
    expect(companies.map((c) => c.identifier).sort()).toEqual(allIds);
    expect(sb.requests.filter(isBatch).map((r) => r.query.conditions)).toEqual(['identifier in ("BULK02500")']);
  });

  it("agreements of a company the listing missed are asked again by batch", async () => {
    const { sb, cw, http } = await connect();
    const companies = await cw.findCompanies(allIds);
    const missed = companies.find((c) => c.identifier === "BULK04321")!;
    http.tamper = (_m, path, init, res) => {
      if (path === "finance/agreements/count") {
        // two agreements of a company not asked about, created after the count
        for (let k = 0; k < 2; k++) {
          const template = sb.state.agreements[0];
          sb.state.agreements.push({ ...structuredClone(template), id: Math.max(...sb.state.agreements.map((a) => a.id)) + 1, company: { id: 999_999, identifier: "ELSEWHERE", name: "Elsewhere" } });
        }
      }
      if (path === "finance/agreements" && init.query?.orderBy === "id asc" && Array.isArray(res.body)) {
        return { ...res, body: res.body.filter((r: { company: { id: number } }) => r.company.id !== missed.id) };
      }
    };
    const agreements = await cw.agreementsOf(companies.map((c) => c.id));
    expect(agreements).toHaveLength(2 * N);
    expect(agreements.filter((a) => a.company.id === missed.id)).toHaveLength(2);
    expect(sb.requests.filter(isBatch).map((r) => r.query.conditions)).toEqual([`company/id in (${missed.id})`]);
  });

  it("a listing with fewer rows than the count (pages cut short without a `next` link) is not trusted: batches", async () => {
    const { sb, cw, http } = await connect();
    http.tamper = (_m, path, init, res) => {
      if (path === "finance/agreements" && init.query?.orderBy === "id asc" && Array.isArray(res.body)) return { ...res, headers: {}, body: res.body.slice(0, 600) };
    };
    const companies = await cw.findCompanies(allIds);
    const agreements = await cw.agreementsOf(companies.map((c) => c.id));
    expect(agreements).toHaveLength(2 * N);
    expect(sb.requests.filter((r) => r.path === "/finance/agreements" && isBatch(r))).toHaveLength(23);
  });

  it("a row deleted between two pages shifts no other row out of the listing (keyset, not page numbers)", async () => {
    const { sb, cw, http } = await connect();
    let deleted: string | undefined;
    http.tamper = (_m, path, init, res) => {
      if (path === "company/companies" && init.query?.orderBy === "id asc" && !/id >/.test(String(init.query.conditions ?? "")) && !deleted) {
        // after page 1 is read, one of its rows is deleted
        const gone = sb.state.companies.findIndex((c) => c.identifier === "BULK00010");
        deleted = sb.state.companies[gone].identifier;
        sb.state.companies.splice(gone, 1);
      }
    };
    const companies = await cw.findCompanies(allIds);
    expect(deleted).toBe("BULK00010");
    // read before it was deleted; with \`page=2\` the first row of page 2 would have slid onto page 1 unread
    expect(companies).toHaveLength(N);
    expect(sb.requests.filter(isBatch)).toHaveLength(0);
  });

  it("an unreadable count is an error, not zero", async () => {
    for (const body of [[], { count: "5000" }, { count: -1 }, { count: 1.5 }, {}, "5000", null]) {
      const { cw, http } = await connect();
      http.tamper = (_m, path, _i, res) => (path.endsWith("/count") ? { ...res, body } : undefined);
      await expect(cw.findCompanies(allIds), JSON.stringify(body)).rejects.toMatchObject({ code: "connectwise.unreadable" } satisfies Partial<ApiError>);
      await sandbox!.close();
      sandbox = undefined;
    }
    const { sb, cw } = await connect();
    sb.faults.add({ kind: "html200", path: "/finance/agreements/count" });
    await expect(cw.agreementsOf(Array.from({ length: 2000 }, (_, i) => i + 1))).rejects.toMatchObject({ code: "connectwise.unreadable" });
  });

  it("readCount takes exactly a non-negative whole count", () => {
    expect(readCount({ count: 0 }, "GET", "x/count", 200)).toBe(0);
    expect(readCount({ count: 17 }, "GET", "x/count", 200)).toBe(17);
    for (const bad of [[{ count: 1 }], { count: null }, { count: Number.MAX_SAFE_INTEGER + 2 }, { n: 3 }]) {
      expect(() => readCount(bad, "GET", "x/count", 200)).toThrow(/unreadable|count|expected/);
    }
  });

  it("a collection much larger than its count falls back to the batches", async () => {
    const { sb, cw, http } = await connect();
    // the count says 100 rows: the listing may read 3 pages, then gives up on it
    http.tamper = (_m, path, _i, res) => (path.endsWith("/count") ? { ...res, body: { count: 100 } } : undefined);
    const companies = await cw.findCompanies(allIds);
    expect(companies.map((c) => c.identifier).sort()).toEqual(allIds);
    expect(sb.requests.filter(isListing)).toHaveLength(3);
    expect(sb.requests.filter(isBatch)).toHaveLength(57);
  });

  it("a count beyond the page limit, or one that makes the listing no cheaper, means batches", async () => {
    const { sb, cw, http } = await connect();
    http.tamper = (_m, path, _i, res) => (path.endsWith("/count") ? { ...res, body: { count: 600_000 } } : undefined);
    expect(await cw.findCompanies(allIds)).toHaveLength(N);
    expect(sb.requests.filter(isListing)).toHaveLength(0);
    http.tamper = (_m, path, _i, res) => (path.endsWith("/count") ? { ...res, body: { count: 56_999 } } : undefined);
    sb.requests.length = 0;
    expect(await cw.findCompanies(allIds)).toHaveLength(N);
    expect(sb.requests.filter(isListing)).toHaveLength(0);
    expect(sb.requests.filter(isBatch)).toHaveLength(57);
  });

  it("a server that ignores the keyset condition is unreadable, not a list read twice", async () => {
    const { cw, http } = await connect();
    http.before = (_m, path, init) => (path === "company/companies" && init.query?.orderBy === "id asc" ? { ...init, query: { ...init.query, conditions: undefined } } : undefined);
    await expect(cw.findCompanies(allIds)).rejects.toMatchObject({ code: "connectwise.unreadable" });
  });
});

describe("fetchAllByKeyset", () => {
  it("in id ranges: every row once, even when the highest id it was cut by is wrong", async () => {
    const { sb, http } = await connect(bulkSeed(2500));
    const ids = sb.state.companies.map((c) => c.id).sort((a, b) => a - b);
    for (const highest of [ids[ids.length - 1], 10, 0, 1_000_000]) {
      const all = await fetchAllByKeysetRanges<Company>(http, "company/companies", { fields: "id,identifier,name" }, SHAPES.company, { ranges: 3, highest });
      expect(all.complete).toBe(true);
      expect(all.rows.map((r) => r.id)).toEqual(ids);
    }
  });

  it("reads every row once in id order, with the sandbox's `id >` condition and orderBy", async () => {
    const { sb, http } = await connect(bulkSeed(2500));
    const all = await fetchAllByKeyset<Company>(http, "company/companies", { fields: "id,identifier,name" }, SHAPES.company);
    expect(all.complete).toBe(true);
    expect(all.rows.map((r) => r.id)).toEqual(sb.state.companies.map((c) => c.id).sort((a, b) => a - b));
    // 2,500 rows and some seed companies: 3 pages, the last short
    expect(sb.requests).toHaveLength(3);
    const agreements = await fetchAllByKeyset<Agreement>(http, "finance/agreements", { fields: "id,name,type/id,type/name,company/id" }, SHAPES.agreement);
    expect(agreements.rows).toHaveLength(sb.state.agreements.length);
    expect(new Set(agreements.rows.map((a) => a.id)).size).toBe(sb.state.agreements.length);
  });

  it("a full last page is followed by an empty one; maxPages stops it as incomplete", async () => {
    const seed = bulkSeed(2000);
    const { sb, http } = await connect(seed);
    const total = sb.state.companies.length;
    const whole = await fetchAllByKeyset<Company>(http, "company/companies", { fields: "id,identifier,name" }, SHAPES.company);
    expect(whole.seen).toBe(total);
    expect(whole.pages).toBe(Math.floor(total / 1000) + 1);
    const cut = await fetchAllByKeyset<Company>(http, "company/companies", { fields: "id,identifier,name" }, SHAPES.company, { maxPages: 1, keep: () => false });
    expect(cut).toMatchObject({ complete: false, pages: 1, seen: 1000, rows: [] });
  });
});
