import { createHash, createHmac } from "node:crypto";

/** The Customer Summary report, appended to `LMPI_URL` (DESIGN §8). */
export const LMPI_SUMMARY_PATH = "/LMPI/v3/reports/summary";

export interface LmpiKeys {
  accessToken: string;
  secretKey: string;
}

export interface SignableRequest {
  method: string;
  /** Path and query exactly as they go on the request line, e.g. `/LMPI/v3/reports/summary`. */
  requestUri: string;
  /** The exact bytes sent; absent or empty for a request without a body. */
  body?: Uint8Array | string;
}

/** `base64(MD5(body))`, the body's share of the string to sign. */
export function contentMd5(body: Uint8Array | string): string {
  return createHash("md5").update(body).digest("base64");
}

/**
 * `posix_time + METHOD + request_uri [+ base64(MD5(body))]` (tmrm.md §5.2). An empty body adds
 * nothing, as in the reference clients' `if body:`.
 */
export function stringToSign(posixTime: number, req: SignableRequest): string {
  const hasBody = req.body !== undefined && req.body.length > 0;
  return `${posixTime}${req.method.toUpperCase()}${req.requestUri}${hasBody ? contentMd5(req.body!) : ""}`;
}

/** `x-signature`: `base64(HMAC-SHA256(secret, stringToSign))`, key and message as UTF-8. */
export function lmpiSignature(secretKey: string, posixTime: number, req: SignableRequest): string {
  return createHmac("sha256", secretKey).update(stringToSign(posixTime, req), "utf8").digest("base64");
}

/**
 * The authentication headers of one request. `nowMs` must be the real clock (DESIGN §8: `--at`
 * never reaches signatures) because LMPI compares `x-posix-time` with its own; the trace id is
 * injected so tests can pin it.
 */
export function signedHeaders(keys: LmpiKeys, req: SignableRequest, nowMs: number, traceId: string): Record<string, string> {
  const posixTime = Math.floor(nowMs / 1000);
  return {
    "content-type": "application/json",
    "x-access-token": keys.accessToken,
    "x-posix-time": String(posixTime),
    "x-traceid": traceId,
    "x-signature": lmpiSignature(keys.secretKey, posixTime, req),
  };
}
