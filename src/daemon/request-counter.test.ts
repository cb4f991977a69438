import { describe, expect, it } from "vitest";
import { createMetrics } from "./metrics.ts";
import { RequestCounter } from "./request-counter.ts";

const sample = (text: string, series: string) => Number(text.split("\n").find((l) => l.startsWith(series + " "))?.slice(series.length + 1));

describe("the ConnectWise request counter", () => {
  it("keeps the limiter's rate in use and counts 429s, for the snapshot and /metrics", async () => {
    const metrics = createMetrics();
    const c = new RequestCounter(metrics);
    expect(c.ratePerSecond).toBeUndefined();
    c.observe({ type: "rate", ratePerSecond: 16 });
    c.observe({ type: "response", method: "POST", path: "service/tickets", status: 429, ms: 80 });
    c.observe({ type: "throttled", method: "POST", path: "service/tickets", retryAfterMs: 1000, ratePerSecond: 11.2 });
    c.observe({ type: "retry", method: "POST", path: "service/tickets", attempt: 1, waitMs: 1000, reason: "status 429" });
    c.observe({ type: "response", method: "POST", path: "service/tickets", status: 201, ms: 90 });
    expect(c.ratePerSecond).toBeCloseTo(11.2);
    expect(c.throttled).toBe(1);
    expect(c.requests).toEqual({ "429": 1, "2xx": 1 });
    expect(c.rateLimitWaits).toBe(1);
    c.observe({ type: "rate", ratePerSecond: 11.7 });
    const text = await metrics.registry.metrics();
    expect(sample(text, "cwsync_connectwise_rate_limit_per_second")).toBe(11.7);
    expect(sample(text, "cwsync_connectwise_throttled_total")).toBe(1);
  });
});
