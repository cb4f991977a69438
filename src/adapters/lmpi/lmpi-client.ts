import { randomUUID } from "node:crypto";
import { request, type Dispatcher } from "undici";
import { UsageError } from "../../errors.ts";
import type { Clock } from "../../ports/clock.ts";
import { UNREADABLE_REPORT, type LicenseRow, type LicenseSource } from "../../ports/license-source.ts";
import { BodyTooLargeError, readCapped, type HttpRetryOptions } from "../http-retry.ts";
import { lmpiErrorFromResponse, LmpiApiError } from "./lmpi-error.ts";
import type { RetryBudget } from "../retry-budget.ts";
import { retryingRequest, type RetryPolicy } from "../retrying-request.ts";
import { scrubSecrets } from "../scrub-secrets.ts";
import { parseReport } from "./lmpi-rows.ts";
import { LMPI_SUMMARY_PATH, signedHeaders } from "./lmpi-signature.ts";

export interface LmpiCredentials {
  /** `LMPI_URL`: scheme, host and optional port, e.g. `https://cspi.trendmicro.com`. */
  url: string;
  accessToken: string;
  secretKey: string;
}

export interface LmpiClientOptions extends HttpRetryOptions {
  /** Sleeps between retries. */
  clock: Clock;
  /**
   * The real time in epoch ms, for `x-posix-time`: never the `--at` instant (DESIGN §8), since
   * LMPI rejects a request whose time is far from its own.
   */
  realNow: () => number;
  /** `x-traceid` of each attempt (default: a random UUID). */
  traceId?: () => string;
  dispatcher?: Dispatcher;
  /** Optional `partner_id`: a distributor's report for one partner. */
  partnerId?: string;
  onEvent?: (e: LmpiEvent) => void;
  /** The retries of the current cycle, shared by every call (the session resets it per cycle). */
  budget?: RetryBudget;
}

export type LmpiEvent =
  | { type: "response"; path: string; status: number; ms: number }
  | { type: "retry"; path: string; attempt: number; waitMs: number; reason: string };

/** One HTTP answer: the raw text (a 2xx is read strictly from it), and the body parsed when it is JSON. */
interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  contentType: string;
  text: string;
  body: unknown;
}

const METHOD = "POST";

/**
 * LMPI's retry rules. The report query is a read-only POST (the body carries the query, nothing
 * is created), so unlike a ConnectWise create it is safe to resend.
 */
export const lmpiPolicy: RetryPolicy = {
  unavailableCode: "license.unavailable",
  repeatable: new Set([METHOD]),
  retries: 4,
  retryOn: (status) => [429, 502, 503, 504].includes(status),
  backoffBaseMs: 500,
  backoffCapMs: 30_000,
};

/** `LMPI_URL` reduced to its origin; anything more is refused rather than guessed at. */
export function lmpiOrigin(url: string): string {
  let u: URL;
  try {
    u = new URL(url.trim());
  } catch {
    throw new UsageError("LMPI_URL is not a URL; expected scheme, host and optional port, e.g. https://cspi.trendmicro.com");
  }
  if (u.protocol !== "https:" && u.protocol !== "http:") throw new UsageError(`LMPI_URL must be http(s) (got ${u.protocol})`);
  if (u.pathname !== "/" || u.search || u.hash || u.username || u.password) {
    throw new UsageError(`LMPI_URL must be scheme, host and optional port only — cwsync appends ${LMPI_SUMMARY_PATH} (got ${u.origin}${u.pathname})`);
  }
  return u.origin;
}

/**
 * The Licensing Management Platform's Customer Summary report over HTTP, each attempt signed
 * afresh (HMAC-SHA256, tmrm.md §5.2). The report is one response per month: LMPI does not page it.
 */
export class LmpiClient implements LicenseSource {
  private readonly origin: string;

  constructor(
    private readonly creds: LmpiCredentials,
    private readonly opts: LmpiClientOptions,
  ) {
    this.origin = lmpiOrigin(creds.url);
  }

  async summary(year: number, month: number, signal?: AbortSignal): Promise<LicenseRow[]> {
    if (!Number.isInteger(year) || year < 1000 || year > 9999) throw new RangeError(`report year must be four digits, got ${year}`);
    if (!Number.isInteger(month) || month < 1 || month > 12) throw new RangeError(`report month must be 1–12, got ${month}`);
    const body = {
      report_cycle_year: String(year),
      report_cycle_month: String(month).padStart(2, "0"),
      // pinned, not left to the default: rows are matched on `product_name`, which follows the language
      language_code: "en-US",
      ...(this.opts.partnerId ? { partner_id: this.opts.partnerId } : {}),
    };
    const res = await this.send(LMPI_SUMMARY_PATH, Buffer.from(JSON.stringify(body), "utf8"), signal);
    const parsed = parseReport(res.contentType, res.text);
    // what the messages quote of the answer could echo a credential
    const clean = (text: string) => scrubSecrets(text, [this.creds.secretKey, this.creds.accessToken]);
    if ("problem" in parsed) {
      throw new LmpiApiError({
        method: METHOD, path: LMPI_SUMMARY_PATH, status: res.status, retryable: true, code: UNREADABLE_REPORT, apiMessage: clean(parsed.problem),
        hint: "the billing that needed it is retried at the next reconcile; if this persists, check LMPI_URL and any proxy in front of it",
      });
    }
    return parsed.rows.map((row) => (row.invalid === undefined ? row : { ...row, invalid: clean(row.invalid) }));
  }

  /** One report query, retried by `lmpiPolicy` with backoff and jitter, honouring `Retry-After`. */
  private async send(path: string, payload: Buffer, signal?: AbortSignal): Promise<Answer> {
    return retryingRequest(lmpiPolicy, () => this.once(path, payload, signal), {
      method: METHOD, path, clock: this.opts.clock, budget: this.opts.budget, signal, tuning: this.opts,
      // an HTTP-date `Retry-After` is LMPI's real time, never the `--at` instant
      now: () => this.opts.realNow(),
      error: (e) => new LmpiApiError(e),
      rejected: (res, retryable) => lmpiErrorFromResponse(METHOD, path, res.status, res.body, retryable, [this.creds.secretKey]),
      onRetry: (attempt, waitMs, reason) => this.opts.onEvent?.({ type: "retry", path, attempt, waitMs, reason }),
    });
  }

  private async once(path: string, payload: Buffer, signal?: AbortSignal): Promise<Answer> {
    // signed per attempt: a retry after a long backoff must carry a fresh time
    const started = this.opts.realNow();
    const headers = signedHeaders(this.creds, { method: METHOD, requestUri: path, body: payload }, started, (this.opts.traceId ?? randomUUID)());
    const res = await request(`${this.origin}${path}`, {
      method: METHOD,
      dispatcher: this.opts.dispatcher,
      headers: { ...headers, accept: "application/json" },
      body: payload,
      headersTimeout: this.opts.headersTimeoutMs ?? 30_000,
      bodyTimeout: this.opts.bodyTimeoutMs ?? 60_000,
      signal,
    });
    let raw: string;
    try {
      raw = await readCapped(res.body);
    } catch (e) {
      if (!(e instanceof BodyTooLargeError)) throw e;
      throw new LmpiApiError({ method: METHOD, path: LMPI_SUMMARY_PATH, status: res.statusCode, retryable: true, code: UNREADABLE_REPORT, apiMessage: e.message });
    }
    // an error body ends up in messages and logs: whatever of ours it echoes is cut out first
    const text = res.statusCode >= 200 && res.statusCode < 300 ? raw : scrubSecrets(raw, [this.creds.secretKey, this.creds.accessToken, headers["x-signature"]]);
    const contentType = String(res.headers["content-type"] ?? "");
    let body: unknown = text;
    if (/json/i.test(contentType) && text.trim() !== "") {
      try {
        body = JSON.parse(text);
      } catch {
        // keep the text: the error shows what came back
      }
    }
    this.opts.onEvent?.({ type: "response", path, status: res.statusCode, ms: this.opts.realNow() - started });
    return { status: res.statusCode, headers: res.headers, contentType, text, body };
  }
}
