import type { CustomerView } from "../status/customer-view.ts";

/**
 * What a running daemon knows, as the HTTP API (`/api/status`), the metrics and the dashboard
 * read it. Built by the daemon loop after each reconcile, git sync and poll; plain JSON.
 */
export interface DaemonSnapshot {
  /** When this snapshot was made, ISO UTC. */
  at: string;
  repo: {
    /** Where customers come from, credentials removed. */
    source: string;
    branch?: string;
    applied?: string;
    attempted?: string;
    lastSync?: string;
    /** The last sync's error, while the remote fails (the last revision keeps running). */
    syncError?: string;
    /** A head that was not applied because its commit is not signed by an allowed signer. */
    refused?: { revision: string; reason: string };
    /** The last rewind of the branch this daemon applied (a head not descending from the revision before it), kept until the next. */
    rewound?: { from: string; to: string; at: string };
  };
  connectwise: {
    target: string;
    /** False while the last reconcile could not read ConnectWise. */
    healthy: boolean;
    lastError?: string;
    /** Requests made since the daemon started, by HTTP status class ("2xx", "4xx", "429", "5xx", "error"). */
    requests: Record<string, number>;
    rateLimitWaits: number;
    /** Requests answered 429 (throttled) since the daemon started. */
    throttled?: number;
    /** The limiter's rate now (requests per second): lowered after a 429, growing back to the ceiling. */
    ratePerSecond?: number;
  };
  /**
   * The remote sources whose retry budget ran out in the last cycle that used them, and since
   * when: `/readyz` answers 503 naming them until a cycle reads them again. Absent when none is.
   * The state itself (`source: "state"`, `code: "state.unavailable"`) comes first while it cannot
   * be written or read (a full disk, read-only, corrupt): nothing is sent until it can.
   */
  unavailable?: SourceOutage[];
  lastReconcile?: { at: string; durationMs: number; ok: boolean; reason: string };
  nextReconcile?: string;
  lastPoll?: { at: string; ok: boolean };
  /** Customers by state, for the header and the metrics. */
  states: Record<string, number>;
  /** The counts of the last billing audit (`/api/audit` has it whole), for the header; absent until one ran. */
  audit?: AuditCounts;
  customers: CustomerView[];
}

/** A remote source taken to be unavailable (its retries of a cycle were spent), or the state. */
export interface SourceOutage {
  source: "connectwise" | "lmpi" | "tmes" | "hes" | "state";
  /** `ConnectWise`, `the Licensing Management Platform (LMPI)`, … */
  system: string;
  /** When it was first found unavailable, ISO UTC. */
  since: string;
  message: string;
  /** `state.unavailable`, for the state. */
  code?: string;
  /** For the state: `disk full`, `read-only`, `corrupt`, `I/O error` or `cannot open`. */
  cause?: string;
  /** For the state: the file (`…/state.db`). */
  file?: string;
}

/** The billing audit's counts (DESIGN §10 `cwsync audit`): computed at most once per full verification interval. */
export interface AuditCounts {
  /** When the audit was computed, ISO UTC. */
  at: string;
  month: string;
  unbilledSeats: number;
  unbilled: number;
  drift: number;
  unmanaged: number;
  held: number;
  /** The last attempt failed (the counts, if any, are the previous audit's). */
  error?: string;
}
