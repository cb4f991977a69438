import type { Clock } from "../../src/ports/clock.ts";

/** A clock that never waits: `sleep` moves time forward at once and records how long was asked. */
export class FakeClock implements Clock {
  readonly sleeps: number[] = [];
  constructor(private t = Date.parse("2027-01-04T06:00:00Z")) {}
  now(): number {
    return this.t;
  }
  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    this.sleeps.push(ms);
    this.t += ms;
  }
}
