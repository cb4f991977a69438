import { request, type Dispatcher } from "undici";
import { UsageError } from "../../errors.ts";
import type { Clock } from "../../ports/clock.ts";
import type { DetectionService, DetectionSource, PolicyEvent, PolicyEventQuery } from "../../ports/detection-source.ts";
import { networkReason, retryAfterMs, type HttpRetryOptions } from "../http-retry.ts";
import { EmailSecurityApiError, errorFromResponse, scrub } from "./email-security-error.ts";
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
}

export type EmailSecurityEvent =
  | { type: "response"; service: DetectionService; path: string; status: number; ms: number }
  | { type: "retry"; service: DetectionService; path: string; attempt: number; waitMs: number; reason: string };

/** The documented default and the page size cwsync asks for. */
export const PAGE_LIMIT = 500;

const METHOD = "GET";
const retryableStatus = (status: number) => status === 429 || status >= 500;

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

type Answer = { status: number; headers: Record<string, string | string[] | undefined>; body: unknown };

/**
 * Policy events of Trend Micro Email Security or Hosted Email Security over HTTP (tmrm.md
 * §5.3–5.4): Basic `account:apiKey`, every page of `limit` 500 followed through `nextToken`,
 * HTTP 204 as "no logs", and the window cut to `[start, end)` on this side.
 */
export class EmailSecurityClient implements DetectionSource {
  private readonly origin: string;
  private readonly auth: string;

  constructor(
    private readonly creds: EmailSecurityCredentials,
    readonly service: DetectionService,
    private readonly opts: EmailSecurityClientOptions,
  ) {
    this.origin = emailSecurityOrigin(creds.url, service);
    this.auth = "Basic " + Buffer.from(`${creds.account}:${creds.apiKey}`, "utf8").toString("base64");
  }

  async policyEvents(q: PolicyEventQuery, signal?: AbortSignal): Promise<PolicyEvent[]> {
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
    const events: PolicyEvent[] = [];
    const sent = new Set<string>();
    for (;;) {
      const res = await this.send(query, signal);
      if (res.status === 204) break;
      const page = parsePolicyEventPage(res.body);
      if ("problem" in page) throw this.unexpected(res.status, page.problem);
      for (const e of page.events) {
        const t = Date.parse(e.genTime);
        if (t >= start && t < end) events.push(e);
      }
      if (!page.nextToken) break;
      // a server that hands back a token it was already given would page for ever
      if (sent.has(page.nextToken)) throw this.unexpected(res.status, "`nextToken` repeats a token already followed");
      sent.add(page.nextToken);
      query.token = page.nextToken;
    }
    return events;
  }

  private unexpected(status: number, problem: string): EmailSecurityApiError {
    return new EmailSecurityApiError(this.service, {
      method: METHOD, path: POLICY_EVENT_LOG_PATH, status, retryable: false, code: "UnexpectedResponse", apiMessage: problem,
    });
  }

  /** One page. A GET changes nothing, so it is retried on 429/5xx and lost connections, with backoff and jitter, honouring `Retry-After`. */
  private async send(query: Record<string, string>, signal?: AbortSignal): Promise<Answer> {
    const path = POLICY_EVENT_LOG_PATH;
    const retries = this.opts.retries ?? 4;
    for (let attempt = 0; ; attempt++) {
      let res: Answer;
      try {
        res = await this.once(query, signal);
      } catch (e) {
        if (signal?.aborted) throw e;
        const reason = networkReason(e);
        if (!reason) throw new EmailSecurityApiError(this.service, { method: METHOD, path, retryable: false, reason: "failed", cause: e });
        if (attempt >= retries) throw new EmailSecurityApiError(this.service, { method: METHOD, path, retryable: true, reason, cause: e });
        await this.backoff(attempt, undefined, reason, signal);
        continue;
      }
      if (res.status >= 200 && res.status < 300) return res;
      if (retryableStatus(res.status) && attempt < retries) {
        await this.backoff(attempt, retryAfterMs(res.headers["retry-after"], this.opts.clock.now()), `status ${res.status}`, signal);
        continue;
      }
      throw errorFromResponse(this.service, METHOD, path, res.status, res.body, retryableStatus(res.status), this.secrets());
    }
  }

  private secrets(): string[] {
    return [this.creds.apiKey, this.auth.slice("Basic ".length)];
  }

  private async backoff(attempt: number, hinted: number | undefined, reason: string, signal?: AbortSignal) {
    const base = this.opts.backoffBaseMs ?? 500;
    const cap = this.opts.backoffCapMs ?? 30_000;
    const exp = Math.min(cap, base * 2 ** attempt);
    // full jitter, but never sooner than the server asked
    const waitMs = Math.max(hinted ?? 0, exp * (this.opts.random ?? Math.random)());
    this.opts.onEvent?.({ type: "retry", service: this.service, path: POLICY_EVENT_LOG_PATH, attempt: attempt + 1, waitMs, reason });
    await this.opts.clock.sleep(waitMs, signal);
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
    const raw = await res.body.text();
    // an error body ends up in messages and logs: whatever of ours it echoes is cut out first
    const text = res.statusCode >= 200 && res.statusCode < 300 ? raw : scrub(raw, this.secrets());
    let body: unknown = text;
    if (text.trim() !== "" && (/json/i.test(String(res.headers["content-type"] ?? "")) || /^\s*[{[]/.test(text))) {
      try {
        body = JSON.parse(text);
      } catch {
        // keep the text: the error shows what came back
      }
    }
    this.opts.onEvent?.({ type: "response", service: this.service, path: POLICY_EVENT_LOG_PATH, status: res.statusCode, ms: this.opts.clock.now() - started });
    return { status: res.statusCode, headers: res.headers, body };
  }
}
