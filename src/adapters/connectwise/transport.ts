import { request, type Dispatcher } from "undici";
import { ApiError, type ApiErrorDetail } from "../../errors.ts";
import type { Clock } from "../../ports/clock.ts";
import { BodyTooLargeError, MAX_BODY_BYTES, readCapped, retryAfterMs, type HttpRetryOptions } from "../http-retry.ts";
import type { RetryBudget } from "../retry-budget.ts";
import { retryingRequest, type RetryPolicy } from "../retrying-request.ts";
import { scrubSecrets } from "../scrub-secrets.ts";
import { describe, unreadable } from "./response-shapes.ts";
import { DEFAULT_CW_BURST, DEFAULT_CW_CONCURRENCY, DEFAULT_CW_RATE, RequestLimiter } from "./limiter.ts";

export interface ConnectWiseCredentials {
  /** API root including `/apis/3.0`, e.g. `https://api-na.myconnectwise.net/v4_6_release/apis/3.0`. */
  url: string;
  company: string;
  publicKey: string;
  privateKey: string;
  clientId: string;
}

export interface TransportOptions extends HttpRetryOptions {
  dispatcher?: Dispatcher;
  clock: Clock;
  /** Pinned model version: responses keep their shape when ConnectWise ships a new release. */
  acceptVersion?: string;
  concurrency?: number;
  ratePerSecond?: number;
  burst?: number;
  onEvent?: (e: TransportEvent) => void;
  /** Largest answer read, in bytes (default MAX_BODY_BYTES), checked while it streams. */
  maxBodyBytes?: number;
  /** The retries of the current cycle, shared by every call (the session resets it per cycle). */
  budget?: RetryBudget;
}

export type TransportEvent =
  | { type: "response"; method: string; path: string; status: number; ms: number }
  | { type: "network-error"; method: string; path: string; reason: string }
  | { type: "retry"; method: string; path: string; attempt: number; waitMs: number; reason: string }
  /** A 429: the limiter pauses for `retryAfterMs` (when ConnectWise said) and goes down to `ratePerSecond`. */
  | { type: "throttled"; method: string; path: string; retryAfterMs?: number; ratePerSecond: number }
  /** The limiter's rate in use: with the first request (the ceiling), then at each change. */
  | { type: "rate"; ratePerSecond: number };

export interface Response {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

export type Query = Record<string, string | number | undefined>;

/**
 * ConnectWise's retry rules. A 429 means the request was not processed: any method, a create (POST)
 * too, is sent again after the wait. Otherwise a POST is sent once: repeated after a 5xx or a lost
 * connection it may have been processed already, and exactly-once billing depends on it not being
 * sent twice.
 */
export const connectwisePolicy: RetryPolicy = {
  unavailableCode: "connectwise.unavailable",
  repeatable: new Set(["GET", "PUT", "PATCH"]),
  notProcessed: (status) => status === 429,
  retries: 5,
  // ConnectWise answers a query that ran too long with a 500: repeating a read or an absolute PATCH is safe
  retryOn: (status) => [429, 500, 502, 503, 504].includes(status),
  // a POST's 3xx is returned for the caller to judge
  success: (status, method) => status < 300 || (status < 400 && method === "POST"),
  backoffBaseMs: 500,
  backoffCapMs: 30_000,
};

export { NOT_SENT } from "../retrying-request.ts";

function errorBody(body: unknown): { code?: string; apiMessage?: string; errors?: ApiErrorDetail[] } {
  if (body && typeof body === "object" && !Array.isArray(body)) {
    const b = body as Record<string, unknown>;
    const code = typeof b.code === "string" ? b.code : typeof b.error === "string" ? b.error : undefined;
    const errors = Array.isArray(b.errors) ? (b.errors as ApiErrorDetail[]).filter((e) => e && typeof e === "object") : undefined;
    return { code, apiMessage: typeof b.message === "string" ? b.message : undefined, errors };
  }
  if (typeof body === "string" && body.trim()) return { apiMessage: body.trim().replace(/\s+/g, " ").slice(0, 200) };
  return {};
}

/**
 * HTTP to ConnectWise: authentication and `clientId` on every call, a pinned `Accept` version,
 * JSON from any `json` content type, timeouts, the adaptive request limiter (told of every 429),
 * and retries with backoff and jitter (honouring `Retry-After`) for GET/PATCH/PUT, and for any
 * method answered 429. Otherwise a POST is sent once.
 */
export class ConnectWiseTransport {
  readonly limiter: RequestLimiter;
  private readonly base: URL;
  private readonly auth: string;
  /** Whether the rate in use was told yet: with the first request. */
  private rateShown = false;

  constructor(
    private readonly creds: ConnectWiseCredentials,
    private readonly opts: TransportOptions,
  ) {
    this.base = new URL(creds.url.replace(/\/+$/, "") + "/");
    this.auth = "Basic " + Buffer.from(`${creds.company}+${creds.publicKey}:${creds.privateKey}`).toString("base64");
    const onRate = (ratePerSecond: number) => opts.onEvent?.({ type: "rate", ratePerSecond });
    this.limiter = new RequestLimiter(opts.clock, opts.concurrency ?? DEFAULT_CW_CONCURRENCY, opts.ratePerSecond ?? DEFAULT_CW_RATE, opts.burst ?? DEFAULT_CW_BURST, onRate);
  }

  url(path: string, query: Query = {}): URL {
    const u = new URL(path.replace(/^\/+/, ""), this.base);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) u.searchParams.set(k, String(v));
    return u;
  }

  /** The secret values and the Basic pair, cut out of anything ConnectWise echoes back. */
  scrub(text: string): string {
    const { company, publicKey, privateKey } = this.creds;
    return scrubSecrets(text, [privateKey, publicKey.length >= 8 ? publicKey : undefined], [`${company}+${publicKey}:${privateKey}`]);
  }

  /**
   * One call; for GET/PATCH/PUT, retried on 429/500/502/503/504 and lost connections; for a POST,
   * on 429 only (not processed). Non-2xx throws
   * ApiError (a POST's 3xx is returned for the caller to judge). A 2xx whose body is not JSON
   * throws `connectwise.unreadable`.
   */
  async send(method: string, path: string, init: { query?: Query; body?: unknown; signal?: AbortSignal } = {}): Promise<Response> {
    return retryingRequest(connectwisePolicy, () => this.once(method, path, init), {
      method, path, clock: this.opts.clock, budget: this.opts.budget, signal: init.signal, tuning: this.opts,
      error: (e) => new ApiError(e),
      rejected: (res, retryable) => new ApiError({ method, path, status: res.status, retryable, ...errorBody(res.body) }),
      onRetry: (attempt, waitMs, reason) => this.opts.onEvent?.({ type: "retry", method, path, attempt, waitMs, reason }),
      onNetworkError: (reason) => this.opts.onEvent?.({ type: "network-error", method, path, reason }),
    });
  }

  private async once(method: string, path: string, init: { query?: Query; body?: unknown; signal?: AbortSignal }): Promise<Response> {
    if (!this.rateShown) {
      this.rateShown = true;
      this.opts.onEvent?.({ type: "rate", ratePerSecond: this.limiter.rate });
    }
    const release = await this.limiter.acquire(init.signal);
    const started = this.opts.clock.now();
    try {
      // stopped while it waited for its slot: nothing goes out
      init.signal?.throwIfAborted();
      const res = await request(this.url(path, init.query), {
        method: method as Dispatcher.HttpMethod,
        dispatcher: this.opts.dispatcher,
        headers: {
          authorization: this.auth,
          clientid: this.creds.clientId,
          accept: `application/vnd.connectwise.com+json; version=${this.opts.acceptVersion ?? "2025.1"}`,
          "cache-control": "no-cache",
          ...(init.body !== undefined ? { "content-type": "application/json" } : {}),
        },
        body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
        headersTimeout: this.opts.headersTimeoutMs ?? 30_000,
        bodyTimeout: this.opts.bodyTimeoutMs ?? 60_000,
        // A write already on its way is not abandoned on a stop: the server may still commit it
        // after we hang up, and a look for it right after (the next run resuming the send) could
        // miss it and send again. It ends with its answer or the timeouts; waiting for a slot or a
        // retry ends at once.
        ...(method === "GET" ? { signal: init.signal } : {}),
      });
      let text: string;
      const answered = () => this.opts.onEvent?.({ type: "response", method, path, status: res.statusCode, ms: this.opts.clock.now() - started });
      try {
        text = await readCapped(res.body, this.opts.maxBodyBytes ?? MAX_BODY_BYTES);
      } catch (e) {
        if (!(e instanceof BodyTooLargeError)) throw e;
        answered();
        throw unreadable(method, path, res.statusCode, e.message);
      }
      // counted as answered whether or not the answer can be read
      answered();
      if (res.statusCode === 429) {
        const wait = retryAfterMs(res.headers["retry-after"], this.opts.clock.now());
        this.limiter.throttled(started, wait);
        this.opts.onEvent?.({ type: "throttled", method, path, ...(wait !== undefined ? { retryAfterMs: wait } : {}), ratePerSecond: this.limiter.rate });
      }
      const ok = res.statusCode >= 200 && res.statusCode < 300;
      if (!ok) text = this.scrub(text);
      const type = String(res.headers["content-type"] ?? "");
      let body: unknown = text;
      if (/json/i.test(type) && text.trim() !== "") {
        try {
          body = JSON.parse(text);
        } catch {
          if (ok) throw unreadable(method, path, res.statusCode, `the JSON is cut short or malformed (${text.length} characters; a connection cut behind a proxy answers like this)`);
          body = text;
        }
      } else if (ok && res.statusCode !== 204 && text.trim() !== "") {
        throw unreadable(method, path, res.statusCode, `expected JSON, found ${type ? `\`${type.split(";")[0]}\`` : "no content type"} (a proxy or a login page answers like this): ${describe(this.scrub(text.slice(0, 4096)))}`);
      }
      return { status: res.statusCode, headers: res.headers, body };
    } finally {
      release();
    }
  }
}
