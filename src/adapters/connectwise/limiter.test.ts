import { describe, expect, it } from "vitest";
import type { Clock } from "../../ports/clock.ts";
import { DEFAULT_CW_BURST, DEFAULT_CW_CONCURRENCY, DEFAULT_CW_RATE, RECOVERY_EVERY_MS, RequestLimiter } from "./limiter.ts";

/** A fake clock shared by concurrent callers: time moves only as far as the earliest sleeper asks. */
class SharedClock implements Clock {
  t = 0;
  private sleepers: { until: number; wake: () => void }[] = [];
  now(): number {
    return this.t;
  }
  sleep(ms: number): Promise<void> {
    return new Promise((wake) => this.sleepers.push({ until: this.t + ms, wake }));
  }
  /** Runs until `done` or nothing is left to wake, waking sleepers in time order. */
  async drive(done: () => boolean): Promise<void> {
    for (;;) {
      for (let i = 0; i < 5; i++) await Promise.resolve();
      await new Promise((r) => setImmediate(r));
      if (done() || this.sleepers.length === 0) return;
      this.sleepers.sort((a, b) => a.until - b.until);
      const next = this.sleepers.shift()!;
      this.t = Math.max(this.t, next.until);
      next.wake();
    }
  }
}

/** `n` requests through the limiter, each taking `latencyMs`: the instants they went out. */
async function run(limiter: RequestLimiter, clock: SharedClock, n: number, latencyMs: number, onSent?: (at: number, i: number) => void) {
  const sent: number[] = [];
  let finished = 0;
  const one = async (i: number) => {
    const release = await limiter.acquire();
    sent.push(clock.now());
    onSent?.(clock.now(), i);
    await clock.sleep(latencyMs);
    release();
    finished++;
  };
  for (let i = 0; i < n; i++) void one(i);
  await clock.drive(() => finished === n);
  expect(finished).toBe(n);
  return sent;
}

/** The most requests in any 60 s window. */
function busiestMinute(sent: number[]): number {
  let most = 0;
  for (let i = 0, j = 0; i < sent.length; i++) {
    while (sent[i] - sent[j] >= 60_000) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

describe("the ConnectWise request limiter", () => {
  it("at its defaults keeps every 60 s window under 1,000 requests while sustaining close to it, with 150 ms answers", async () => {
    const clock = new SharedClock();
    const limiter = new RequestLimiter(clock);
    expect([limiter.concurrency, limiter.ratePerSecond, limiter.burst]).toEqual([DEFAULT_CW_CONCURRENCY, DEFAULT_CW_RATE, DEFAULT_CW_BURST]);
    const sent = await run(limiter, clock, 3000, 150);
    expect(busiestMinute(sent)).toBeLessThanOrEqual(990);
    // 3,000 requests in at most 3,000 / 16 s (the burst of 30 saves ~2 s): the pace is ~960 a minute, not the old 650
    const span = sent.at(-1)! - sent[0];
    expect(span).toBeLessThanOrEqual((3000 / DEFAULT_CW_RATE) * 1000);
    expect((sent.length / span) * 60_000).toBeGreaterThan(950);
  });

  it("on a 429 pauses for Retry-After and slows down by 0.7, once for the requests already under way; then recovers to the ceiling", async () => {
    const rates: number[] = [];
    const c2 = new SharedClock();
    const l2 = new RequestLimiter(c2, 8, 16, 30, (r) => rates.push(r));
    // the 100th request is answered 429 with Retry-After 2 s, and so are the others sent before that answer came back
    let throttledAt = 0;
    const after: number[] = [];
    let finished = 0;
    const one = async (i: number) => {
      const release = await l2.acquire();
      const sentAt = c2.now();
      if (i >= 99) after.push(sentAt);
      await c2.sleep(150);
      if (i === 99 || (throttledAt && sentAt < throttledAt)) {
        throttledAt ||= c2.now();
        l2.throttled(sentAt, 2_000);
      }
      release();
      finished++;
    };
    for (let i = 0; i < 1600; i++) void one(i);
    await c2.drive(() => finished === 1600);
    expect(l2.throttles).toBeGreaterThan(1);
    // one decrease for the whole episode, not 0.7^8
    expect(rates[0]).toBeCloseTo(16 * 0.7);
    // nothing went out during the Retry-After after the first 429
    const paused = after.filter((t) => t > throttledAt && t < throttledAt + 2_000);
    expect(paused).toEqual([]);
    // then the rate climbs back 0.5/s per 10 s without a 429, to the ceiling and no further
    rates.slice(1).forEach((r, i) => expect(r).toBeCloseTo(Math.min(16, 16 * 0.7 + 0.5 * (i + 1))));
    expect(rates.at(-1)).toBe(16);
    expect(l2.rate).toBe(16);
    // the minute after the 429 carries fewer requests than the ceiling allows
    const minuteAfter = after.filter((t) => t >= throttledAt && t < throttledAt + 60_000).length;
    expect(minuteAfter).toBeLessThan(16 * 60 * 0.85);
    expect(busiestMinute(after)).toBeLessThanOrEqual(990);
    expect(RECOVERY_EVERY_MS).toBe(10_000);
  });

  it("a second 429 after the rate went down lowers it again", () => {
    const clock = new SharedClock();
    const limiter = new RequestLimiter(clock, 8, 10, 10);
    limiter.throttled(0, 1000);
    clock.t = 5_000;
    limiter.throttled(4_000, 1000);
    expect(limiter.rate).toBeCloseTo(10 * 0.7 * 0.7);
    expect(limiter.throttles).toBe(2);
  });
});
