import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startConnectWiseSandbox, type ConnectWiseSandbox } from "./connectwise-sandbox.ts";
import { basicAuth, sandboxRequest } from "./sandbox-request.ts";
import { SeedBuilder } from "./seed-builder.ts";

function smallSeed() {
  const b = new SeedBuilder();
  b.board("Managed Services", ["New", "In Progress", "Closed"]);
  b.company("AcmeCorp", "Acme Corporation");
  return b.build();
}

describe("ConnectWise sandbox: connection, auth, routing", () => {
  let sb: ConnectWiseSandbox;
  beforeAll(async () => {
    sb = await startConnectWiseSandbox({ seed: smallSeed() });
  });
  afterAll(() => sb.close());

  it("serves the API under /v4_6_release/apis/3.0 on 127.0.0.1", () => {
    expect(sb.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v4_6_release\/apis\/3\.0$/);
  });

  it("answers with ConnectWise's vendor content type, echoing the pinned version", async () => {
    const pinned = await sandboxRequest(sb, "GET", "/company/companies");
    expect(pinned.status).toBe(200);
    expect(pinned.headers["content-type"]).toBe("application/vnd.connectwise.com+json; version=2025.1");
    const other = await sandboxRequest(sb, "GET", "/company/companies", { headers: { accept: "application/vnd.connectwise.com+json; version=2026.4" } });
    expect(other.headers["content-type"]).toBe("application/vnd.connectwise.com+json; version=2026.4");
  });

  it("401 UserNotAuthenticated for missing or wrong credentials", async () => {
    const none = await sandboxRequest(sb, "GET", "/company/companies", { authorization: false });
    expect(none.status).toBe(401);
    expect(none.json).toEqual({ code: "ConnectWiseApi", message: "UserNotAuthenticated" });
    const wrong = await sandboxRequest(sb, "GET", "/company/companies", { authorization: basicAuth({ ...sb.credentials, privateKey: "nope" }) });
    expect(wrong.status).toBe(401);
    // the `+` separates company and public key: a colon there is not the same credential
    const colon = `Basic ${Buffer.from(`${sb.credentials.company}:${sb.credentials.publicKey}:${sb.credentials.privateKey}`).toString("base64")}`;
    expect((await sandboxRequest(sb, "GET", "/company/companies", { authorization: colon })).status).toBe(401);
  });

  it("403 without a clientId header", async () => {
    const r = await sandboxRequest(sb, "GET", "/company/companies", { clientId: false });
    expect(r.status).toBe(403);
    expect(r.json).toEqual({ code: "Unauthorized", message: "clientId header is required" });
  });

  it("a company by id, and ConnectWise's 404 for an unknown one", async () => {
    const ok = await sandboxRequest(sb, "GET", "/company/companies/250");
    expect(ok.json).toMatchObject({ id: 250, identifier: "AcmeCorp", name: "Acme Corporation", status: { name: "Active" }, deletedFlag: false });
    expect((ok.json as { _info: object })._info).toMatchObject({ lastUpdated: expect.any(String), updatedBy: expect.any(String) });
    const missing = await sandboxRequest(sb, "GET", "/company/companies/999");
    expect(missing.status).toBe(404);
    expect(missing.json).toEqual({ code: "NotFound", message: "Company 999 not found" });
  });

  it("unknown paths 404, wrong methods 405, paths case-insensitive like IIS", async () => {
    expect((await sandboxRequest(sb, "GET", "/company/nothing")).status).toBe(404);
    expect((await sandboxRequest(sb, "GET", "/other/base")).status).toBe(404);
    const del = await sandboxRequest(sb, "DELETE", "/company/companies/250");
    expect(del.status).toBe(405);
    expect(del.headers.allow).toBe("GET");
    expect((await sandboxRequest(sb, "POST", "/company/companies", { body: {} })).status).toBe(405);
    expect((await sandboxRequest(sb, "GET", "/Company/Companies/250")).status).toBe(200);
  });

  it("a body that is not JSON is a 400, not a crash", async () => {
    const r = await sandboxRequest(sb, "POST", "/service/tickets", { body: "{not json" });
    expect(r.status).toBe(400);
  });

  it("GET /login/companyinfo/{company} needs no auth and gives the codebase; unknown companies get null", async () => {
    const origin = new URL(sb.url).origin;
    const known = await request(`${origin}/login/companyinfo/${sb.credentials.company.toUpperCase()}`);
    expect(await known.body.json()).toEqual({
      CompanyName: "Sandbox MSP", Codebase: "v4_6_release/", VersionCode: "v2025.1", VersionNumber: "v4.6.2025.1",
      CompanyID: sb.credentials.company, IsCloud: false,
    });
    const unknown = await request(`${origin}/login/companyinfo/nobody`);
    expect(unknown.statusCode).toBe(200);
    expect(await unknown.body.text()).toBe("null");
  });

  it("serves the tenant's company status table, with tenant names and inactiveFlag", async () => {
    const r = await sandboxRequest(sb, "GET", "/company/companies/statuses");
    expect(r.status).toBe(200);
    const rows = r.json as { name: string; inactiveFlag: boolean }[];
    expect(rows.map((s) => `${s.name}${s.inactiveFlag ? " (inactive)" : ""}`)).toEqual([
      "Active", "Inactive (inactive)", "Active - Managed", "Client", "Credit Hold (inactive)", "Not Approved (inactive)",
    ]);
  });

  it("fault modes: an HTML 200, truncated JSON, a redirect to a login page, an echoed Authorization header", async () => {
    sb.faults.add({ kind: "html200", path: "/company/companies" });
    const html = await sandboxRequest(sb, "GET", "/company/companies");
    expect([html.status, html.headers["content-type"]]).toEqual([200, "text/html; charset=UTF-8"]);
    sb.faults.add({ kind: "truncated-json", path: "/company/companies" });
    const cut = await sandboxRequest(sb, "GET", "/company/companies");
    expect(cut.status).toBe(200);
    expect(() => JSON.parse(cut.text)).toThrow();
    sb.faults.add({ kind: "redirect-to-login", method: "POST" });
    const before = sb.state.tickets.length;
    const login = await sandboxRequest(sb, "POST", "/service/tickets", { body: { summary: "x", board: { name: "Managed Services" }, company: { id: 250 } } });
    expect(login.status).toBe(302);
    expect(String(login.headers.location)).toMatch(/^http:\/\/127\.0\.0\.2:\d+\/login/);
    expect(sb.state.tickets.length).toBe(before);
    sb.faults.add({ kind: "echo-auth", path: "/company/companies" });
    const echo = await sandboxRequest(sb, "GET", "/company/companies");
    expect(echo.status).toBe(400);
    expect(echo.text).toContain(basicAuth(sb.credentials));
  });

  it("records every request without its credentials", async () => {
    sb.requests.length = 0;
    await sandboxRequest(sb, "GET", "/company/companies", { query: { conditions: 'identifier = "AcmeCorp"', pageSize: 5 } });
    await sandboxRequest(sb, "GET", "/company/companies", { clientId: false });
    await sandboxRequest(sb, "POST", "/service/tickets", { body: { summary: "x", company: { id: 250 } } });
    expect(sb.requests).toHaveLength(3);
    expect(sb.requests[0]).toMatchObject({
      method: "GET", path: "/company/companies", query: { conditions: 'identifier = "AcmeCorp"', pageSize: "5" },
      status: 200, authenticated: true, clientId: true,
    });
    expect(sb.requests[1]).toMatchObject({ status: 403, authenticated: true, clientId: false });
    expect(sb.requests[2]).toMatchObject({ method: "POST", path: "/service/tickets", status: 201, body: { summary: "x", company: { id: 250 } } });
    expect(typeof sb.requests[0].at).toBe("number");
    const dump = JSON.stringify(sb.requests);
    expect(dump).not.toContain(sb.credentials.privateKey);
    expect(dump).not.toContain(sb.credentials.publicKey);
    expect(dump).not.toContain(basicAuth(sb.credentials).slice(6));
  });

  it("test code may change the live state between requests", async () => {
    sb.state.companies.push({ id: 7000, identifier: "Pushed", name: "Pushed by a test", status: { id: 1, name: "Active" }, deletedFlag: false });
    const r = await sandboxRequest(sb, "GET", "/company/companies/7000");
    expect(r.json).toMatchObject({ identifier: "Pushed", _info: { lastUpdated: expect.any(String) } });
  });
});

describe("ConnectWise sandbox: options", () => {
  it("refuses a non-loopback address unless allowed", async () => {
    await expect(startConnectWiseSandbox({ listen: { host: "0.0.0.0" } })).rejects.toThrow(/loopback/);
    await expect(startConnectWiseSandbox({ listen: { host: "192.0.2.10" } })).rejects.toThrow(/loopback/);
  });

  it("takes a codebase and credentials", async () => {
    const sb = await startConnectWiseSandbox({ codebase: "v2025_1", credentials: { company: "acme", privateKey: "k" } });
    try {
      expect(sb.url).toMatch(/\/v2025_1\/apis\/3\.0$/);
      expect(sb.credentials).toMatchObject({ company: "acme", privateKey: "k", publicKey: expect.any(String), clientId: expect.any(String) });
      expect((await sandboxRequest(sb, "GET", "/service/boards")).status).toBe(200);
      const old = await request(`${new URL(sb.url).origin}/v4_6_release/apis/3.0/service/boards`, { headers: { authorization: basicAuth(sb.credentials), clientid: "x" } });
      expect(old.statusCode).toBe(404);
      await old.body.dump();
    } finally {
      await sb.close();
    }
  });
});
