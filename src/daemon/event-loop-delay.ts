import { createHistogram, performance } from "node:perf_hooks";
import { Gauge, type Registry } from "prom-client";

/** While the daemon works, the loop's delay is sampled this often (what it costs then is a timer among the cycle's own). */
export const BUSY_SAMPLE_MS = 100;

/** prom-client's event-loop series (the names and help it gives them), prefixed as the default metrics are. */
const SERIES = [
  ["nodejs_eventloop_lag_seconds", "Lag of event loop in seconds."],
  ["nodejs_eventloop_lag_min_seconds", "The minimum recorded event loop delay."],
  ["nodejs_eventloop_lag_max_seconds", "The maximum recorded event loop delay."],
  ["nodejs_eventloop_lag_mean_seconds", "The mean of the recorded event loop delays."],
  ["nodejs_eventloop_lag_stddev_seconds", "The standard deviation of the recorded event loop delays."],
  ["nodejs_eventloop_lag_p50_seconds", "The 50th percentile of the recorded event loop delays."],
  ["nodejs_eventloop_lag_p90_seconds", "The 90th percentile of the recorded event loop delays."],
  ["nodejs_eventloop_lag_p99_seconds", "The 99th percentile of the recorded event loop delays."],
] as const;

/**
 * The event loop's delay without a timer of its own while the daemon is idle (prom-client's monitor
 * wakes an idle process at every sample; each wake-up costs ~1–3 ms of CPU on a small VM). It is
 * sampled every BUSY_SAMPLE_MS while a step or the audit runs (`busy`), and at every scrape (how
 * long a setImmediate waits, as prom-client's `nodejs_eventloop_lag_seconds` does). An idle loop
 * delays nothing: a window without samples reads 0.
 */
export class EventLoopDelay {
  private readonly histogram = createHistogram();
  private working = 0;
  private sampler?: NodeJS.Timeout;
  private scrapeLag = 0;

  /** Registers the series under prom-client's names (`prefix` as the default metrics'), replacing any already there. */
  register(registry: Registry, prefix: string): void {
    const gauge = ([name, help]: readonly [string, string], collect?: () => void) => {
      registry.removeSingleMetric(prefix + name);
      return new Gauge({ name: prefix + name, help, registers: [registry], ...(collect ? { collect } : {}) });
    };
    // the first series' collect sets them all: prom-client collects in registration order
    const lag: Gauge = gauge(SERIES[0], () => this.collect(lag, rest));
    const rest = SERIES.slice(1).map((s) => gauge(s));
  }

  private collect(lag: Gauge, [min, max, mean, stddev, p50, p90, p99]: Gauge[]): void {
    lag.set(this.scrapeLag);
    const h = this.histogram;
    const s = (ns: number) => (h.count === 0 ? 0 : ns / 1e9);
    min!.set(s(h.min));
    max!.set(s(h.max));
    mean!.set(s(h.mean));
    stddev!.set(s(h.stddev));
    p50!.set(s(h.percentile(50)));
    p90!.set(s(h.percentile(90)));
    p99!.set(s(h.percentile(99)));
    h.reset();
    this.scrapeSample();
  }

  /** The daemon works from now until the returned function is called: the delay is sampled meanwhile. */
  busy(): () => void {
    if (this.working++ === 0) this.startSampling();
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      if (--this.working === 0) {
        clearInterval(this.sampler);
        this.sampler = undefined;
      }
    };
  }

  /** How late a callback due at `dueAt` (performance.now()) ran: the loop's delay then. */
  record(dueAt: number): void {
    this.histogram.record(Math.max(1, Math.round((performance.now() - dueAt) * 1e6)));
  }

  /** The samples since the last scrape (for tests). */
  get count(): number {
    return this.histogram.count;
  }

  private startSampling(): void {
    let due = performance.now() + BUSY_SAMPLE_MS;
    this.sampler = setInterval(() => {
      this.record(due);
      due = performance.now() + BUSY_SAMPLE_MS;
    }, BUSY_SAMPLE_MS);
    this.sampler.unref();
  }

  /** A setImmediate's wait, as seen by the next scrape. */
  private scrapeSample(): void {
    const at = performance.now();
    setImmediate(() => {
      this.scrapeLag = (performance.now() - at) / 1000;
      this.record(at);
    });
  }
}
