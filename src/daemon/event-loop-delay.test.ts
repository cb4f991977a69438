import { performance } from "node:perf_hooks";
import { Registry } from "prom-client";
import { describe, expect, it, vi } from "vitest";
import { EventLoopDelay } from "./event-loop-delay.ts";
import { createMetrics } from "./metrics.ts";

/** A sample line's value: `name value`. */
const sample = (text: string, series: string) => Number(text.split("\n").find((l) => l.startsWith(series + " "))?.slice(series.length + 1));

function registered() {
  const registry = new Registry();
  const delay = new EventLoopDelay();
  delay.register(registry, "cwsync_");
  return { registry, delay };
}

describe("the event loop's delay", () => {
  it("reports how late the callbacks it was told of ran, then starts a new window", async () => {
    const { registry, delay } = registered();
    delay.record(performance.now() - 40);
    delay.record(performance.now() - 20);
    const text = await registry.metrics();
    expect(sample(text, "cwsync_nodejs_eventloop_lag_max_seconds")).toBeGreaterThanOrEqual(0.039);
    expect(sample(text, "cwsync_nodejs_eventloop_lag_min_seconds")).toBeGreaterThanOrEqual(0.019);
    expect(sample(text, "cwsync_nodejs_eventloop_lag_min_seconds")).toBeLessThan(0.04);
    expect(sample(text, "cwsync_nodejs_eventloop_lag_p99_seconds")).toBeGreaterThanOrEqual(0.039);
    // the scrape's own sample (a setImmediate's wait) is the next window's
    expect(delay.count).toBe(0);
    await new Promise((r) => setImmediate(r));
    expect(delay.count).toBe(1);
    expect(sample(await registry.metrics(), "cwsync_nodejs_eventloop_lag_max_seconds")).toBeLessThan(0.04);
  });

  it("reads 0 for a window without samples (an idle loop delays nothing), never prom-client's empty-histogram values", async () => {
    const text = await registered().registry.metrics();
    for (const s of ["min", "max", "mean", "stddev", "p50", "p90", "p99"]) expect(sample(text, `cwsync_nodejs_eventloop_lag_${s}_seconds`), s).toBe(0);
    expect(sample(text, "cwsync_nodejs_eventloop_lag_seconds")).toBe(0);
  });

  it("samples the loop while the daemon works, however many steps overlap", async () => {
    const { delay } = registered();
    const step = delay.busy();
    const audit = delay.busy();
    step();
    step();
    await vi.waitFor(() => expect(delay.count).toBeGreaterThan(0), { timeout: 5000, interval: 20 });
    audit();
  });

  it("keeps prom-client's series names, once each, in the daemon's registry", async () => {
    const text = await createMetrics().registry.metrics();
    for (const s of ["", "_min", "_max", "_mean", "_stddev", "_p50", "_p90", "_p99"]) {
      expect(text.split("\n").filter((l) => l === `# TYPE cwsync_nodejs_eventloop_lag${s}_seconds gauge`), s).toHaveLength(1);
    }
    // prom-client's own monitor is given the longest interval a timer takes: it never wakes the daemon
    expect(sample(text, "cwsync_nodejs_eventloop_lag_min_seconds")).toBe(0);
  });
});
