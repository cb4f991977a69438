/**
 * Email-security policy events: Trend Micro Email Security's `GET /api/v1/log/policyeventlog`,
 * and Hosted Email Security's log API of the same model. Implemented over HTTP by
 * `adapters/email-security/`; faked on loopback by `sandbox/email-security-sandbox.ts`.
 */

/** The `event` values cwsync asks for (one per request). */
export type PolicyEventKind = "spam" | "phishing" | "threat" | "anti_spoof" | "content_filter" | "dlp";

export const POLICY_EVENT_KINDS: readonly PolicyEventKind[] = ["spam", "phishing", "threat", "anti_spoof", "content_filter", "dlp"];

/** One log entry, the fields cwsync reads (names as the API returns them). */
export interface PolicyEvent {
  /** Unique per message: de-duplicates events seen twice at window boundaries. */
  messageID: string;
  /** ISO-8601 UTC time the event was generated. */
  genTime: string;
  eventType: string;
  eventSubtype?: string;
  domainName?: string;
  direction?: "in" | "out";
}

export interface PolicyEventQuery {
  domain: string;
  event: PolicyEventKind;
  /** Inclusive, ISO UTC. The API serves at most 72 hours back. */
  start: Date;
  /** Exclusive in cwsync's use (an event exactly at `end` belongs to the next window), ISO UTC. */
  end: Date;
}

/** Which service a source is: Hosted Email Security or Trend Micro Email Security. */
export type DetectionService = "hes" | "tmes";

export interface DetectionSource {
  readonly service: DetectionService;
  /**
   * Every event of one domain and event kind with `start <= genTime < end` (the API's `end` is
   * inclusive; the adapter drops an event exactly at `end`, so consecutive windows never count it
   * twice), across all pages (`limit` 500, `nextToken`); HTTP 204 is an empty list. Throws
   * `ApiError` with an actionable message on 401/403/404 (404: log retrieval not enabled for the
   * account).
   */
  policyEvents(q: PolicyEventQuery, signal?: AbortSignal): Promise<PolicyEvent[]>;
}

/** The API's look-back: events older than this are gone. */
export const LOOK_BACK_MS = 72 * 3600_000;
