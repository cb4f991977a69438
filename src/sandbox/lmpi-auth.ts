import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";

/** LMPI's error body `{error_subject, error_message}` with its status (tmrm.md §5.2). */
export interface LmpiFailure {
  status: number;
  subject: string;
  message: string;
}

export interface LmpiSignedRequest {
  method: string;
  /** The request-target as received: path and query. */
  requestUri: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** The documented window is not published; ±15 minutes is what comparable HMAC APIs allow. */
export const DEFAULT_TIME_WINDOW_SECONDS = 15 * 60;

const REQUIRED: readonly [header: string, subject: string][] = [
  ["x-access-token", "MissingHeaderAccessToken"],
  ["x-posix-time", "MissingHeaderPosixTime"],
  ["x-signature", "MissingHeaderSignature"],
  ["x-traceid", "MissingHeaderTraceID"],
];

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  const s = Array.isArray(v) ? v[0] : v;
  return s !== undefined && s.trim() !== "" ? s.trim() : undefined;
}

/**
 * The server's side of LMPI's HMAC scheme, written apart from the client's so that the two
 * check each other: the signature is recomputed from the raw request as received,
 * `base64(HMAC-SHA256(secret, posix_time + METHOD + request_uri [+ base64(MD5(body))]))`.
 * Undefined when the request is authentic.
 */
export function checkLmpiAuth(
  req: LmpiSignedRequest,
  creds: { accessToken: string; secretKey: string },
  nowMs: number,
  windowSeconds = DEFAULT_TIME_WINDOW_SECONDS,
): LmpiFailure | undefined {
  for (const [name, subject] of REQUIRED) {
    if (header(req.headers, name) === undefined) return { status: 400, subject, message: `The ${name} header is required.` };
  }
  const type = String(req.headers["content-type"] ?? "").split(";")[0].trim().toLowerCase();
  if (type !== "application/json") return { status: 415, subject: "InvalidHeaderContentType", message: "The content-type header must be application/json." };

  const token = header(req.headers, "x-access-token")!;
  if (!/^[\x21-\x7e]{1,256}$/.test(token)) return { status: 401, subject: "InvalidHeaderAccessToken", message: "The x-access-token header is invalid." };
  if (token !== creds.accessToken) return { status: 401, subject: "AuthenticationFailureAccessToken", message: "The access token is not valid." };

  const time = header(req.headers, "x-posix-time")!;
  const skew = /^\d{1,12}$/.test(time) ? Math.abs(Math.floor(nowMs / 1000) - Number(time)) : Infinity;
  if (skew > windowSeconds) return { status: 401, subject: "AuthenticationFailurePosixTime", message: "The x-posix-time header is outside the allowed time window." };

  let message = time + req.method.toUpperCase() + req.requestUri;
  if (req.body.length > 0) message += createHash("md5").update(req.body).digest("base64");
  // compared as text: a signature that only decodes to the same bytes (no padding, stray characters) is still wrong
  const expected = Buffer.from(createHmac("sha256", Buffer.from(creds.secretKey, "utf8")).update(Buffer.from(message, "utf8")).digest("base64"));
  const given = Buffer.from(header(req.headers, "x-signature")!);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { status: 401, subject: "AuthenticationFailureSignature", message: "The signature does not match." };
  }
  return undefined;
}
