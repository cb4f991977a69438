import { afterEach, describe, expect, it } from "vitest";
import { FakeClock } from "../../test/helpers/fake-clock.ts";
import { ApiError } from "../errors.ts";
import { startConnectWiseSandbox, type ConnectWiseSandbox } from "../sandbox/connectwise-sandbox.ts";
import { startEmailSecuritySandbox } from "../sandbox/email-security-sandbox.ts";
import { EmailSecurityClient } from "./email-security/email-security-client.ts";
import { ConnectWiseClient } from "./connectwise/connectwise-client.ts";
import { ConnectWiseTransport } from "./connectwise/transport.ts";
import { RetryBudget, RETRY_BUDGET } from "./retry-budget.ts";

// A ConnectWise sandbox on loopback that answers 503 to everything; the clock is fake, so the
// waits are counted, not slept.

let cw: ConnectWiseSandbox | undefined;
afterEach(async () => {
  await cw?.close();
  cw = undefined;
});

async function down(fault: { retryAfter?: number } = {}) {
  cw = await startConnectWiseSandbox();
  cw.faults.add({ kind: "status", status: 503, times: Infinity, ...fault });
  const clock = new FakeClock();
  const budget = new RetryBudget();
  const client = new ConnectWiseClient(new ConnectWiseTransport({ url: cw.url, ...cw.credentials }, { clock, budget, random: () => 0.5 }));
  /** One cycle's worth of reads (a reconcile looks up every customer's company): each fails. */
  const cycle = async (calls: number) => {
    const errors: ApiError[] = [];
    for (let id = 1; id <= calls; id++) errors.push(await client.getCompany(id).then(() => { throw new Error("expected a failure"); }, (e: ApiError) => e));
    return errors;
  };
  return { sandbox: cw, clock, budget, cycle };
}

describe("the retry budget of a cycle", () => {
  it("a ConnectWise answering 503 to everything: the cycle's reads stop after the budget, without a request, and the next cycle tries again", async () => {
    const { sandbox, budget, cycle } = await down();
    const errors = await cycle(30);
    // without a budget: 30 calls × 6 attempts = 180 requests; with it, the 20 retries and the
    // first attempts of the calls made before it ran out
    expect(sandbox.requests.length).toBeLessThanOrEqual(RETRY_BUDGET + 5);
    expect(budget.spent).toMatch(/^the retry budget of this cycle is spent \(20 retries or 5 minutes of waiting; last: status 503\)/);
    const refused = errors.at(-1)!;
    expect(refused).toBeInstanceOf(ApiError);
    expect(refused.message).toMatch(/^ConnectWise GET \/?company\/companies\/30 not sent — connectwise\.unavailable: the retry budget of this cycle is spent/);
    expect(refused.retryable).toBe(true);

    const before = sandbox.requests.length;
    budget.reset();
    await cycle(1);
    expect(sandbox.requests.length).toBeGreaterThan(before);
    expect(budget.spent).toBeUndefined();
  });

  it("a Retry-After of an hour: at most 5 minutes of waiting per cycle, not 5 per retry", async () => {
    const { sandbox, clock, cycle } = await down({ retryAfter: 3600 });
    await cycle(5);
    const waited = clock.sleeps.reduce((a, b) => a + b, 0);
    expect(waited).toBeLessThanOrEqual(5 * 60_000);
    // the first call waits once (5 minutes, the cap), is refused a second wait; the rest are not sent
    expect(sandbox.requests).toHaveLength(2);
  });

  it("a Trend Micro Email Security answering 503 to everything: its windows stop after the budget, with the service's unavailable error", async () => {
    const now = Date.parse("2027-01-04T06:00:00Z");
    const tmes = await startEmailSecuritySandbox({ service: "tmes", now: () => now });
    try {
      for (let i = 0; i < 500; i++) tmes.faults.push({ kind: "status", status: 503 });
      const budget = new RetryBudget();
      const client = new EmailSecurityClient({ url: tmes.url, ...tmes.credentials }, "tmes", { clock: new FakeClock(now), budget, random: () => 0.5 });
      const errors: Error[] = [];
      for (let i = 0; i < 20; i++) {
        errors.push(await client.policyEvents({ domain: `d${i}.example`, event: "threat", start: new Date(now - 3600_000), end: new Date(now) }).then(() => new Error("expected a failure"), (e: Error) => e));
      }
      // without a budget: 20 windows × 5 attempts = 100 requests
      expect(tmes.requests.length).toBeLessThanOrEqual(RETRY_BUDGET + 20);
      expect(errors.at(-1)!.message).toMatch(/^Trend Micro Email Security GET \/api\/v1\/log\/policyeventlog not sent — detections\.unavailable: the retry budget of this cycle is spent/);
    } finally {
      await tmes.close();
    }
  });

  it("sporadic 503s among answers do not spend it: each answer earns a tenth of a retry back", () => {
    const budget = new RetryBudget();
    for (let i = 0; i < 1000; i++) {
      for (let k = 0; k < 10; k++) budget.answered();
      expect(budget.take(500, "status 503")).toBe(true);
    }
    expect(budget.spent).toBeUndefined();
  });
});
