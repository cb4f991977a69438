import type { Clock } from "../../ports/clock.ts";

/**
 * ConnectWise throttles at about 1,000 requests a minute per tenant. At 16 a second after a burst
 * of 30, no 60 s window holds more than 30 + 16 × 60 = 990; 8 at once keep that pace with 150 ms
 * answers (16/s × 0.15 s = 2.4 in flight) and a slower one now and then.
 */
export const DEFAULT_CW_RATE = 16;
export const DEFAULT_CW_BURST = 30;
export const DEFAULT_CW_CONCURRENCY = 8;

/** On a 429 the rate is multiplied by this (the multiplicative decrease). */
export const THROTTLE_DECREASE = 0.7;
/** Then it grows back by RECOVERY_STEP requests/s each RECOVERY_EVERY_MS without a 429, up to the ceiling. */
export const RECOVERY_STEP = 0.5;
export const RECOVERY_EVERY_MS = 10_000;
/** The rate never drops below this many requests a second. */
export const MIN_RATE = 0.5;
/** The pause after a 429 that came without `Retry-After`. */
const DEFAULT_PAUSE_MS = 1_000;

/**
 * Bounded concurrency plus an adaptive token bucket: at most `concurrency` requests in flight and,
 * over time, at most `rate` requests a second after an initial `burst`. `rate` starts at the
 * ceiling `ratePerSecond`; a 429 (`throttled`) multiplies it by 0.7 and pauses every request until
 * the `Retry-After`, then it grows back additively while no 429 comes (AIMD, as TCP does).
 */
export class RequestLimiter {
  private tokens: number;
  private last: number;
  private active = 0;
  private readonly queue: (() => void)[] = [];
  /** No token is handed out before this instant (a `Retry-After`). */
  private pausedUntil = 0;
  /** When the rate last went down, or last grew back: recovery counts from here. */
  private changedAt: number;
  private decreasedAt = Number.NEGATIVE_INFINITY;
  /** The requests a second in use now: the ceiling, or less after a 429. */
  rate: number;
  /** Total milliseconds callers waited for a token (a metric: rate-limit waits). */
  waitedMs = 0;
  /** 429s reported through `throttled`. */
  throttles = 0;

  constructor(
    private readonly clock: Clock,
    readonly concurrency = DEFAULT_CW_CONCURRENCY,
    readonly ratePerSecond = DEFAULT_CW_RATE,
    readonly burst = DEFAULT_CW_BURST,
    /** Told each time `rate` changes. */
    private readonly onRate?: (rate: number) => void,
  ) {
    this.tokens = burst;
    this.last = clock.now();
    this.changedAt = this.last;
    this.rate = ratePerSecond;
  }

  /** Waits for a free slot and a token; the returned function releases the slot. */
  async acquire(signal?: AbortSignal): Promise<() => void> {
    if (this.active >= this.concurrency) await new Promise<void>((resolve) => this.queue.push(resolve));
    this.active++;
    try {
      await this.takeToken(signal);
    } catch (e) {
      this.release();
      throw e;
    }
    let released = false;
    return () => {
      if (!released) {
        released = true;
        this.release();
      }
    };
  }

  /**
   * ConnectWise answered 429 to a request sent at `sentAt`: nothing more goes out for
   * `retryAfterMs`, and the rate goes down, once per episode: the 429s of requests that were
   * already on their way when it went down do not lower it again.
   */
  throttled(sentAt: number, retryAfterMs?: number): void {
    const now = this.clock.now();
    this.throttles++;
    this.pausedUntil = Math.max(this.pausedUntil, now + (retryAfterMs ?? DEFAULT_PAUSE_MS));
    // one request may go the moment the wait ends (the server said when); the rest come at the new rate
    this.tokens = 1;
    this.last = Math.max(this.last, this.pausedUntil);
    if (sentAt < this.decreasedAt) return;
    this.decreasedAt = now;
    this.changedAt = now;
    this.setRate(Math.max(MIN_RATE, this.rate * THROTTLE_DECREASE));
  }

  private setRate(rate: number): void {
    if (rate === this.rate) return;
    this.rate = rate;
    this.onRate?.(rate);
  }

  private release(): void {
    this.active--;
    this.queue.shift()?.();
  }

  private recover(now: number): void {
    if (this.rate >= this.ratePerSecond) return;
    const steps = Math.floor((now - this.changedAt) / RECOVERY_EVERY_MS);
    if (steps <= 0) return;
    this.changedAt += steps * RECOVERY_EVERY_MS;
    this.setRate(Math.min(this.ratePerSecond, this.rate + steps * RECOVERY_STEP));
  }

  private async takeToken(signal?: AbortSignal): Promise<void> {
    for (;;) {
      const now = this.clock.now();
      if (now < this.pausedUntil) {
        const pause = this.pausedUntil - now;
        this.waitedMs += pause;
        await this.clock.sleep(pause, signal);
        continue;
      }
      this.recover(now);
      this.tokens = Math.min(this.burst, this.tokens + (Math.max(0, now - this.last) / 1000) * this.rate);
      this.last = Math.max(this.last, now);
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      const wait = Math.ceil(((1 - this.tokens) / this.rate) * 1000);
      this.waitedMs += wait;
      await this.clock.sleep(wait, signal);
    }
  }
}
