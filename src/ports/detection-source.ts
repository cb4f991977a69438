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
  /**
   * The message's id (`mailID` when it had none). Not unique per event: one message may carry
   * several policy events; an event is (messageID, eventType, eventSubtype).
   */
  messageID: string;
  /** ISO-8601 UTC time the event was generated. */
  genTime: string;
  eventType: string;
  eventSubtype?: string;
  domainName?: string;
  direction?: "in" | "out";
}

/**
 * The events of a window, and, when the service's own clock (its `Date` header) shows that part of
 * the window is older than it still keeps, the instant before which it could not serve them.
 */
export type PolicyEvents = PolicyEvent[] & { unservedBefore?: Date };

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
   * How late an event may reach the service's log after its `genTime` (`CWSYNC_POLL_LAG`): a poll
   * reads up to now, but its cursor moves only to now − lag, so the next poll reads that span again.
   */
  readonly lagMs?: number;
  /**
   * Every event of one domain and event kind with `start <= genTime < end` (the API's `end` is
   * inclusive; the adapter drops an event exactly at `end`, so consecutive windows never count it
   * twice), across all pages (`limit` 500, `nextToken`); HTTP 204 is an empty list. Throws
   * `ApiError` with an actionable message on 401/403/404 (404: log retrieval not enabled for the
   * account).
   */
  policyEvents(q: PolicyEventQuery, signal?: AbortSignal): Promise<PolicyEvents>;
}

/** The API's look-back: events older than this are gone. */
export const LOOK_BACK_MS = 72 * 3600_000;
