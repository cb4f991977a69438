import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bulkSeed } from "./bulk-seed.ts";
import { startConnectWiseSandbox, type ConnectWiseSandbox } from "./connectwise-sandbox.ts";
import { sandboxRequest } from "./sandbox-request.ts";

/** `Link` → { rel: url } */
function links(header: unknown): Record<string, URL> {
  const out: Record<string, URL> = {};
  for (const part of String(header ?? "").split(/,\s*(?=<)/)) {
    const m = /^<([^>]+)>;\s*rel="(\w+)"$/.exec(part.trim());
    if (m) out[m[2]] = new URL(m[1]);
  }
  return out;
}

const ids = (body: unknown) => (body as { id: number }[]).map((r) => r.id);

describe("list endpoints over 2,500 bulk companies", () => {
  let sb: ConnectWiseSandbox;
  beforeAll(async () => {
    sb = await startConnectWiseSandbox({ seed: bulkSeed(2500) });
  });
  afterAll(() => sb.close());

  it("defaults to 25 a page, first page has next and last only", async () => {
    const r = await sandboxRequest(sb, "GET", "/company/companies");
    expect(ids(r.json)).toHaveLength(25);
    expect((r.json as { identifier: string }[])[0].identifier).toBe("BULK00001");
    const l = links(r.headers.link);
    expect(Object.keys(l).sort()).toEqual(["last", "next"]);
    expect(l.next.searchParams.get("page")).toBe("2");
    expect(l.last.searchParams.get("page")).toBe("100");
    expect(l.next.href.startsWith(`${sb.url}/company/companies?`)).toBe(true);
  });

  it("walks every page by following next, conditions repeated each time; pageSize capped at 1000", async () => {
    const conditions = '(identifier like "BULK01%" or identifier = "BULK00001") and deletedFlag = false';
    let next: string | undefined = `${sb.url}/company/companies?conditions=${encodeURIComponent(conditions)}&pageSize=300&fields=id,identifier`;
    const seen: number[] = [];
    let pages = 0;
    while (next) {
      const r = await sandboxRequest(sb, "GET", next);
      seen.push(...ids(r.json));
      pages++;
      const l = links(r.headers.link);
      if (l.next) {
        expect(l.next.searchParams.get("conditions")).toBe(conditions);
        expect(l.next.searchParams.get("fields")).toBe("id,identifier");
        expect(l.next.searchParams.get("pageSize")).toBe("300");
      }
      next = l.next?.href;
    }
    // BULK01000…BULK01999 and BULK00001: 1,001 rows, four pages of 300, no row twice
    expect(pages).toBe(4);
    expect(new Set(seen).size).toBe(1001);
    const all = await sandboxRequest(sb, "GET", "/company/companies", { query: { pageSize: 5000 } });
    expect(ids(all.json)).toHaveLength(1000);
    expect(links(all.headers.link).last.searchParams.get("page")).toBe("3");
  });

  it("middle pages have all four rels; the last page has first and prev; past the end is []", async () => {
    const q = { conditions: 'name contains "Customer"', pageSize: 1000 };
    const mid = await sandboxRequest(sb, "GET", "/company/companies", { query: { ...q, page: 2 } });
    const l = links(mid.headers.link);
    expect(Object.keys(l).sort()).toEqual(["first", "last", "next", "prev"]);
    expect([l.first, l.prev, l.next, l.last].map((u) => u.searchParams.get("page"))).toEqual(["1", "1", "3", "3"]);
    for (const u of Object.values(l)) expect(u.searchParams.get("conditions")).toBe('name contains "Customer"');
    const last = await sandboxRequest(sb, "GET", "/company/companies", { query: { ...q, page: 3 } });
    expect(ids(last.json)).toHaveLength(500);
    expect(Object.keys(links(last.headers.link)).sort()).toEqual(["first", "prev"]);
    const past = await sandboxRequest(sb, "GET", "/company/companies", { query: { ...q, page: 9 } });
    expect(past.status).toBe(200);
    expect(past.json).toEqual([]);
  });

  it("Link URLs are percent-encoded so that a comma or quote in conditions cannot split the header", async () => {
    const conditions = 'identifier in ("BULK00001","BULK00002","BULK00003")';
    const r = await sandboxRequest(sb, "GET", "/company/companies", { query: { conditions, pageSize: 1 } });
    const header = String(r.headers.link);
    expect(header.split(", <")).toHaveLength(2);
    expect(header).not.toContain('"BULK');
    expect(links(header).next.searchParams.get("conditions")).toBe(conditions);
  });

  it("orderBy id desc, and an unknown orderBy field is refused", async () => {
    const r = await sandboxRequest(sb, "GET", "/company/companies", { query: { orderBy: "id desc", pageSize: 2 } });
    expect((r.json as { identifier: string }[]).map((c) => c.identifier)).toEqual(["BULK02500", "BULK02499"]);
    const bad = await sandboxRequest(sb, "GET", "/company/companies", { query: { orderBy: "colour asc" } });
    expect(bad.status).toBe(400);
  });

  it("fields= projects nested paths and drops _info unless asked", async () => {
    const r = await sandboxRequest(sb, "GET", "/finance/agreements", { query: { fields: "id,company/identifier,type/name", pageSize: 1 } });
    expect(r.json).toEqual([{ id: 800, company: { identifier: "BULK00001" }, type: { name: "TMRM Management Solution" } }]);
    const withInfo = await sandboxRequest(sb, "GET", "/company/companies/250", { query: { fields: "id,_info/lastUpdated" } });
    expect(withInfo.json).toEqual({ id: 250, _info: { lastUpdated: "2025-01-01T00:00:00Z" } });
    const full = await sandboxRequest(sb, "GET", "/company/companies", { query: { pageSize: 1 } });
    expect(Object.keys((full.json as object[])[0])).toContain("_info");
  });

  it("/count applies the same conditions", async () => {
    const r = await sandboxRequest(sb, "GET", "/finance/agreements/count", { query: { conditions: 'type/name = "Break Fix"' } });
    expect(r.json).toEqual({ count: 2500 });
    expect((await sandboxRequest(sb, "GET", "/company/companies/count")).json).toEqual({ count: 2500 });
  });

  it("forward-only paging: id > pageId, Link next carries the last id, empty on the last page", async () => {
    const headers = { "pagination-type": "forward-only" };
    const first = await sandboxRequest(sb, "GET", "/company/companies", { headers, query: { pageSize: 1000 } });
    const l = links(first.headers.link);
    expect(l.next.searchParams.get("pageId")).toBe(String(ids(first.json).at(-1)));
    const last = await sandboxRequest(sb, "GET", "/company/companies", { headers, query: { pageSize: 1000, pageId: 250 + 1999 } });
    expect(ids(last.json)).toHaveLength(500);
    expect(last.headers.link).toBe("");
    const ordered = await sandboxRequest(sb, "GET", "/company/companies", { headers, query: { orderBy: "id desc" } });
    expect(ordered.status).toBe(400);
  });
});
