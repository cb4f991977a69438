import type { TransportEvent } from "../adapters/connectwise/transport.ts";
import type { Metrics } from "./metrics.ts";

/** HTTP status class of a ConnectWise answer, as the metrics and the snapshot count them. */
const statusClass = (status: number) => (status === 429 ? "429" : `${Math.floor(status / 100)}xx`);

/**
 * Counts ConnectWise requests by status class, waits on a 429 and 429s, and keeps the limiter's
 * rate in use, for the snapshot and the metrics.
 */
export class RequestCounter {
  readonly requests: Record<string, number> = {};
  rateLimitWaits = 0;
  /** 429s answered (also in `requests["429"]`). */
  throttled = 0;
  /** The requests a second the limiter allows now; undefined before the first request. */
  ratePerSecond: number | undefined;

  constructor(private readonly metrics: Metrics) {}

  /** The transport's observer. */
  readonly observe = (e: TransportEvent): void => {
    const cls = e.type === "response" ? statusClass(e.status) : e.type === "network-error" ? "error" : undefined;
    if (cls) {
      this.requests[cls] = (this.requests[cls] ?? 0) + 1;
      this.metrics.cwRequest(cls);
    }
    if (e.type === "throttled") {
      this.throttled++;
      this.metrics.throttled();
    }
    if (e.type === "rate" || e.type === "throttled") {
      this.ratePerSecond = e.ratePerSecond;
      this.metrics.rateLimit(e.ratePerSecond);
    }
    if (e.type === "retry" && e.reason === "status 429") {
      this.rateLimitWaits++;
      this.metrics.rateLimitWait();
    }
  };
}
