/** Retries one source may make in one cycle, when no answer comes back between them. */
export const RETRY_BUDGET = 20;
/** A wait longer than this costs one more retry per period begun: 20 retries are also at most 5 minutes of waiting. */
export const RETRY_WAIT_UNIT_MS = 15_000;
/** What an answer that needed no retry earns back (gRPC's retry throttling ratio): a long cycle with sporadic 429s is not cut short. */
const REFUND = 0.1;

/**
 * The retries one remote source may make in one reconcile cycle, shared by all its calls. Each
 * retry costs one (a long wait, such as a `Retry-After` of minutes, costs one per 15 s), each
 * answer that needed none earns a tenth back. Once a retry is refused the source is taken to be
 * unavailable: every further call of the cycle fails at once without a request, so a source that
 * answers 503 to everything ends the cycle within minutes instead of hours of backoff. `reset`
 * gives the next cycle a fresh budget.
 */
export class RetryBudget {
  private left: number;
  private why?: string;
  private calls = 0;

  constructor(readonly size = RETRY_BUDGET) {
    this.left = size;
  }

  /** A new cycle: the full budget again, and no verdict yet. */
  reset(): void {
    this.left = this.size;
    this.why = undefined;
    this.calls = 0;
  }

  /** Why the source is unavailable for the rest of the cycle; undefined while its budget lasts. */
  get spent(): string | undefined {
    return this.why;
  }

  /** Whether any call drew on the budget since the last reset (a cycle that did not use a source says nothing of it). */
  get used(): boolean {
    return this.calls > 0;
  }

  /** A call is about to go out: the reason to refuse it when the budget is spent. */
  begin(): string | undefined {
    this.calls++;
    return this.why;
  }

  /** An answer that ends a call without a retry. */
  answered(): void {
    this.left = Math.min(this.size, this.left + REFUND);
  }

  /** Asks for one retry after `waitMs`; false (and the source unavailable for the cycle) when it does not fit. */
  take(waitMs: number, reason: string): boolean {
    if (this.why) return false;
    const cost = Math.max(1, Math.ceil(waitMs / RETRY_WAIT_UNIT_MS));
    if (cost <= this.left) {
      this.left -= cost;
      return true;
    }
    this.why = `the retry budget of this cycle is spent (${this.size} retries or ${Math.round((this.size * RETRY_WAIT_UNIT_MS) / 60_000)} minutes of waiting; last: ${reason}); no more requests until the next cycle`;
    return false;
  }
}
