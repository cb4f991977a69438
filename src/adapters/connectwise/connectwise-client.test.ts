import { createServer, type Server } from "node:http";
import { MockAgent } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import { FakeClock } from "../../../test/helpers/fake-clock.ts";
import { ApiError } from "../../errors.ts";
import { UnsafeConditionValue } from "./conditions.ts";
import { ConnectWiseClient, MAX_URL } from "./connectwise-client.ts";
import { fetchAll } from "./paging.ts";
import { ConnectWiseTransport, type TransportEvent } from "./transport.ts";

const ORIGIN = "https://api-na.example.test";
const ROOT = "/v4_6_release/apis/3.0";
const CREDS = { url: ORIGIN + ROOT, company: "msp", publicKey: "PUBKEY1234567890", privateKey: "PRIVKEY0987654321", clientId: "11111111-2222-3333-4444-555555555555" };
const JSON_HEADERS = { "content-type": "application/vnd.connectwise.com+json; version=2025.1" };

let agent: MockAgent | undefined;
afterEach(async () => {
  await agent?.close();
  agent = undefined;
});

function setup(opts: { retries?: number } = {}) {
  agent = new MockAgent();
  agent.disableNetConnect();
  const mock = agent;
  const clock = new FakeClock();
  const events: TransportEvent[] = [];
  const http = new ConnectWiseTransport(CREDS, { dispatcher: mock, clock, random: () => 0.5, retries: opts.retries, onEvent: (e) => events.push(e) });
  return { pool: mock.get(ORIGIN), clock, events, client: new ConnectWiseClient(http) };
}

const conditionsOf = (path: string) => new URL(path, ORIGIN).searchParams.get("conditions");

describe("ConnectWise client (undici MockAgent)", () => {
  it("sends Basic auth of company+public:private, clientId and a pinned Accept version on every call", async () => {
    const { pool, client } = setup();
    let headers: Record<string, string> = {};
    pool.intercept({ path: (p) => p.startsWith(`${ROOT}/finance/agreements/types`), method: "GET" })
      .reply(200, (opts) => {
        headers = opts.headers as Record<string, string>;
        return [];
      }, { headers: JSON_HEADERS });
    await client.agreementTypes();
    expect(headers.authorization).toBe("Basic " + Buffer.from("msp+PUBKEY1234567890:PRIVKEY0987654321").toString("base64"));
    expect(headers.clientid).toBe(CREDS.clientId);
    expect(headers.accept).toBe("application/vnd.connectwise.com+json; version=2025.1");
  });

  it("follows pages of 1000, re-sending the conditions on every page", async () => {
    const { pool, client } = setup();
    const seen: string[] = [];
    const rows = (n: number, from: number) => Array.from({ length: n }, (_, i) => ({ id: from + i, identifier: `C${from + i}`, name: "x" }));
    for (const [page, count] of [[1, 1000], [2, 1000], [3, 500]] as const) {
      pool.intercept({ path: (p) => p.includes("/company/companies") && p.includes(`page=${page}&`) || p.endsWith(`page=${page}`), method: "GET" })
        .reply(200, (opts) => {
          seen.push(String(opts.path));
          return rows(count, (page - 1) * 1000);
        }, { headers: { ...JSON_HEADERS, ...(page < 3 ? { link: `<${ORIGIN}${ROOT}/company/companies?page=${page + 1}>; rel="next"` } : {}) } });
    }
    const found = await client.findCompanies(["ACME"]);
    expect(found).toHaveLength(2500);
    expect(seen).toHaveLength(3);
    for (const p of seen) {
      expect(conditionsOf(p)).toBe('identifier in ("ACME")');
      expect(new URL(p, ORIGIN).searchParams.get("pageSize")).toBe("1000");
    }
  });

  it("batches 5,000 identifiers by count (≤ 100) and keeps every URL under the limit", async () => {
    const { pool, client } = setup();
    const urls: string[] = [];
    // a tenant far larger than the customers asked about: the count says the batches are cheaper
    pool.intercept({ path: (p) => p.includes("/company/companies/count"), method: "GET" }).reply(200, { count: 1_000_000 }, { headers: JSON_HEADERS });
    pool.intercept({ path: (p) => p.includes("/company/companies"), method: "GET" })
      .reply(200, (opts) => {
        urls.push(ORIGIN + String(opts.path));
        return [];
      }, { headers: JSON_HEADERS }).persist();
    const ids = Array.from({ length: 5000 }, (_, i) => `CUSTOMER-WITH-A-RATHER-LONG-IDENTIFIER-${i}`);
    await client.findCompanies(ids);
    const asked = urls.flatMap((u) => [...conditionsOf(u)!.matchAll(/"([^"]+)"/g)].map((m) => m[1]));
    expect(new Set(asked)).toEqual(new Set(ids));
    expect(asked).toHaveLength(5000);
    for (const u of urls) expect(u.length).toBeLessThanOrEqual(MAX_URL);
    expect(Math.max(...urls.map((u) => conditionsOf(u)!.split(",").length))).toBeLessThanOrEqual(100);
    expect(urls.length).toBeGreaterThan(50); // long identifiers: the URL limit, not the count, decides
  });

  it("honours Retry-After on 429, then succeeds", async () => {
    const { pool, client, clock } = setup();
    pool.intercept({ path: (p) => p.includes("/types"), method: "GET" })
      .reply(429, { error: "ConnectWiseAPI", message: "Too many requests. Please try again in 30 seconds." }, { headers: { ...JSON_HEADERS, "retry-after": "30" } });
    pool.intercept({ path: (p) => p.includes("/types"), method: "GET" }).reply(200, [{ id: 1, name: "Managed Service" }], { headers: JSON_HEADERS });
    expect(await client.agreementTypes()).toEqual([{ id: 1, name: "Managed Service" }]);
    expect(clock.sleeps).toEqual([30_000]);
  });

  it("retries a 503 with backoff, then succeeds", async () => {
    const { pool, client, clock } = setup();
    pool.intercept({ path: (p) => p.includes("/types"), method: "GET" }).reply(503, "<html>Service Unavailable</html>", { headers: { "content-type": "text/html" } });
    pool.intercept({ path: (p) => p.includes("/types"), method: "GET" }).reply(200, [], { headers: JSON_HEADERS });
    await client.agreementTypes();
    expect(clock.sleeps).toEqual([250]); // base 500 ms × jitter 0.5
  });

  it("gives up after the retry budget with the status and body in the error", async () => {
    const { pool, client } = setup({ retries: 2 });
    pool.intercept({ path: (p) => p.includes("/types"), method: "GET" }).reply(503, { code: "ConnectWiseApi", message: "Service is down" }, { headers: JSON_HEADERS }).times(3);
    const err = await client.agreementTypes().catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.message).toBe("ConnectWise GET finance/agreements/types answered 503 — ConnectWiseApi: Service is down");
    expect(err.retryable).toBe(true);
  });

  it("retries a connection reset on GET", async () => {
    const { pool, client } = setup();
    pool.intercept({ path: (p) => p.includes("/types"), method: "GET" }).replyWithError(Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }));
    pool.intercept({ path: (p) => p.includes("/types"), method: "GET" }).reply(200, [{ id: 7, name: "Break Fix" }], { headers: JSON_HEADERS });
    expect(await client.agreementTypes()).toEqual([{ id: 7, name: "Break Fix" }]);
  });

  it("never retries a POST: a reset after sending is reported as unknown", async () => {
    const { pool, client } = setup();
    let posts = 0;
    pool.intercept({ path: (p) => p.includes("/additions"), method: "POST" }).replyWithError(Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }));
    pool.intercept({ path: (p) => p.includes("/additions"), method: "POST" }).reply(201, () => (posts++, { id: 1 }), { headers: JSON_HEADERS }).persist();
    const result = await client.createAddition(812, { productId: 4471, quantity: 25, effectiveDate: "2027-01-01", billCustomer: "Billable" });
    expect(result.outcome).toBe("unknown");
    expect(posts).toBe(0);
  });

  it("a create throttled on every attempt was never processed: rejected (a failure retried later), not an unknown outcome", async () => {
    const { pool, client } = setup({ retries: 1 });
    let posts = 0;
    pool.intercept({ path: (p) => p.includes("/additions"), method: "POST" })
      .reply(429, () => (posts++, { code: "TooManyRequests", message: "slow down" }), { headers: { ...JSON_HEADERS, "retry-after": "1" } }).persist();
    const result = await client.createAddition(812, { productId: 4471, quantity: 25, effectiveDate: "2027-01-01", billCustomer: "Billable" });
    expect(result.outcome).toBe("rejected");
    // sent again after the wait: a 429 is not a blind retry
    expect(posts).toBe(2);
  });

  it("a redirect to another scheme or host answered to a create is unknown, never followed", async () => {
    const { pool, client } = setup();
    pool.intercept({ path: (p) => p.endsWith("/service/tickets"), method: "POST" }).reply(302, "", { headers: { location: "http://api-na.example.test/v4_6_release/apis/3.0/service/tickets/991" } });
    const r = await client.createTicket({ boardName: "Managed Services", companyId: 250, summary: "Billing 2027-01 Acme cws-0123456789", initialDescription: "x" });
    expect(r.outcome).toBe("unknown");
  });

  it("a redirect to the created record on our own host is read back there", async () => {
    const { pool, client } = setup();
    const summary = "Billing 2027-01 Acme cws-0123456789";
    pool.intercept({ path: (p) => p.endsWith("/service/tickets"), method: "POST" }).reply(302, "", { headers: { location: `${ORIGIN}${ROOT}/service/tickets/991` } });
    pool.intercept({ path: `${ROOT}/service/tickets/991`, method: "GET" }).reply(200, { id: 991, summary, company: { id: 250 } }, { headers: JSON_HEADERS });
    const r = await client.createTicket({ boardName: "Managed Services", companyId: 250, summary, initialDescription: "x" });
    expect(r).toMatchObject({ outcome: "created", entity: { id: 991 } });
  });

  it("a create counts only when the record read back shows it", async () => {
    const { pool, client } = setup();
    pool.intercept({ path: (p) => p.endsWith("/additions"), method: "POST" }).reply(201, { id: 5, product: { id: 4471, identifier: "TM" }, quantity: 25 }, { headers: JSON_HEADERS });
    pool.intercept({ path: `${ROOT}/finance/agreements/812/additions/5`, method: "GET" }).reply(404, { code: "NotFound", message: "not found" }, { headers: JSON_HEADERS });
    const r = await client.createAddition(812, { productId: 4471, quantity: 25, effectiveDate: "2027-01-01", billCustomer: "Billable" });
    expect(r.outcome).toBe("unknown");
  });

  it("reads a 500 on GET as a passing failure and retries it; a POST answered 500 is never repeated", async () => {
    const { pool, client } = setup();
    pool.intercept({ path: (p) => p.includes("/types"), method: "GET" }).reply(500, { code: "ConnectWiseApi", message: "timeout" }, { headers: JSON_HEADERS });
    pool.intercept({ path: (p) => p.includes("/types"), method: "GET" }).reply(200, [{ id: 7, name: "Break Fix" }], { headers: JSON_HEADERS });
    expect(await client.agreementTypes()).toEqual([{ id: 7, name: "Break Fix" }]);
    let posts = 0;
    pool.intercept({ path: (p) => p.endsWith("/service/tickets"), method: "POST" }).reply(500, () => (posts++, { code: "x" }), { headers: JSON_HEADERS }).persist();
    const r = await client.createTicket({ boardName: "B", companyId: 250, summary: "s cws-0123456789", initialDescription: "x" });
    expect(r.outcome).toBe("unknown");
    expect(posts).toBe(1);
  });

  it("caps Retry-After at five minutes", async () => {
    const { pool, client, events } = setup();
    pool.intercept({ path: (p) => p.includes("/types"), method: "GET" }).reply(429, { error: "x" }, { headers: { ...JSON_HEADERS, "retry-after": "3600" } });
    pool.intercept({ path: (p) => p.includes("/types"), method: "GET" }).reply(200, [], { headers: JSON_HEADERS });
    await client.agreementTypes();
    expect(events.find((e) => e.type === "retry")).toMatchObject({ waitMs: 300_000 });
  });

  it.each([
    ["an HTML page", "<html><body>Sign in</body></html>", { "content-type": "text/html" }],
    ["truncated JSON", '[{"id":1,"product":{"identifier":"TM"},"quan', JSON_HEADERS],
    ["an object where a list belongs", { code: "x" }, JSON_HEADERS],
    ["a row missing a field we read", [{ id: 1, product: { identifier: "TM" } }], JSON_HEADERS],
  ] as const)("a 200 with %s is connectwise.unreadable, never an empty list", async (_, body, headers) => {
    const { pool, client } = setup();
    pool.intercept({ path: (p) => p.includes("/additions"), method: "GET" }).reply(200, body as object, { headers });
    const err = await client.additionsOf(812).catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.code).toBe("connectwise.unreadable");
  });

  it("stops a list that repeats its page, naming the endpoint", async () => {
    const { pool, client } = setup();
    const rows = Array.from({ length: 1000 }, (_, i) => ({ id: i + 1, name: `T${i}` }));
    pool.intercept({ path: (p) => p.includes("/types"), method: "GET" }).reply(200, rows, { headers: JSON_HEADERS }).persist();
    const err = await client.agreementTypes().catch((e) => e);
    expect(err.message).toContain("finance/agreements/types");
    expect(err.message).toContain("ignores `page`");
  });

  it("stops a list past its page cap, naming the endpoint", async () => {
    const { pool } = setup();
    const http = new ConnectWiseTransport(CREDS, { dispatcher: agent!, clock: new FakeClock(), random: () => 0.5 });
    let page = 0;
    pool.intercept({ path: (p) => p.includes("/types"), method: "GET" })
      .reply(200, () => (page++, Array.from({ length: 1000 }, (_, i) => ({ id: page * 1000 + i, name: `T${i}` }))), { headers: JSON_HEADERS }).persist();
    const err = await fetchAll(http, "finance/agreements/types", {}, { id: "number" }, undefined, 3).catch((e) => e);
    expect(err.message).toContain("finance/agreements/types");
    expect(err.message).toContain("more than 3 pages");
    expect(page).toBe(3);
  });

  it("scrubs the secrets and their Basic encoding from an echoed error body", async () => {
    const { pool, client } = setup({ retries: 0 });
    const basic = Buffer.from(`msp+${CREDS.publicKey}:${CREDS.privateKey}`).toString("base64");
    pool.intercept({ path: (p) => p.includes("/companies"), method: "GET" })
      .reply(400, { code: "BadRequest", message: `bad auth Basic ${basic} (msp+${CREDS.publicKey}:${CREDS.privateKey})` }, { headers: JSON_HEADERS });
    const err = await client.findCompanies(["ACME"]).catch((e) => e);
    for (const secret of [CREDS.privateKey, CREDS.publicKey, basic]) expect(err.message).not.toContain(secret);
    expect(err.message).toContain("[redacted]");
  });

  it("scrubs a 200 that is not the list but quotes the credentials: the unreadable message shows no secret", async () => {
    const { pool, client } = setup({ retries: 0 });
    // a proxy's 200 whose "rows" echo the request: the shape check quotes what it found
    pool.intercept({ path: (p) => p.includes("/companies"), method: "GET" })
      .reply(200, `"auth msp+${CREDS.publicKey}:${CREDS.privateKey}"`, { headers: JSON_HEADERS });
    const err = await client.findCompanies(["ACME"]).catch((e) => e);
    expect(err.code).toBe("connectwise.unreadable");
    for (const secret of [CREDS.privateKey, CREDS.publicKey]) expect(err.message).not.toContain(secret);
    expect(err.message).toContain("[redacted]");
  });

  it("a 400 on create is rejected with ConnectWise's validation errors in the message", async () => {
    const { pool, client } = setup();
    pool.intercept({ path: (p) => p.includes("/additions"), method: "POST" }).reply(400, {
      code: "InvalidObject", message: "addition object is invalid",
      errors: [{ code: "MissingRequiredField", message: "product is required.", resource: "addition", field: "product" }],
    }, { headers: JSON_HEADERS });
    const r = await client.createAddition(812, { productId: 0, quantity: 1, effectiveDate: "2027-01-01", billCustomer: "Billable" });
    expect(r.outcome).toBe("rejected");
    if (r.outcome === "rejected") expect(r.error.message).toBe("ConnectWise POST finance/agreements/812/additions answered 400 — InvalidObject: addition object is invalid (product: product is required.)");
  });

  it("sets quantities with a JSON Patch replace on `quantity`", async () => {
    const { pool, client } = setup();
    let body: unknown;
    pool.intercept({ path: `${ROOT}/finance/agreements/812/additions/9931`, method: "PATCH" })
      .reply(200, (opts) => ((body = JSON.parse(String(opts.body))), { id: 9931, quantity: 27 }), { headers: JSON_HEADERS });
    pool.intercept({ path: `${ROOT}/finance/agreements/812/additions/9931`, method: "GET" })
      .reply(200, { id: 9931, product: { id: 1, identifier: "TM" }, quantity: 27 }, { headers: JSON_HEADERS });
    await client.setAdditionQuantity(812, 9931, 27);
    expect(body).toEqual([{ op: "replace", path: "quantity", value: 27 }]);
    // a PATCH answered 200 that ConnectWise does not show is not done
    pool.intercept({ path: `${ROOT}/finance/agreements/812/additions/9931`, method: "PATCH" }).reply(200, { id: 9931, quantity: 30 }, { headers: JSON_HEADERS });
    pool.intercept({ path: `${ROOT}/finance/agreements/812/additions/9931`, method: "GET" })
      .reply(200, { id: 9931, product: { id: 1, identifier: "TM" }, quantity: 27 }, { headers: JSON_HEADERS });
    await expect(client.setAdditionQuantity(812, 9931, 30)).rejects.toThrow("shows 27 when read back");
  });

  it("refuses identifiers with \" ' \\ [ before any request", async () => {
    const { client, events } = setup();
    for (const bad of ['AC"ME', "O'Brien", "back\\slash", "[bracket]"]) {
      await expect(client.findCompanies(["GOOD", bad])).rejects.toBeInstanceOf(UnsafeConditionValue);
    }
    expect(events).toEqual([]);
  });

  it("never puts credentials in errors or events", async () => {
    const { pool, client, events } = setup({ retries: 1 });
    pool.intercept({ path: (p) => p.includes("/companies"), method: "GET" }).reply(401, { code: "ConnectWiseApi", message: "UserNotAuthenticated" }, { headers: JSON_HEADERS });
    const err = await client.findCompanies(["ACME"]).catch((e) => e);
    const text = JSON.stringify({ m: err.message, e: { ...err }, events }) + String(err.stack);
    for (const secret of [CREDS.privateKey, CREDS.publicKey, Buffer.from(`msp+${CREDS.publicKey}:${CREDS.privateKey}`).toString("base64")]) {
      expect(text).not.toContain(secret);
    }
    expect(err.message).toContain("401 — ConnectWiseApi: UserNotAuthenticated");
  });
});

describe("ConnectWise client timeouts (a real loopback server that never answers)", () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

  it("a GET that gets no headers in time times out, is retried, and fails with a clear error", async () => {
    let calls = 0;
    server = createServer(() => void calls++); // never answers
    await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    const http = new ConnectWiseTransport({ ...CREDS, url: `http://127.0.0.1:${port}${ROOT}` }, { clock: new FakeClock(), headersTimeoutMs: 100, retries: 1, random: () => 0 });
    const err = await new ConnectWiseClient(http).agreementTypes().catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.message).toBe("ConnectWise GET finance/agreements/types timed out");
    expect(calls).toBe(2);
    server.closeAllConnections();
  });

  it("an AbortSignal cancels a request in flight", async () => {
    server = createServer(() => undefined);
    await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    const http = new ConnectWiseTransport({ ...CREDS, url: `http://127.0.0.1:${port}${ROOT}` }, { clock: new FakeClock() });
    const ac = new AbortController();
    const pending = new ConnectWiseClient(http).agreementTypes(ac.signal);
    setTimeout(() => ac.abort(new Error("shutting down")), 50);
    await expect(pending).rejects.toThrow("shutting down");
    server.closeAllConnections();
  });

  it("a create already sent is not abandoned on abort: its answer is awaited, and unread back it is unknown, never made twice", async () => {
    let received = 0;
    server = createServer((req, res) => {
      received++;
      req.resume();
      setTimeout(() => {
        res.writeHead(201, { "content-type": "application/json" });
        res.end(JSON.stringify({ id: 77, summary: "Billing 2027-02 cws-0123456789" }));
      }, 200);
    });
    await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    const http = new ConnectWiseTransport({ ...CREDS, url: `http://127.0.0.1:${port}${ROOT}` }, { clock: new FakeClock() });
    const ac = new AbortController();
    const pending = new ConnectWiseClient(http).createTicket({ boardName: "Help Desk", companyId: 250, summary: "Billing 2027-02 cws-0123456789", initialDescription: "x" }, ac.signal);
    setTimeout(() => ac.abort(new Error("shutting down")), 50);
    // the read-back is stopped with the run: the next one looks for the ticket before creating it
    expect(await pending).toMatchObject({ outcome: "unknown" });
    // aborted before it was sent: nothing goes out
    await expect(new ConnectWiseClient(http).createTicket({ boardName: "Help Desk", companyId: 250, summary: "s cws-0123456789", initialDescription: "x" }, ac.signal)).rejects.toThrow("shutting down");
    expect(received).toBe(1);
    server.closeAllConnections();
  });
});
