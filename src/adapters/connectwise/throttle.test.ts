import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startConnectWiseSandbox, type ConnectWiseSandbox } from "../../sandbox/connectwise-sandbox.ts";
import { loadSandboxSeed } from "../../sandbox/seed.ts";
import { systemClock } from "../clock-system.ts";
import { ConnectWiseClient } from "./connectwise-client.ts";
import { ConnectWiseTransport, type TransportEvent } from "./transport.ts";

// The real transport against the sandbox's throttle (a token bucket answering 429 + Retry-After),
// in real time: the bucket refills on the wall clock.
let sandbox: ConnectWiseSandbox | undefined;
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

async function connect() {
  sandbox = await startConnectWiseSandbox({ seed: loadSandboxSeed(join(import.meta.dirname, "../../..")) });
  const events: TransportEvent[] = [];
  const http = new ConnectWiseTransport({ url: sandbox.url, ...sandbox.credentials }, { clock: systemClock, random: () => 0.5, onEvent: (e) => events.push(e) });
  const company = sandbox.state.companies.find((c) => c.identifier === "AcmeCorp")!;
  const ticket = (key: string) => ({ boardName: "Managed Services", companyId: company.id, summary: `Billing 2027-01 Acme Corporation ${key}`, initialDescription: "seats" });
  return { sb: sandbox, http, events, cw: new ConnectWiseClient(http), ticket };
}

describe("ConnectWise's throttle (sandbox fault `throttle`)", () => {
  it("a create answered 429 is sent again after Retry-After and creates exactly one record; the limiter slows down", async () => {
    const { sb, http, events, cw, ticket } = await connect();
    // one request a second, a bucket of one: the first request empties it
    sb.faults.add({ kind: "throttle", perMinute: 60, burst: 1 });
    expect((await cw.agreementTypes()).length).toBeGreaterThan(0);
    const r = await cw.createTicket(ticket("cws-0123456789"));
    expect(r.outcome).toBe("created");
    const posts = sb.requests.filter((q) => q.method === "POST");
    expect(posts.map((q) => q.status)).toEqual([429, 201]);
    expect(posts[0].fault).toBe("throttle");
    // the 429 came before anything was handled: one ticket, not two
    expect(sb.state.tickets.filter((t) => t.summary.includes("cws-0123456789"))).toHaveLength(1);
    expect(await cw.findTicketsByKey("cws-0123456789", ticket("x").companyId)).toHaveLength(1);
    // waited the Retry-After (1 s) before sending it again
    expect(posts[1].at - posts[0].at).toBeGreaterThanOrEqual(950);
    expect(events.some((e) => e.type === "throttled" && e.method === "POST" && e.retryAfterMs === 1000)).toBe(true);
    expect(http.limiter.rate).toBeLessThan(http.limiter.ratePerSecond);
    expect(http.limiter.throttles).toBeGreaterThanOrEqual(1);
  }, 20_000);

  it("a create answered 503 is never sent again: its outcome is unknown, and nothing was created", async () => {
    const { sb, cw, ticket } = await connect();
    sb.faults.add({ kind: "status", status: 503, method: "POST", times: Infinity });
    const r = await cw.createTicket(ticket("cws-9876543210"));
    expect(r.outcome).toBe("unknown");
    expect(sb.requests.filter((q) => q.method === "POST").map((q) => q.status)).toEqual([503]);
    expect(sb.state.tickets.filter((t) => t.summary.includes("cws-9876543210"))).toHaveLength(0);
  });
});
