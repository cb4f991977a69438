import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { EventLoopDelay } from "./event-loop-delay.ts";

/** The daemon's Prometheus metrics. Names are a stable contract (`METRIC_NAMES`); labels take bounded values only. */
export interface Metrics {
  registry: Registry;
  /** One reconcile finished: histogram `cwsync_reconcile_duration_seconds{result="ok"|"error"}`. */
  reconcileDuration(seconds: number, ok: boolean): void;
  /** Gauge `cwsync_customers{state}`: every known state is set, 0 when absent from `states`. */
  customersByState(states: Record<string, number>): void;
  /** Counter `cwsync_sends_total{report,result}`. */
  send(report: string, result: string): void;
  /** Gauge `cwsync_report_lag_seconds{report}`: how late the oldest due-but-unsent period is (0 when none). */
  reportLag(report: string, seconds: number): void;
  /** Counter `cwsync_connectwise_requests_total{status}` (a status class such as "2xx", "429", "error"). */
  cwRequest(status: string): void;
  /** Counter `cwsync_connectwise_rate_limit_waits_total`. */
  rateLimitWait(): void;
  /** Counter `cwsync_connectwise_throttled_total`: answers 429. */
  throttled(): void;
  /** Gauge `cwsync_connectwise_rate_limit_per_second`: the requests a second the limiter allows now (lower after a 429). */
  rateLimit(perSecond: number): void;
  /** Gauge `cwsync_last_git_sync_timestamp_seconds` on success; counter `cwsync_git_sync_failures_total` on failure. */
  gitSync(ok: boolean, atMs: number): void;
  /** Gauge `cwsync_last_poll_timestamp_seconds` on success; counter `cwsync_poll_failures_total` on failure. */
  poll(ok: boolean, atMs: number): void;
  /** Gauges `cwsync_unbilled_seats` and `cwsync_drifted_additions` from the last billing audit (no labels: one series each). */
  audit(counts: { unbilledSeats: number; driftedAdditions: number }): void;
  /** The daemon works (a step, the audit) until the returned function is called: the event loop's delay is sampled meanwhile. */
  busy(): () => void;
}

/** The stable metric names (the default process metrics, also prefixed `cwsync_`, come on top). */
export const METRIC_NAMES: readonly string[] = [
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
];

/** The primary states of DESIGN §6 plus `removed`: always exported, so a state dropping to none reads 0, not absent. */
const KNOWN_STATES = ["suspended", "invalid", "failing", "degraded", "pending", "ready", "removed"];

/**
 * What prom-client's own event-loop monitor is given as its sampling interval: the longest a Node
 * timer takes (~24.8 days), so that it never wakes an idle daemon. Each wake-up costs ~1–3 ms of CPU
 * on a small VM (every 10 s, 6 of them in each idle 60 s cycle; issue 16: ≤ 50 ms a cycle). Its
 * series are replaced by EventLoopDelay's, under the same names.
 */
export const EVENT_LOOP_PRECISION_MS = 2_147_483_647;

/** prom-client's default process metrics, as collected. */
export const DEFAULT_METRICS = { prefix: "cwsync_", eventLoopMonitoringPrecision: EVENT_LOOP_PRECISION_MS } as const;

/** Metrics on their own registry (never prom-client's global one), with the default process metrics. */
export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, ...DEFAULT_METRICS });
  const loopDelay = new EventLoopDelay();
  loopDelay.register(registry, DEFAULT_METRICS.prefix);
  const registers = [registry];
  const reconcile = new Histogram({
    name: "cwsync_reconcile_duration_seconds", help: "Duration of reconciles, by result (ok or error).",
    labelNames: ["result"], buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300], registers,
  });
  const customers = new Gauge({ name: "cwsync_customers", help: "Customers by primary state.", labelNames: ["state"], registers });
  const sends = new Counter({ name: "cwsync_sends_total", help: "Report sends, by report and result.", labelNames: ["report", "result"], registers });
  const lag = new Gauge({
    name: "cwsync_report_lag_seconds", help: "How late the oldest due but unsent period of each report is, in seconds (0 when none).",
    labelNames: ["report"], registers,
  });
  const cwRequests = new Counter({
    name: "cwsync_connectwise_requests_total", help: "ConnectWise requests, by status class.", labelNames: ["status"], registers,
  });
  const rateLimit = new Counter({
    name: "cwsync_connectwise_rate_limit_waits_total", help: "Times a ConnectWise request waited for the rate limiter or a Retry-After.", registers,
  });
  const throttled = new Counter({ name: "cwsync_connectwise_throttled_total", help: "ConnectWise answers 429 (throttled; the request was not processed).", registers });
  const rateLimitGauge = new Gauge({
    name: "cwsync_connectwise_rate_limit_per_second", help: "Requests a second the ConnectWise limiter allows now: the configured ceiling, lower after a 429.", registers,
  });
  const lastSync = new Gauge({ name: "cwsync_last_git_sync_timestamp_seconds", help: "Unix time of the last successful git sync.", registers });
  const syncFailures = new Counter({ name: "cwsync_git_sync_failures_total", help: "Failed git syncs.", registers });
  const lastPoll = new Gauge({ name: "cwsync_last_poll_timestamp_seconds", help: "Unix time of the last successful poll of the license and detection sources.", registers });
  const pollFailures = new Counter({ name: "cwsync_poll_failures_total", help: "Failed polls of the license and detection sources.", registers });
  const unbilledSeats = new Gauge({ name: "cwsync_unbilled_seats", help: "Seats in the LMP report that no enabled customer file bills, at the last billing audit.", registers });
  const driftedAdditions = new Gauge({ name: "cwsync_drifted_additions", help: "Additions whose quantity differs from what cwsync last set, at the last billing audit.", registers });
  const seenStates = new Set(KNOWN_STATES);
  for (const s of KNOWN_STATES) customers.set({ state: s }, 0);

  return {
    registry,
    reconcileDuration: (seconds, ok) => reconcile.observe({ result: ok ? "ok" : "error" }, Math.max(0, seconds)),
    customersByState(states) {
      for (const s of Object.keys(states)) seenStates.add(s);
      for (const s of seenStates) customers.set({ state: s }, states[s] ?? 0);
    },
    send: (report, result) => sends.inc({ report, result }),
    reportLag: (report, seconds) => lag.set({ report }, Math.max(0, seconds)),
    cwRequest: (status) => cwRequests.inc({ status }),
    rateLimitWait: () => rateLimit.inc(),
    throttled: () => throttled.inc(),
    rateLimit: (perSecond) => rateLimitGauge.set(perSecond),
    gitSync(ok, atMs) {
      if (ok) lastSync.set(atMs / 1000);
      else syncFailures.inc();
    },
    poll(ok, atMs) {
      if (ok) lastPoll.set(atMs / 1000);
      else pollFailures.inc();
    },
    audit(counts) {
      unbilledSeats.set(counts.unbilledSeats);
      driftedAdditions.set(counts.driftedAdditions);
    },
    busy: () => loopDelay.busy(),
  };
}
