import { errors as undiciErrors } from "undici";

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

const NETWORK_CODES = new Set(["ECONNRESET", "ECONNREFUSED", "EPIPE", "ETIMEDOUT", "UND_ERR_SOCKET", "UND_ERR_CLOSED", "UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT", "UND_ERR_CONNECT_TIMEOUT"]);

/** Why a request failed before an answer arrived, or undefined when the error is not a network failure. */
export function networkReason(e: unknown): string | undefined {
  if (e instanceof undiciErrors.HeadersTimeoutError || e instanceof undiciErrors.BodyTimeoutError) return "timed out";
  if (e instanceof undiciErrors.ConnectTimeoutError) return "connection timed out";
  const code = (e as { code?: string }).code ?? (e as { cause?: { code?: string } }).cause?.code;
  if (code && NETWORK_CODES.has(code)) return code === "ECONNREFUSED" ? "connection refused" : "connection lost";
  if (e instanceof undiciErrors.SocketError) return "connection lost";
  return undefined;
}
