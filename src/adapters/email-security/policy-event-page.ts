import type { PolicyEvent } from "../../ports/detection-source.ts";

/** One page of `GET /api/v1/log/policyeventlog`, in port shape. */
export interface PolicyEventPage {
  events: PolicyEvent[];
  /** The token to send back for the next page, already URL-decoded; absent on the last page. */
  nextToken?: string;
}

/**
 * `nextToken` arrives URL-encoded (`%2B` for `+`), while `token` must carry the raw value: decoded
 * exactly once here, then encoded once again as a query value when sent. A token with a `%` that
 * is not an escape was not encoded, and goes back as it came.
 */
export function decodeNextToken(token: string): string {
  try {
    return decodeURIComponent(token);
  } catch {
    return token;
  }
}

const str = (v: unknown): v is string => typeof v === "string" && v !== "";

/**
 * Reads a 200 answer `{logs, nextToken}`, keeping the fields cwsync uses. A log without a readable
 * `genTime` or `eventType` cannot be counted: the page fails whole with the problem, rather than
 * silently counting less.
 */
export function parsePolicyEventPage(body: unknown): PolicyEventPage | { problem: string } {
  if (!body || typeof body !== "object" || Array.isArray(body)) return { problem: "the answer is not a JSON object with `logs`" };
  const b = body as Record<string, unknown>;
  if (!Array.isArray(b.logs)) return { problem: "the answer has no `logs` array" };
  if (b.nextToken !== undefined && b.nextToken !== null && typeof b.nextToken !== "string") return { problem: "`nextToken` is not a string" };
  const events: PolicyEvent[] = [];
  for (const [i, log] of b.logs.entries()) {
    if (!log || typeof log !== "object") return { problem: `logs[${i}] is not an object` };
    const l = log as Record<string, unknown>;
    if (!str(l.genTime) || Number.isNaN(Date.parse(l.genTime))) return { problem: `logs[${i}].genTime is not an ISO date` };
    if (!str(l.eventType)) return { problem: `logs[${i}].eventType is missing` };
    // `mailID` stands in for a message that carried no Message-ID header
    const messageID = str(l.messageID) ? l.messageID : str(l.mailID) ? l.mailID : undefined;
    if (!messageID) return { problem: `logs[${i}] has neither messageID nor mailID` };
    const e: PolicyEvent = { messageID, genTime: l.genTime, eventType: l.eventType };
    if (str(l.eventSubtype)) e.eventSubtype = l.eventSubtype;
    if (str(l.domainName)) e.domainName = l.domainName;
    if (l.direction === "in" || l.direction === "out") e.direction = l.direction;
    events.push(e);
  }
  const token = str(b.nextToken) ? decodeNextToken(b.nextToken) : undefined;
  return token ? { events, nextToken: token } : { events };
}
