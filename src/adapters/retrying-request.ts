import { ApiError } from "../errors.ts";
import type { Clock } from "../ports/clock.ts";
import { networkReason, retryAfterMs, type HttpRetryOptions } from "./http-retry.ts";
import type { RetryBudget } from "./retry-budget.ts";

type ApiErrorInit = ConstructorParameters<typeof ApiError>[0];

/** The `reason` of a call refused because the cycle's retry budget is spent: no request went out. */
export const NOT_SENT = "not sent";

/** One service's retry rules, stated once next to its client. */
export interface RetryPolicy {
  /** The `code` of a call refused because the source's retry budget for the cycle is spent. */
  readonly unavailableCode: string;
  /** Methods whose request may be sent again; any other is sent exactly once. */
  readonly repeatable: ReadonlySet<string>;
  /** Attempts after the first, for a repeatable request (the caller's `retries` wins). */
  readonly retries: number;
  /** Answers that are sent again, after backoff, when the request is repeatable. */
  retryOn(status: number): boolean;
  /**
   * Answers that say the request was not processed (a 429): sent again after the wait whatever the
   * method, as a repeatable request is — that is no blind repeat of a create.
   */
  notProcessed?(status: number): boolean;
  /** Answers returned to the caller rather than thrown (default: 2xx). */
  success?(status: number, method: string): boolean;
  readonly backoffBaseMs: number;
  readonly backoffCapMs: number;
}

/** What an attempt hands back: the loop reads only the status and `Retry-After`. */
export interface Answered {
  status: number;
  headers: Record<string, string | string[] | undefined>;
}

export interface RetryingRequestOptions<A extends Answered> {
  method: string;
  path: string;
  /** Sleeps between attempts. */
  clock: Clock;
  /** The epoch ms an HTTP-date `Retry-After` is read against (default `clock.now()`). */
  now?: () => number;
  /** The retries of the current cycle, shared by every call of the source. */
  budget?: RetryBudget;
  /** Ends a backoff at once; an attempt that fails after it fired is thrown as it is. */
  signal?: AbortSignal;
  /** The caller's overrides of the policy's attempts and backoff, and the jitter's source. */
  tuning?: HttpRetryOptions;
  /** The service's error for a call that got no answer, or was refused before it went out. */
  error(init: ApiErrorInit): ApiError;
  /** The service's error for an answer that is not a success. */
  rejected(answer: A, retryable: boolean): ApiError;
  onRetry?(attempt: number, waitMs: number, reason: string): void;
  onNetworkError?(reason: string): void;
}

/** An answer worth asking again later, whether or not this call did: the `retryable` of the error thrown. */
export const retryableStatus = (status: number): boolean => status === 429 || status >= 500;

const is2xx = (status: number) => status >= 200 && status < 300;

/**
 * Runs `attempt` until it answers with a success, retrying what `policy` allows: lost connections
 * and `retryOn` answers of a repeatable method, and `notProcessed` answers of any method (only
 * those, for a method sent once), with exponential backoff and full jitter, never
 * sooner than a (capped) `Retry-After`, each retry charged to the cycle's budget. Errors the
 * attempt throws as `ApiError` (an unreadable answer) and any error after `signal` aborted pass
 * through unchanged; everything else is thrown as the service's error, built by `opts`.
 */
export async function retryingRequest<A extends Answered>(policy: RetryPolicy, attempt: () => Promise<A>, opts: RetryingRequestOptions<A>): Promise<A> {
  const { method, path, budget, signal, tuning = {} } = opts;
  const allowed = tuning.retries ?? policy.retries;
  const retries = policy.repeatable.has(method) ? allowed : 0;
  const success = policy.success ?? is2xx;
  const refused = budget?.begin();
  // the source is unavailable for the rest of the cycle: nothing goes out (a create refused here was never sent)
  if (refused) throw opts.error({ method, path, retryable: true, reason: NOT_SENT, code: policy.unavailableCode, apiMessage: refused });
  const waitMs = (n: number, hinted: number | undefined): number => {
    const cap = tuning.backoffCapMs ?? policy.backoffCapMs;
    const exp = Math.min(cap, (tuning.backoffBaseMs ?? policy.backoffBaseMs) * 2 ** n);
    // full jitter, but never sooner than the server asked
    return Math.min(Math.max(hinted ?? 0, exp * (tuning.random ?? Math.random)()), Math.max(cap, hinted ?? 0));
  };
  const backoff = async (n: number, wait: number, reason: string) => {
    opts.onRetry?.(n + 1, wait, reason);
    await opts.clock.sleep(wait, signal);
  };
  for (let n = 0; ; n++) {
    let answer: A;
    try {
      answer = await attempt();
    } catch (e) {
      if (signal?.aborted || e instanceof ApiError) throw e;
      const reason = networkReason(e);
      if (!reason) throw opts.error({ method, path, retryable: false, reason: "failed", cause: e });
      opts.onNetworkError?.(reason);
      const wait = n < retries ? waitMs(n, undefined) : 0;
      if (n >= retries || (budget && !budget.take(wait, reason))) throw opts.error({ method, path, retryable: true, reason, cause: e });
      await backoff(n, wait, reason);
      continue;
    }
    if (success(answer.status, method)) {
      if (n === 0) budget?.answered();
      return answer;
    }
    const retryable = retryableStatus(answer.status);
    if (policy.notProcessed?.(answer.status) ? n < allowed : policy.retryOn(answer.status) && n < retries) {
      const reason = `status ${answer.status}`;
      const wait = waitMs(n, retryAfterMs(answer.headers["retry-after"], opts.now ? opts.now() : opts.clock.now()));
      if (!budget || budget.take(wait, reason)) {
        await backoff(n, wait, reason);
        continue;
      }
    } else if (n === 0 && !retryable) budget?.answered();
    throw opts.rejected(answer, retryable);
  }
}
