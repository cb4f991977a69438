import type { ReportName } from "../ports/state-store.ts";
import type { ReconcileResult, SendNowResult } from "./api-types.ts";

/** What a reconcile request asks for beyond the next cycle's own work. */
export interface ReconcileRequest {
  /** Every customer observed and planned (a new revision, `POST /api/reconcile`). */
  whole: boolean;
  customers: Set<string>;
}

export interface SendNowJob {
  customer: string;
  report?: ReportName;
  done: (r: SendNowResult) => void;
}

/** Reconcile requests gathered into one cycle, and those waiting for its result. */
export interface GatheredReconcile {
  reason: string;
  request: ReconcileRequest;
  waiters: ((r: ReconcileResult) => void)[];
}

const DEBOUNCE_MS = 1000;
/** Send-now requests waiting at most (one more runs): past that a request is refused as busy, to be tried again. */
export const SEND_NOW_QUEUE = 8;

/**
 * The requests the daemon's worker has not taken yet: reconciles, gathered for a second into one
 * cycle (a push fires several webhooks), and send-nows, run one at a time, a bounded number waiting.
 */
export class RequestQueue {
  private pending?: { at: number; reasons: string[]; request: ReconcileRequest; waiters: ((r: ReconcileResult) => void)[] };
  private readonly jobs: SendNowJob[] = [];

  constructor(private readonly now: () => number) {}

  /** When the gathered reconcile requests are due; undefined when there are none. */
  get reconcileAt(): number | undefined {
    return this.pending?.at;
  }

  get waitingSends(): number {
    return this.jobs.length;
  }

  reconcile(reason: string, customer?: string): GatheredReconcile {
    this.pending ??= { at: this.now() + DEBOUNCE_MS, reasons: [], request: { whole: false, customers: new Set() }, waiters: [] };
    this.pending.reasons.push(customer ? `${reason}:${customer}` : reason);
    // a webhook is a hint to fetch (a new revision makes the cycle whole); the API asks for everyone or one customer
    if (customer) this.pending.request.customers.add(customer);
    else if (reason !== "webhook") this.pending.request.whole = true;
    return { reason, request: this.pending.request, waiters: this.pending.waiters };
  }

  /** The requests gathered so far, for one cycle. */
  takeReconcile(): GatheredReconcile {
    const p = this.pending;
    this.pending = undefined;
    return { reason: [...new Set(p?.reasons ?? [])].join(",") || "request", request: p?.request ?? { whole: false, customers: new Set() }, waiters: p?.waiters ?? [] };
  }

  /** Queues a send-now; false (nothing queued) when SEND_NOW_QUEUE are waiting already. */
  sendNow(job: SendNowJob): boolean {
    if (this.jobs.length >= SEND_NOW_QUEUE) return false;
    this.jobs.push(job);
    return true;
  }

  takeSendNow(): SendNowJob | undefined {
    return this.jobs.shift();
  }

  /** Everything not taken, at a stop: each is answered by the caller. */
  drain(): { jobs: SendNowJob[]; waiters: ((r: ReconcileResult) => void)[] } {
    const waiters = this.pending?.waiters ?? [];
    this.pending = undefined;
    return { jobs: this.jobs.splice(0), waiters };
  }
}
