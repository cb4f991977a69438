import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startConnectWiseSandbox, type ConnectWiseSandbox } from "./connectwise-sandbox.ts";
import { Faults } from "./faults.ts";
import { sandboxRequest } from "./sandbox-request.ts";
import { SeedBuilder } from "./seed-builder.ts";

function seed() {
  const b = new SeedBuilder();
  const acme = b.company("AcmeCorp", "Acme Corporation");
  b.agreement(acme, "Managed Service", "Acme - Managed"); // 800
  b.catalogItem("TM-WFBSS", "Worry-Free Business Security Services"); // 4400
  b.board("Managed Services", ["New", "Closed"]);
  return b.build();
}

const ADDITIONS = "/finance/agreements/800/additions";
const NEW_ADDITION = { product: { id: 4400 }, quantity: 5, billCustomer: "Billable" };

describe("fault injection", () => {
  let sb: ConnectWiseSandbox;
  beforeAll(async () => {
    sb = await startConnectWiseSandbox({ seed: seed() });
  });
  afterEach(() => {
    sb.faults.clear();
    sb.faults.latencyMs = 0;
  });
  afterAll(() => sb.close());

  it("status 429: ConnectWise's body with Retry-After, once by default, then normal service", async () => {
    const fault = sb.faults.add({ kind: "status", status: 429, retryAfter: 7, path: "/company/companies" });
    const first = await sandboxRequest(sb, "GET", "/company/companies");
    expect(first.status).toBe(429);
    expect(first.headers["retry-after"]).toBe("7");
    expect(first.json).toEqual({ error: "ConnectWiseAPI", message: "Too many requests. Please try again in 7 seconds." });
    expect((await sandboxRequest(sb, "GET", "/company/companies")).status).toBe(200);
    expect(fault.fired).toBe(1);
    expect(sb.faults.active).toHaveLength(0);
    expect(sb.requests.at(-2)).toMatchObject({ status: 429, fault: "status" });
  });

  it("status 5xx: ConnectWise JSON by default, a custom body, `times`, method and RegExp path matching", async () => {
    sb.faults.add({ kind: "status", status: 500, method: "get", path: /^\/service\//, times: 2 });
    sb.faults.add({ kind: "status", status: 503, path: "/company/companies", body: "upstream down" });
    const a = await sandboxRequest(sb, "GET", "/service/boards");
    expect(a.status).toBe(500);
    expect(a.json).toEqual({ code: "ConnectWiseApi", message: "An error has occurred." });
    expect((await sandboxRequest(sb, "GET", "/service/tickets")).status).toBe(500);
    expect((await sandboxRequest(sb, "GET", "/service/boards")).status).toBe(200);
    const c = await sandboxRequest(sb, "GET", "/company/companies");
    expect(c.status).toBe(503);
    expect(c.text).toBe("upstream down");
  });

  it("faults hit before authentication, as a proxy in front would", async () => {
    sb.faults.add({ kind: "status", status: 502 });
    expect((await sandboxRequest(sb, "GET", "/company/companies", { authorization: false })).status).toBe(502);
  });

  it("html429: a Cloudflare HTML page, not JSON", async () => {
    sb.faults.add({ kind: "html429", retryAfter: 12 });
    const r = await sandboxRequest(sb, "GET", "/company/companies");
    expect(r.status).toBe(429);
    expect(r.headers["content-type"]).toMatch(/^text\/html/);
    expect(r.headers["retry-after"]).toBe("12");
    expect(r.text).toContain("You are being rate limited");
    expect(r.json).toBeUndefined();
  });

  it("latency: a fault delays matching requests; latencyMs delays every request", async () => {
    // what a client notices: a delayed request is answered after a later one that is not delayed
    const answered: string[] = [];
    const ask = (path: string, label: string) => sandboxRequest(sb, "GET", path).then((r) => (answered.push(label), r));
    /** Once the sandbox has taken the request (its delay is fixed on arrival). */
    const arrived = async (n: number) => {
      for (let i = 0; sb.requests.length < n; i++) {
        if (i > 2000) throw new Error(`the sandbox never received request ${n}`);
        await new Promise((r) => setTimeout(r, 5));
      }
    };

    const fault = sb.faults.add({ kind: "latency", ms: 500, path: "/service/boards" });
    let n = sb.requests.length;
    const boards = ask("/service/boards", "boards (delayed)");
    await arrived(n + 1);
    await ask("/company/companies", "companies");
    expect((await boards).status).toBe(200);
    expect(answered).toEqual(["companies", "boards (delayed)"]);
    expect(fault.fired).toBe(1);

    answered.length = 0;
    sb.faults.clear();
    sb.faults.latencyMs = 500;
    n = sb.requests.length;
    const companies = ask("/company/companies", "companies (delayed)");
    await arrived(n + 1);
    sb.faults.latencyMs = 0;
    await ask("/company/companies", "companies");
    expect((await companies).status).toBe(200);
    expect(answered).toEqual(["companies", "companies (delayed)"]);
  });

  it("reset: the connection dies and nothing is created", async () => {
    sb.faults.add({ kind: "reset", method: "POST", path: ADDITIONS });
    const before = sb.state.additions.length;
    await expect(sandboxRequest(sb, "POST", ADDITIONS, { body: NEW_ADDITION })).rejects.toThrow();
    expect(sb.state.additions.length).toBe(before);
    expect(sb.requests.at(-1)).toMatchObject({ method: "POST", status: 0, fault: "reset" });
  });

  it("reset-after-commit: the addition is created, but the client never hears of it", async () => {
    sb.faults.add({ kind: "reset-after-commit", method: "POST", path: ADDITIONS });
    const before = sb.state.additions.length;
    await expect(sandboxRequest(sb, "POST", ADDITIONS, { body: NEW_ADDITION })).rejects.toThrow();
    expect(sb.state.additions.length).toBe(before + 1);
  });

  it("redirect-after-commit: created, then 302 to the new record over plain http", async () => {
    sb.faults.add({ kind: "redirect-after-commit", method: "POST" });
    const r = await sandboxRequest(sb, "POST", ADDITIONS, { body: NEW_ADDITION });
    expect(r.status).toBe(302);
    const created = sb.state.additions.at(-1)!;
    expect(r.headers.location).toBe(`${sb.url}${ADDITIONS}/${created.id}`);
    expect(String(r.headers.location)).toMatch(/^http:\/\//);
    const followed = await sandboxRequest(sb, "GET", String(r.headers.location));
    expect(followed.json).toMatchObject({ id: created.id, quantity: 5 });
  });

  it("probability draws from a seeded generator: the same seed hits the same requests", async () => {
    const pattern = async () => {
      sb.faults.clear();
      sb.faults.reseed(42);
      sb.faults.add({ kind: "status", status: 500, probability: 0.5, path: "/service/boards" });
      const out: number[] = [];
      for (let i = 0; i < 12; i++) out.push((await sandboxRequest(sb, "GET", "/service/boards")).status);
      return out;
    };
    const a = await pattern();
    expect(await pattern()).toEqual(a);
    expect(a).toContain(500);
    expect(a).toContain(200);
  });
});

describe("Faults", () => {
  it("adds the delays of every matching latency fault and fires at most one other", () => {
    const f = new Faults();
    f.latencyMs = 5;
    f.add({ kind: "latency", ms: 10 });
    f.add({ kind: "status", status: 500 });
    f.add({ kind: "status", status: 503 });
    expect(f.take("GET", "/x")).toEqual({ delayMs: 15, fault: { kind: "status", status: 500 } });
    expect(f.take("GET", "/x")).toEqual({ delayMs: 5, fault: { kind: "status", status: 503 } });
    expect(f.take("GET", "/x")).toEqual({ delayMs: 5, fault: undefined });
  });

  it("refuses a probability outside 0..1", () => {
    expect(() => new Faults().add({ kind: "reset", probability: 2 })).toThrow(RangeError);
  });
});
