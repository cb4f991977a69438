import type { Clock } from "../../ports/clock.ts";

/**
 * Bounded concurrency plus a token bucket: at most `concurrency` requests in flight and, over
 * time, at most `ratePerSecond` (after an initial `burst`). ConnectWise throttles at about 1,000
 * requests a minute per tenant; the defaults (10/s, burst 50, 4 at once) stay well under that.
 */
export class RequestLimiter {
  private tokens: number;
  private last: number;
  private active = 0;
  private readonly queue: (() => void)[] = [];
  /** Total milliseconds callers waited for a token (a metric: rate-limit waits). */
  waitedMs = 0;

  constructor(
    private readonly clock: Clock,
    readonly concurrency = 4,
    readonly ratePerSecond = 10,
    readonly burst = 50,
  ) {
    this.tokens = burst;
    this.last = clock.now();
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

  private release(): void {
    this.active--;
    this.queue.shift()?.();
  }

  private async takeToken(signal?: AbortSignal): Promise<void> {
    for (;;) {
      const now = this.clock.now();
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.ratePerSecond);
      this.last = now;
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      const wait = Math.ceil(((1 - this.tokens) / this.ratePerSecond) * 1000);
      this.waitedMs += wait;
      await this.clock.sleep(wait, signal);
    }
  }
}
