/** Seconds or an HTTP date, as `Retry-After` may carry; undefined when absent or unreadable. */
export function retryAfterMs(header: string | string[] | undefined, now: number): number | undefined {
  const v = Array.isArray(header) ? header[0] : header;
  if (!v) return undefined;
  if (/^\d+(\.\d+)?$/.test(v.trim())) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Timeouts and retry knobs shared by the HTTP adapters (ConnectWise, LMPI). */
export interface HttpRetryOptions {
  headersTimeoutMs?: number;
  bodyTimeoutMs?: number;
  /** Attempts after the first, for requests that are safe to repeat. */
  retries?: number;
  backoffBaseMs?: number;
  backoffCapMs?: number;
  random?: () => number;
}
