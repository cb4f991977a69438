import { describe, expect, it } from "vitest";
import { FakeClock } from "../../test/helpers/fake-clock.ts";
import { ApiError } from "../errors.ts";
import { connectwisePolicy } from "./connectwise/transport.ts";
import { emailSecurityPolicy } from "./email-security/email-security-client.ts";
import { MAX_RETRY_AFTER_MS } from "./http-retry.ts";
import { lmpiPolicy } from "./lmpi/lmpi-client.ts";
import { RetryBudget } from "./retry-budget.ts";
import { NOT_SENT, retryingRequest, type Answered, type RetryPolicy, type RetryingRequestOptions } from "./retrying-request.ts";

const POLICY: RetryPolicy = {
  unavailableCode: "test.unavailable",
  repeatable: new Set(["GET"]),
  retries: 3,
  retryOn: (status) => status === 429 || status === 503,
  backoffBaseMs: 100,
  backoffCapMs: 1_000,
};

type Step = number | { status: number; retryAfter?: string } | Error;

/** An attempt that plays `steps` in order (the last one for ever) and counts its calls. */
function server(...steps: Step[]) {
  const s = { calls: 0, attempt: async (): Promise<Answered> => {
    const step = steps[Math.min(s.calls++, steps.length - 1)];
    if (step instanceof Error) throw step;
    const { status, retryAfter } = typeof step === "number" ? { status: step, retryAfter: undefined } : step;
    return { status, headers: retryAfter === undefined ? {} : { "retry-after": retryAfter } };
  } };
  return s;
}

function options(over: Partial<RetryingRequestOptions<Answered>> = {}) {
  const clock = new FakeClock();
  const retries: { attempt: number; waitMs: number; reason: string }[] = [];
  const opts: RetryingRequestOptions<Answered> = {
    method: "GET", path: "/things", clock, tuning: { random: () => 0.5 },
    error: (init) => new ApiError(init),
    rejected: (res, retryable) => new ApiError({ method: "GET", path: "/things", status: res.status, retryable }),
    onRetry: (attempt, waitMs, reason) => retries.push({ attempt, waitMs, reason }),
    ...over,
  };
  return { clock, retries, opts };
}

const lost = () => Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });

async function failure(p: Promise<unknown>): Promise<ApiError> {
  const e = await p.then(() => undefined, (x: unknown) => x);
  if (!(e instanceof ApiError)) throw new Error(`expected an ApiError, got ${String(e)}`);
  return e;
}

describe("retryingRequest", () => {
  it("retries a retryable answer and a lost connection with jittered exponential backoff, then returns the success", async () => {
    const s = server(503, lost(), 200);
    const { clock, retries, opts } = options();
    expect((await retryingRequest(POLICY, s.attempt, opts)).status).toBe(200);
    expect(s.calls).toBe(3);
    expect(clock.sleeps).toEqual([50, 100]);
    expect(retries).toEqual([{ attempt: 1, waitMs: 50, reason: "status 503" }, { attempt: 2, waitMs: 100, reason: "connection lost" }]);
  });

  it("never retries a status the policy does not list, nor any request of a method it does not repeat", async () => {
    const refused = server(500, 200);
    const e = await failure(retryingRequest(POLICY, refused.attempt, options().opts));
    expect(refused.calls).toBe(1);
    // not retried here, yet still worth retrying later
    expect(e).toMatchObject({ status: 500, retryable: true });

    for (const step of [503, lost()]) {
      const create = server(step, 200);
      const { clock, opts } = options({ method: "POST" });
      await failure(retryingRequest(POLICY, create.attempt, opts));
      expect(create.calls).toBe(1);
      expect(clock.sleeps).toEqual([]);
    }
  });

  it("waits as long as Retry-After asks, capped, in seconds or as a date read against `now`", async () => {
    const long = options();
    await retryingRequest(POLICY, server({ status: 429, retryAfter: "86400" }, 200).attempt, long.opts);
    expect(long.clock.sleeps).toEqual([MAX_RETRY_AFTER_MS]);

    const dated = options({ now: () => Date.parse("2027-01-04T06:00:00Z") });
    await retryingRequest(POLICY, server({ status: 503, retryAfter: "Mon, 04 Jan 2027 06:00:07 GMT" }, 200).attempt, dated.opts);
    expect(dated.clock.sleeps).toEqual([7_000]);

    // a hint shorter than the backoff does not shorten it
    const short = options();
    await retryingRequest(POLICY, server({ status: 503, retryAfter: "0" }, 200).attempt, short.opts);
    expect(short.clock.sleeps).toEqual([50]);
  });

  it("stops at the attempt cap (the caller's `retries` over the policy's) and throws the service's error", async () => {
    const s = server(503);
    const e = await failure(retryingRequest(POLICY, s.attempt, options().opts));
    expect(s.calls).toBe(4);
    expect(e).toMatchObject({ status: 503, retryable: true });

    const once = server(lost());
    const net = await failure(retryingRequest(POLICY, once.attempt, options({ tuning: { retries: 1, random: () => 0 } }).opts));
    expect(once.calls).toBe(2);
    expect(net).toMatchObject({ reason: "connection lost", retryable: true, status: undefined });
  });

  it("charges each retry to the budget; once it is spent the call fails, and the next is refused without an attempt", async () => {
    const budget = new RetryBudget(2);
    const s = server(503);
    const e = await failure(retryingRequest(POLICY, s.attempt, options({ budget }).opts));
    expect(s.calls).toBe(3);
    expect(e.status).toBe(503);
    expect(budget.spent).toMatch(/retry budget of this cycle is spent .*last: status 503/);

    const next = server(200);
    const refused = await failure(retryingRequest(POLICY, next.attempt, options({ budget }).opts));
    expect(next.calls).toBe(0);
    expect(refused).toMatchObject({ reason: NOT_SENT, code: "test.unavailable", retryable: true });
  });

  it("charges a retry after a lost connection too, and fails as that loss once the budget is spent", async () => {
    const budget = new RetryBudget(1);
    const s = server(lost());
    const e = await failure(retryingRequest(POLICY, s.attempt, options({ budget }).opts));
    expect(s.calls).toBe(2);
    expect(e).toMatchObject({ reason: "connection lost", retryable: true });
    expect(budget.spent).toMatch(/last: connection lost/);
  });

  it("a long Retry-After costs more of the budget than a short backoff", async () => {
    const budget = new RetryBudget(3);
    const s = server({ status: 429, retryAfter: "60" }, 200);
    await failure(retryingRequest(POLICY, s.attempt, options({ budget }).opts));
    // 60 s is four 15 s periods, more than the three retries left
    expect(s.calls).toBe(1);
    expect(budget.spent).toBeDefined();
  });

  it("stops when the signal aborts during a backoff, and passes an attempt's failure after the abort through as it is", async () => {
    const stop = new AbortController();
    const s = server(503, 200);
    const { opts } = options({ signal: stop.signal, onRetry: () => stop.abort(new Error("stopping")) });
    await expect(retryingRequest(POLICY, s.attempt, opts)).rejects.toThrow("stopping");
    expect(s.calls).toBe(1);

    const gone = new AbortController();
    gone.abort();
    const cut = lost();
    await expect(retryingRequest(POLICY, server(cut).attempt, options({ signal: gone.signal }).opts)).rejects.toBe(cut);
  });

  it("passes an ApiError of the attempt through unretried, and wraps any other failure as not retryable", async () => {
    const unreadable = new ApiError({ method: "GET", path: "/things", status: 200, retryable: false, code: "test.unreadable" });
    const s = server(unreadable);
    await expect(retryingRequest(POLICY, s.attempt, options().opts)).rejects.toBe(unreadable);
    expect(s.calls).toBe(1);

    const bug = new TypeError("not a function");
    const e = await failure(retryingRequest(POLICY, server(bug).attempt, options().opts));
    expect(e).toMatchObject({ reason: "failed", retryable: false, cause: bug });
  });

  it("returns what the policy counts as success: a ConnectWise POST's 3xx, but no one else's", async () => {
    const moved = server(302);
    expect((await retryingRequest(connectwisePolicy, moved.attempt, options({ method: "POST" }).opts)).status).toBe(302);
    expect(await failure(retryingRequest(POLICY, server(302).attempt, options().opts))).toMatchObject({ status: 302, retryable: false });
  });
});

describe("the service policies", () => {
  const calls = async (policy: RetryPolicy, method: string, status: number) => {
    const s = server(status, 200);
    await retryingRequest(policy, s.attempt, options({ method }).opts).catch(() => undefined);
    return s.calls;
  };

  it("ConnectWise retries reads and absolute updates on 500, and sends a create exactly once unless answered 429", async () => {
    for (const method of ["GET", "PUT", "PATCH"]) expect(await calls(connectwisePolicy, method, 500)).toBe(2);
    // a 5xx may have been processed: the create's outcome is unknown, never repeated here
    for (const status of [500, 502, 503, 504]) expect(await calls(connectwisePolicy, "POST", status)).toBe(1);
    // a 429 was not processed: the create is sent again after the wait
    expect(await calls(connectwisePolicy, "POST", 429)).toBe(2);
  });

  it("a ConnectWise create answered 429 waits Retry-After and is sent again, up to the policy's retries; a lost connection is still never retried", async () => {
    const throttled = server({ status: 429, retryAfter: "3" }, { status: 429, retryAfter: "4" }, 201);
    const { clock, retries, opts } = options({ method: "POST" });
    expect((await retryingRequest(connectwisePolicy, throttled.attempt, opts)).status).toBe(201);
    expect(throttled.calls).toBe(3);
    expect(clock.sleeps).toEqual([3000, 4000]);
    expect(retries.map((r) => r.reason)).toEqual(["status 429", "status 429"]);

    const always = server({ status: 429, retryAfter: "1" });
    expect(await failure(retryingRequest(connectwisePolicy, always.attempt, options({ method: "POST" }).opts))).toMatchObject({ status: 429, retryable: true });
    expect(always.calls).toBe(1 + connectwisePolicy.retries);

    const reset = server(lost(), 201);
    const after = options({ method: "POST" });
    await failure(retryingRequest(connectwisePolicy, reset.attempt, after.opts));
    expect(reset.calls).toBe(1);
    expect(after.clock.sleeps).toEqual([]);
  });

  it("LMPI retries its report POST on 429/502/503/504 but not 500; TMES/HES retry every 5xx", async () => {
    expect(await calls(lmpiPolicy, "POST", 503)).toBe(2);
    expect(await calls(lmpiPolicy, "POST", 500)).toBe(1);
    expect(await calls(emailSecurityPolicy, "GET", 501)).toBe(2);
  });
});
