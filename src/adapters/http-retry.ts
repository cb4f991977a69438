import { errors as undiciErrors } from "undici";

/** The longest wait a `Retry-After` may impose: a server asking for an hour must not park the worker. */
export const MAX_RETRY_AFTER_MS = 5 * 60_000;

/** Seconds or an HTTP date, as `Retry-After` may carry, capped at MAX_RETRY_AFTER_MS; undefined when absent or unreadable. */
export function retryAfterMs(header: string | string[] | undefined, now: number, capMs = MAX_RETRY_AFTER_MS): number | undefined {
  const v = Array.isArray(header) ? header[0] : header;
  if (!v) return undefined;
  if (/^\d+(\.\d+)?$/.test(v.trim())) return Math.min(capMs, Number(v) * 1000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.min(capMs, Math.max(0, at - now));
}

/** The largest response body read: 32 MiB. Checked while it streams in, so a huge answer never sits in memory whole. */
export const MAX_BODY_BYTES = 32 * 1024 * 1024;

export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`the answer is larger than ${Math.round(limit / 1024 / 1024)} MiB`);
    this.name = "BodyTooLargeError";
  }
}

/** Reads a body as UTF-8, giving up (and dropping the connection) past `limit` bytes. */
export async function readCapped(body: AsyncIterable<Uint8Array> & { destroy?: (e?: Error) => unknown }, limit = MAX_BODY_BYTES): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.byteLength;
    if (size > limit) {
      const e = new BodyTooLargeError(limit);
      body.destroy?.(e);
      throw e;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** Timeouts and retry knobs shared by the HTTP adapters (ConnectWise, LMPI, TMES/HES); unset knobs take the service's RetryPolicy. */
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
