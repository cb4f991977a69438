import { afterEach, describe, expect, it } from "vitest";
import { startConnectWiseSandbox, type ConnectWiseSandbox } from "./connectwise-sandbox.ts";
import { Faults } from "./faults.ts";
import { sandboxRequest } from "./sandbox-request.ts";

describe("the throttle fault: ConnectWise's 1,000 requests a minute as a token bucket", () => {
  it("lets a bucket's worth through, then answers 429 with the seconds until a token, taking none and sparing the other faults", () => {
    let now = 0;
    const f = new Faults(1, () => now);
    f.add({ kind: "throttle" });
    const reset = f.add({ kind: "reset", times: 1 });
    // 1,000 a minute holds a twentieth of it: 50 at once
    expect(f.take("GET", "/a").fault).toEqual({ kind: "reset", times: 1 });
    for (let i = 1; i < 50; i++) expect(f.take("GET", "/a").fault).toBeUndefined();
    const refused = f.take("POST", "/service/tickets");
    expect(refused).toEqual({ delayMs: 0, fault: { kind: "throttle" }, retryAfter: 1 });
    expect(reset.fired).toBe(1);
    // 60 ms later: one token (1,000 a minute is one per 60 ms)
    now += 60;
    expect(f.take("GET", "/a").fault).toBeUndefined();
    expect(f.take("GET", "/a").fault?.kind).toBe("throttle");
    // over any long stretch: the rate and no more
    let passed = 0;
    for (now = 1_000; now < 61_000; now += 10) if (f.take("GET", "/a").fault === undefined) passed++;
    expect(passed).toBeGreaterThanOrEqual(999);
    expect(passed).toBeLessThanOrEqual(1000 + 50);
  });

  it("Retry-After counts whole seconds until a token, and the bucket and rate are configurable", () => {
    let now = 0;
    const f = new Faults(1, () => now);
    f.add({ kind: "throttle", perMinute: 6, burst: 2 });
    expect(f.take("GET", "/a").fault).toBeUndefined();
    expect(f.take("GET", "/a").fault).toBeUndefined();
    expect(f.take("GET", "/a").retryAfter).toBe(10);
    now = 4_000;
    expect(f.take("GET", "/a").retryAfter).toBe(6);
  });

  it("latencyJitterMs adds a seeded delay between 0 and it to every request", () => {
    const f = new Faults(7);
    f.latencyMs = 50;
    f.latencyJitterMs = 100;
    const delays = Array.from({ length: 200 }, () => f.take("GET", "/a").delayMs);
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(50);
    expect(Math.max(...delays)).toBeLessThan(150);
    expect(new Set(delays).size).toBeGreaterThan(50);
  });

  describe("over HTTP", () => {
    let sb: ConnectWiseSandbox | undefined;
    afterEach(async () => {
      await sb?.close();
      sb = undefined;
    });

    it("a throttled create is answered 429 with Retry-After and ConnectWise's JSON body, and nothing is created", async () => {
      sb = await startConnectWiseSandbox();
      sb.faults.add({ kind: "throttle", perMinute: 60, burst: 1 });
      expect((await sandboxRequest(sb, "GET", "/company/companies")).status).toBe(200);
      const r = await sandboxRequest(sb, "POST", "/service/tickets", { body: { summary: "x", board: { name: "Managed Services" }, company: { id: 1 } } });
      expect(r.status).toBe(429);
      expect(r.headers["retry-after"]).toBe("1");
      expect(r.json).toEqual({ error: "ConnectWiseAPI", message: "Too many requests. Please try again in 1 seconds." });
      expect(sb.requests.at(-1)).toMatchObject({ status: 429, fault: "throttle" });
      expect(sb.state.tickets).toEqual([]);
    });
  });
});
