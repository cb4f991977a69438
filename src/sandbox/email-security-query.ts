import { POLICY_EVENT_KINDS, type PolicyEventKind } from "../ports/detection-source.ts";
import { stableHash } from "./seed-builder.ts";

/** The API's error body `{code, message}` with its status (tmrm.md §5.3). */
export interface EmailSecurityFailure {
  status: number;
  code: string;
  message: string;
}

/** A policy event log query as the fake understood it. */
export interface LogQuery {
  domain?: string;
  /** Absent: every event kind. */
  events: readonly (PolicyEventKind | "anomaly")[];
  direction?: "in" | "out";
  /** Inclusive bounds, epoch ms, after defaults and the 72-hour clamp. */
  from: number;
  to: number;
  limit: number;
  /** Resume after this log (the previous page's last one). */
  after?: { t: number; m: string };
  /** Binds a token to the query it pages through. */
  fingerprint: string;
}

export const MAX_LIMIT = 500;
const DEFAULT_SPAN_MS = 5 * 60_000;
const LOOK_BACK_MS = 72 * 3600_000;
/** `yyyy-mm-ddThh:mm:ss[.mmm]Z`, as documented. */
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;
const DOMAIN = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*$/i;
// 0xfb 0xff 0xbf encodes as `+/+/`: every token holds the characters a careless client breaks
const TOKEN_MAGIC = Buffer.from([0xfb, 0xff, 0xbf]);

const invalid = (message: string): EmailSecurityFailure => ({ status: 400, code: "InvalidFormat", message });

function isoParam(name: string, value: string | null): number | undefined | EmailSecurityFailure {
  if (value === null) return undefined;
  const t = Date.parse(value);
  if (!ISO.test(value) || Number.isNaN(t)) return invalid(`${name} must be an ISO 8601 UTC time yyyy-mm-ddThh:mm:ss[.mmm]Z.`);
  return t;
}

/** An opaque cursor: standard base64 (with `+`, `/` and `=` padding) of the last log served. */
export function encodeToken(fingerprint: string, after: { t: number; m: string }): string {
  let json = JSON.stringify({ f: fingerprint, t: after.t, m: after.m });
  // padded: the token always ends in `=`
  while ((TOKEN_MAGIC.length + Buffer.byteLength(json)) % 3 === 0) json += " ";
  return Buffer.concat([TOKEN_MAGIC, Buffer.from(json, "utf8")]).toString("base64");
}

function decodeToken(token: string): { f: string; t: number; m: string } | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(token)) return undefined;
  const raw = Buffer.from(token, "base64");
  if (raw.toString("base64") !== token || !raw.subarray(0, TOKEN_MAGIC.length).equals(TOKEN_MAGIC)) return undefined;
  try {
    const v = JSON.parse(raw.subarray(TOKEN_MAGIC.length).toString("utf8")) as Record<string, unknown>;
    return typeof v.f === "string" && typeof v.t === "number" && typeof v.m === "string" ? { f: v.f, t: v.t, m: v.m } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Validates `domain`, `direction`, `event`, `start`, `end`, `limit` and `token` the way the
 * documentation describes them (tmrm.md §5.3): with no `start`/`end`, the last 5 minutes; only
 * `start`, the 5 minutes after it; only `end`, the 5 minutes before it; both bounds inclusive.
 * A `start` older than 72 hours before `now` is clamped to the look-back, not refused: the
 * documentation says only that logs "at most 72 hours old" are retrieved. Nothing later than `now`
 * exists yet.
 */
export function parseLogQuery(params: URLSearchParams, now: number): LogQuery | EmailSecurityFailure {
  const domain = params.get("domain") ?? undefined;
  if (domain !== undefined && !DOMAIN.test(domain)) return { status: 400, code: "IllegalCharacter", message: "domain contains an illegal character." };
  const event = params.get("event");
  const kinds = [...POLICY_EVENT_KINDS, "anomaly"] as const;
  if (event !== null && !(kinds as readonly string[]).includes(event)) return invalid(`event must be one of ${kinds.join(", ")}.`);
  const direction = params.get("direction");
  if (direction !== null && direction !== "in" && direction !== "out") return invalid("direction must be in or out.");
  const start = isoParam("start", params.get("start"));
  if (typeof start === "object") return start;
  const end = isoParam("end", params.get("end"));
  if (typeof end === "object") return end;
  if (start !== undefined && end !== undefined && start > end) return invalid("start must not be later than end.");
  const limitText = params.get("limit");
  const limit = limitText === null ? MAX_LIMIT : /^\d{1,4}$/.test(limitText) ? Number(limitText) : NaN;
  if (!(limit >= 1 && limit <= MAX_LIMIT)) return invalid(`limit must be an integer from 1 to ${MAX_LIMIT}.`);

  const to = end ?? (start !== undefined ? start + DEFAULT_SPAN_MS : now);
  const from = start ?? to - DEFAULT_SPAN_MS;
  const fingerprint = stableHash([domain ?? "", event ?? "", direction ?? "", params.get("start") ?? "", params.get("end") ?? ""].join("|")).toString(16);
  const q: LogQuery = {
    domain: domain?.toLowerCase(),
    events: event === null ? kinds : [event as PolicyEventKind | "anomaly"],
    direction: direction ?? undefined,
    from: Math.max(from, now - LOOK_BACK_MS),
    to: Math.min(to, now),
    limit,
    fingerprint,
  };
  const token = params.get("token");
  if (token !== null) {
    const cursor = decodeToken(token);
    if (!cursor) return invalid("token is not a token this service issued.");
    if (cursor.f !== fingerprint) return invalid("token belongs to a different query.");
    q.after = { t: cursor.t, m: cursor.m };
  }
  return q;
}
