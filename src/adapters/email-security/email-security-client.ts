import { request, type Dispatcher } from "undici";
import { UsageError } from "../../errors.ts";
import type { Clock } from "../../ports/clock.ts";
import { LOOK_BACK_MS, type DetectionService, type DetectionSource, type PolicyEventQuery, type PolicyEvents } from "../../ports/detection-source.ts";
import { BodyTooLargeError, readCapped, type HttpRetryOptions } from "../http-retry.ts";
import type { RetryBudget } from "../retry-budget.ts";
import { retryingRequest, type RetryPolicy } from "../retrying-request.ts";
import { scrubSecrets } from "../scrub-secrets.ts";
import { EmailSecurityApiError, errorFromResponse } from "./email-security-error.ts";
import { parsePolicyEventPage } from "./policy-event-page.ts";
import { POLICY_EVENT_LOG_PATH, SERVICES } from "./services.ts";

export interface EmailSecurityCredentials {
  /** `TMES_URL`/`HES_URL`: scheme, host and optional port, e.g. `https://api.tmes.trendmicro.com`. */
  url: string;
  /** The administrator account that created the API key. */
  account: string;
  apiKey: string;
}

export interface EmailSecurityClientOptions extends HttpRetryOptions {
  /** Sleeps between retries. */
  clock: Clock;
  dispatcher?: Dispatcher;
  onEvent?: (e: EmailSecurityEvent) => void;
  /** The most pages read for one window before giving up (default MAX_PAGES). */
  maxPages?: number;
  /** How late the service's events may reach its log (`CWSYNC_POLL_LAG`): the poller keeps that much overlap. */
  lagMs?: number;
  /** The retries of the current cycle, shared by every call (the session resets it per cycle). */
  budget?: RetryBudget;
}

export type EmailSecurityEvent =
  | { type: "response"; service: DetectionService; path: string; status: number; ms: number }
  | { type: "retry"; service: DetectionService; path: string; attempt: number; waitMs: number; reason: string };

/** The documented default and the page size cwsync asks for. */
export const PAGE_LIMIT = 500;

/**
 * Pages read for one domain, event kind and window before the service is taken to be paging for
 * ever: 1,000 pages are 500,000 events, far above what one domain logs in 72 hours.
 */
export const MAX_PAGES = 1000;

/**
 * Pages a window reads before it must take its turn: past this, one window per service pages at a
 * time. Ordinary windows end well before it and run side by side; a service that pages for ever
 * then costs one window's page cap before the poll stops asking it, not one per window under way.
 */
export const SHARED_PAGES = 10;

/** Clock differences below this between cwsync and the service are not taken for lost events. */
const CLOCK_SLACK_MS = 5 * 60_000;

/** The reason code of a 2xx answer that is not the policy event log's shape. */
export const UNREADABLE = "email-security.unreadable";
/** The reason code of a window that did not end within the page cap or repeated a token. */
export const ENDLESS = "email-security.endless-paging";

const METHOD = "GET";

/** TMES/HES retry rules: a GET changes nothing, so it is sent again on 429 and any 5xx. */
export const emailSecurityPolicy: RetryPolicy = {
  unavailableCode: "detections.unavailable",
  repeatable: new Set([METHOD]),
  retries: 4,
  retryOn: (status) => status === 429 || status >= 500,
  backoffBaseMs: 500,
  backoffCapMs: 30_000,
};

/** `TMES_URL`/`HES_URL` reduced to its origin; anything more is refused rather than guessed at. */
export function emailSecurityOrigin(url: string, service: DetectionService): string {
  const { env, urlExample } = SERVICES[service];
  let u: URL;
  try {
    u = new URL(url.trim());
  } catch {
    throw new UsageError(`${env}_URL is not a URL; expected scheme, host and optional port, ${urlExample}`);
  }
  if (u.protocol !== "https:" && u.protocol !== "http:") throw new UsageError(`${env}_URL must be http(s) (got ${u.protocol})`);
  if (u.pathname !== "/" || u.search || u.hash || u.username || u.password) {
    throw new UsageError(`${env}_URL must be scheme, host and optional port only — cwsync appends ${POLICY_EVENT_LOG_PATH} (got ${u.origin}${u.pathname})`);
  }
  return u.origin;
}

/** A 2xx body as read: the JSON value when it parsed, the text and content type otherwise. */
type Body = { json?: unknown; text: string; contentType: string };
type Answer = { status: number; headers: Record<string, string | string[] | undefined>; body: Body };

/** What came back instead of a page, for the message: the content type and the first characters. */
function describeBody(b: Body): string {
  if (b.json !== undefined) return "";
  const start = b.text.trim().replace(/\s+/g, " ").slice(0, 60);
  const kind = b.text.trim() === "" ? "an empty body" : /^\s*[{[]/.test(b.text) ? "JSON that does not parse (truncated?)" : "not JSON";
  return ` (${kind}; content-type ${b.contentType || "none"}${start ? `; starts \`${start}\`` : ""})`;
}

/**
 * Policy events of Trend Micro Email Security or Hosted Email Security over HTTP (tmrm.md
 * §5.3–5.4): Basic `account:apiKey`, every page of `limit` 500 followed through `nextToken`,
 * HTTP 204 as "no logs", and the window cut to `[start, end)` on this side.
 */
export class EmailSecurityClient implements DetectionSource {
  private readonly origin: string;
  private readonly auth: string;
  readonly lagMs?: number;
  /** The window paging past SHARED_PAGES resolves this when it ends. */
  private deepTurn: Promise<void> = Promise.resolve();

  constructor(
    private readonly creds: EmailSecurityCredentials,
    readonly service: DetectionService,
    private readonly opts: EmailSecurityClientOptions,
  ) {
    this.origin = emailSecurityOrigin(creds.url, service);
    this.auth = "Basic " + Buffer.from(`${creds.account}:${creds.apiKey}`, "utf8").toString("base64");
    if (opts.lagMs !== undefined) this.lagMs = opts.lagMs;
  }

  async policyEvents(q: PolicyEventQuery, signal?: AbortSignal): Promise<PolicyEvents> {
    const start = q.start.getTime();
    const end = q.end.getTime();
    if (Number.isNaN(start) || Number.isNaN(end)) throw new RangeError("policy event window: start and end must be valid dates");
    if (!q.domain.trim()) throw new RangeError("policy event window: domain is empty");
    if (end <= start) return [];
    const query: Record<string, string> = {
      domain: q.domain,
      event: q.event,
      // `direction` is left out on purpose: without it the API answers both directions, and
      // outgoing mail carries most DLP and content-filtering events a report counts
      start: q.start.toISOString(),
      // the API's `end` is inclusive: an event exactly at `end` comes back and is dropped below, so
      // that it is counted once, in the window that starts there
      end: q.end.toISOString(),
      limit: String(PAGE_LIMIT),
    };
    const what = `${q.domain} (event ${q.event}, ${query.start} to ${query.end})`;
    let endTurn: (() => void) | undefined;
    try {
      return await this.pages(query, { start, end, what }, (turn) => (endTurn = turn), signal);
    } finally {
      endTurn?.();
    }
  }

  private async pages(query: Record<string, string>, w: { start: number; end: number; what: string }, onTurn: (end: () => void) => void, signal?: AbortSignal): Promise<PolicyEvents> {
    const { start, end, what } = w;
    const events: PolicyEvents = [];
    const sent = new Set<string>();
    const maxPages = this.opts.maxPages ?? MAX_PAGES;
    for (let pages = 1; ; pages++) {
      if (pages === SHARED_PAGES + 1) await this.takeTurn(onTurn);
      const res = await this.send(query, signal);
      if (pages === 1) {
        // the service's clock says what it still keeps: a window reaching further back (a past
        // `--at`, a cursor older than 72 hours) is a gap, not a count of zero
        const served = Date.parse(String(res.headers.date ?? "")) - LOOK_BACK_MS;
        if (served - start > CLOCK_SLACK_MS) events.unservedBefore = new Date(Math.min(served, end));
      }
      if (res.status === 204) break;
      // only 200 carries a page; any other 2xx is not an answer this API gives
      const page = res.status === 200 ? parsePolicyEventPage(res.body.json) : { problem: "a 2xx other than 200 or 204 is not a policy event log answer" };
      if ("problem" in page) throw this.unexpected(res.status, UNREADABLE, `${page.problem}${describeBody(res.body)} — for ${what}; no counts were taken from it, the window is polled again next time`);
      for (const e of page.events) {
        const t = Date.parse(e.genTime);
        if (t >= start && t < end) events.push(e);
      }
      if (!page.nextToken) break;
      // a server that hands back a token it was already given, or new ones for ever, would page for ever
      if (sent.has(page.nextToken)) throw this.unexpected(res.status, ENDLESS, `\`nextToken\` repeats a token already followed, after ${pages} pages for ${what}; stopped`);
      if (pages >= maxPages) {
        throw this.unexpected(res.status, ENDLESS, `still a \`nextToken\` after ${pages} pages (${pages * PAGE_LIMIT} events at most) for ${what}; stopped, nothing of this window was counted`);
      }
      sent.add(page.nextToken);
      query.token = page.nextToken;
    }
    return events;
  }

  /** Waits until no other window pages past SHARED_PAGES; `onTurn` gets what ends this one's turn. */
  private async takeTurn(onTurn: (end: () => void) => void): Promise<void> {
    const before = this.deepTurn;
    let endTurn!: () => void;
    this.deepTurn = new Promise((done) => (endTurn = done));
    onTurn(endTurn);
    await before;
  }

  private unexpected(status: number, code: string, problem: string): EmailSecurityApiError {
    return new EmailSecurityApiError(this.service, {
      method: METHOD, path: POLICY_EVENT_LOG_PATH, status, retryable: false, code, apiMessage: problem,
    });
  }

  /** One page, retried by `emailSecurityPolicy` with backoff and jitter, honouring `Retry-After`. */
  private async send(query: Record<string, string>, signal?: AbortSignal): Promise<Answer> {
    const path = POLICY_EVENT_LOG_PATH;
    return retryingRequest(emailSecurityPolicy, () => this.once(query, signal), {
      method: METHOD, path, clock: this.opts.clock, budget: this.opts.budget, signal, tuning: this.opts,
      error: (e) => new EmailSecurityApiError(this.service, e),
      rejected: (res, retryable) => errorFromResponse(this.service, METHOD, path, res.status, res.body.json ?? res.body.text, retryable, this.secrets()),
      onRetry: (attempt, waitMs, reason) => this.opts.onEvent?.({ type: "retry", service: this.service, path, attempt, waitMs, reason }),
    });
  }

  private secrets(): string[] {
    return [this.creds.apiKey, this.auth.slice("Basic ".length)];
  }

  private async once(query: Record<string, string>, signal?: AbortSignal): Promise<Answer> {
    const url = new URL(POLICY_EVENT_LOG_PATH, this.origin);
    // URLSearchParams encodes `+`, `/` and `=` of a token, which the server decodes back
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    const started = this.opts.clock.now();
    const res = await request(url, {
      method: METHOD,
      dispatcher: this.opts.dispatcher,
      headers: { authorization: this.auth, accept: "application/json" },
      headersTimeout: this.opts.headersTimeoutMs ?? 30_000,
      bodyTimeout: this.opts.bodyTimeoutMs ?? 60_000,
      signal,
    });
    let raw: string;
    try {
      raw = await readCapped(res.body);
    } catch (e) {
      if (!(e instanceof BodyTooLargeError)) throw e;
      throw new EmailSecurityApiError(this.service, { method: METHOD, path: POLICY_EVENT_LOG_PATH, status: res.statusCode, retryable: false, code: UNREADABLE, apiMessage: e.message });
    }
    // any body ends up in messages and logs: whatever of ours it echoes is cut out first
    const text = scrubSecrets(raw, [this.creds.apiKey], [`${this.creds.account}:${this.creds.apiKey}`]);
    const contentType = String(res.headers["content-type"] ?? "");
    const body: Body = { text, contentType };
    // strict: a page is JSON by its content type or its first character; an HTML page is never read as one
    if (text.trim() !== "" && (/json/i.test(contentType) || (!/html|xml/i.test(contentType) && /^\s*[{[]/.test(text)))) {
      try {
        body.json = JSON.parse(text);
      } catch {
        // keep the text: the error shows what came back
      }
    }
    this.opts.onEvent?.({ type: "response", service: this.service, path: POLICY_EVENT_LOG_PATH, status: res.statusCode, ms: this.opts.clock.now() - started });
    return { status: res.statusCode, headers: res.headers, body };
  }
}
