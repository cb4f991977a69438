import { register as globalRegistry } from "prom-client";
import { describe, expect, it } from "vitest";
import { DEFAULT_METRICS, METRIC_NAMES, createMetrics } from "./metrics.ts";

/** A sample line's value: `name{labels} value`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(series + " "));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("metrics", () => {
  it("keeps the metric names of the contract, stable", () => {
    expect(METRIC_NAMES).toEqual([
      "cwsync_reconcile_duration_seconds",
      "cwsync_customers",
      "cwsync_sends_total",
      "cwsync_report_lag_seconds",
      "cwsync_connectwise_requests_total",
      "cwsync_connectwise_rate_limit_waits_total",
      "cwsync_connectwise_throttled_total",
      "cwsync_connectwise_rate_limit_per_second",
      "cwsync_last_git_sync_timestamp_seconds",
      "cwsync_git_sync_failures_total",
      "cwsync_last_poll_timestamp_seconds",
      "cwsync_poll_failures_total",
      "cwsync_unbilled_seats",
      "cwsync_drifted_additions",
    ]);
  });

  it("exports every contract name with samples after one call of each method", async () => {
    const m = createMetrics();
    m.reconcileDuration(1.5, true);
    m.customersByState({ ready: 3, invalid: 1 });
    m.send("billing", "sent");
    m.reportLag("billing", 120);
    m.cwRequest("2xx");
    m.rateLimitWait();
    m.throttled();
    m.rateLimit(11.2);
    m.gitSync(true, Date.parse("2027-01-04T06:00:00Z"));
    m.poll(true, Date.parse("2027-01-04T06:01:00Z"));
    const text = await m.registry.metrics();
    for (const name of METRIC_NAMES) {
      expect(text, name).toContain(`# TYPE ${name} `);
      expect(text.split("\n").some((l) => new RegExp(`^${name}(_bucket|_sum|_count)?({| )`).test(l)), name).toBe(true);
    }
    expect(sample(text, 'cwsync_reconcile_duration_seconds_count{result="ok"}')).toBe(1);
    expect(sample(text, 'cwsync_reconcile_duration_seconds_bucket{le="2.5",result="ok"}')).toBe(1);
    expect(sample(text, 'cwsync_sends_total{report="billing",result="sent"}')).toBe(1);
    expect(sample(text, 'cwsync_report_lag_seconds{report="billing"}')).toBe(120);
    expect(sample(text, 'cwsync_connectwise_requests_total{status="2xx"}')).toBe(1);
    expect(sample(text, "cwsync_connectwise_rate_limit_waits_total")).toBe(1);
    expect(sample(text, "cwsync_connectwise_throttled_total")).toBe(1);
    expect(sample(text, "cwsync_connectwise_rate_limit_per_second")).toBe(11.2);
    expect(sample(text, "cwsync_last_git_sync_timestamp_seconds")).toBe(Date.parse("2027-01-04T06:00:00Z") / 1000);
    expect(sample(text, "cwsync_last_poll_timestamp_seconds")).toBe(Date.parse("2027-01-04T06:01:00Z") / 1000);
    expect(sample(text, "cwsync_git_sync_failures_total")).toBe(0);
    expect(sample(text, "cwsync_poll_failures_total")).toBe(0);
  });

  it("sets every known customer state, 0 when absent, and drops a state back to 0", async () => {
    const m = createMetrics();
    m.customersByState({ ready: 2, failing: 1 });
    m.customersByState({ ready: 3 });
    const text = await m.registry.metrics();
    expect(sample(text, 'cwsync_customers{state="ready"}')).toBe(3);
    expect(sample(text, 'cwsync_customers{state="failing"}')).toBe(0);
    for (const s of ["suspended", "invalid", "degraded", "pending", "removed"]) expect(sample(text, `cwsync_customers{state="${s}"}`), s).toBe(0);
  });

  it("counts failures without moving the last-success timestamps", async () => {
    const m = createMetrics();
    m.gitSync(true, 1_000_000);
    m.gitSync(false, 2_000_000);
    m.poll(false, 2_000_000);
    m.reconcileDuration(0.2, false);
    const text = await m.registry.metrics();
    expect(sample(text, "cwsync_last_git_sync_timestamp_seconds")).toBe(1000);
    expect(sample(text, "cwsync_git_sync_failures_total")).toBe(1);
    expect(sample(text, "cwsync_poll_failures_total")).toBe(1);
    expect(sample(text, "cwsync_last_poll_timestamp_seconds")).toBe(0);
    expect(sample(text, 'cwsync_reconcile_duration_seconds_count{result="error"}')).toBe(1);
  });

  it("gives prom-client's event-loop monitor no interval that could wake an idle daemon (event-loop-delay.ts samples instead)", () => {
    expect(DEFAULT_METRICS.eventLoopMonitoringPrecision).toBe(2_147_483_647);
  });

  it("uses its own registry with prefixed process metrics, so two instances do not clash", async () => {
    const a = createMetrics();
    const b = createMetrics();
    a.send("billing", "sent");
    expect(await b.registry.metrics()).not.toContain('cwsync_sends_total{report="billing"');
    expect(await a.registry.metrics()).toContain("cwsync_process_resident_memory_bytes");
    expect(await globalRegistry.metrics()).not.toContain("cwsync_");
  });
});
