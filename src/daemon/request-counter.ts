import type { TransportEvent } from "../adapters/connectwise/transport.ts";
import type { Metrics } from "./metrics.ts";

/** HTTP status class of a ConnectWise answer, as the metrics and the snapshot count them. */
const statusClass = (status: number) => (status === 429 ? "429" : `${Math.floor(status / 100)}xx`);

/** Counts ConnectWise requests by status class, and waits on a 429, for the snapshot and the metrics. */
export class RequestCounter {
  readonly requests: Record<string, number> = {};
  rateLimitWaits = 0;

  constructor(private readonly metrics: Metrics) {}

  /** The transport's observer. */
  readonly observe = (e: TransportEvent): void => {
    const cls = e.type === "response" ? statusClass(e.status) : e.type === "network-error" ? "error" : undefined;
    if (cls) {
      this.requests[cls] = (this.requests[cls] ?? 0) + 1;
      this.metrics.cwRequest(cls);
    }
    if (e.type === "retry" && e.reason === "status 429") {
      this.rateLimitWaits++;
      this.metrics.rateLimitWait();
    }
  };
}
