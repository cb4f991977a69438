import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { FakeClock } from "../../../test/helpers/fake-clock.ts";
import { ApiError, UsageError } from "../../errors.ts";
import type { DetectionService, PolicyEventKind } from "../../ports/detection-source.ts";
import { startEmailSecuritySandbox, type EmailSecuritySandbox } from "../../sandbox/email-security-sandbox.ts";
import { EmailSecurityClient, emailSecurityOrigin, type EmailSecurityClientOptions } from "./email-security-client.ts";
import { EmailSecurityApiError } from "./email-security-error.ts";

// the fakes' clock: 2025-08-10T09:30:00Z
const NOW = Date.UTC(2025, 7, 10, 9, 30);
const HOUR = 3_600_000;
const DOMAIN = "acme.example";
const at = (ms: number) => new Date(ms);

describe("EmailSecurityClient against the TMES sandbox", () => {
  let sb: EmailSecuritySandbox;
  let busy: EmailSecuritySandbox;
  let hes: EmailSecuritySandbox;
  let clock: FakeClock;
  beforeAll(async () => {
    [sb, busy, hes] = await Promise.all([
      startEmailSecuritySandbox({ service: "tmes", now: () => NOW }),
      startEmailSecuritySandbox({ service: "tmes", now: () => NOW, eventsPerHour: 2000 }),
      startEmailSecuritySandbox({ service: "hes", now: () => NOW }),
    ]);
  });
  afterAll(() => Promise.all([sb.close(), busy.close(), hes.close()]));
  afterEach(() => {
    for (const s of [sb, busy, hes]) {
      s.requests.length = 0;
      s.faults.length = 0;
      s.setLogRetrieval(true);
    }
  });

  const client = (fake = sb, over: Partial<EmailSecurityClientOptions> & { apiKey?: string; service?: DetectionService } = {}) => {
    clock = new FakeClock(NOW);
    const { apiKey, service, ...opts } = over;
    return new EmailSecurityClient(
      { url: fake.url, account: fake.credentials.account, apiKey: apiKey ?? fake.credentials.apiKey },
      service ?? fake.service,
      { clock, random: () => 0.5, ...opts },
    );
  };

  /** The first whole hour, going back from NOW, that matches. */
  function findHour(fake: EmailSecuritySandbox, event: PolicyEventKind, ok: (events: { genTime: string }[]) => boolean): number {
    for (let h = Math.floor(NOW / HOUR) * HOUR - HOUR; h > NOW - 70 * HOUR; h -= HOUR) {
      if (ok(fake.eventsBetween(DOMAIN, event, at(h), at(h + HOUR)))) return h;
    }
    throw new Error("no such hour in the look-back");
  }

  /** A window ending at `end` that reaches back far enough to hold at least `count` events. */
  function windowWith(fake: EmailSecuritySandbox, count: number, end = NOW) {
    for (let back = HOUR; back < 70 * HOUR; back += HOUR) {
      if (fake.eventsBetween(DOMAIN, "spam", at(end - back), at(end)).length >= count) return { domain: DOMAIN, event: "spam" as const, start: at(end - back), end: at(end) };
    }
    throw new Error(`fewer than ${count} events in the look-back`);
  }

  it("pages through more than 5,000 events: exactly the seeded ones, 500 at a time, the same query on every page", async () => {
    const { start, end } = windowWith(busy, 5000, NOW - 30 * 60_000);
    const expected = busy.eventsBetween(DOMAIN, "spam", start, end);
    expect(expected.length).toBeGreaterThanOrEqual(5000);
    const events = await client(busy).policyEvents({ domain: DOMAIN, event: "spam", start, end });
    expect(events).toEqual(expected);
    expect(new Set(events.map((e) => e.messageID)).size).toBe(events.length);
    const pages = Math.ceil(expected.length / 500);
    expect(busy.requests).toHaveLength(expected.length % 500 === 0 ? pages + 1 : pages);
    expect(busy.requests.every((r) => r.status === 200 || r.status === 204)).toBe(true);
    for (const [i, r] of busy.requests.entries()) {
      const { token, ...rest } = r.query;
      // both directions: no `direction` filter is sent
      expect(rest).toEqual({ domain: DOMAIN, event: "spam", start: start.toISOString(), end: end.toISOString(), limit: "500" });
      expect(token === undefined).toBe(i === 0);
    }
    expect(events.some((e) => e.direction === "out")).toBe(true);
  });

  it("sends back each nextToken decoded once: `+`, `/` and `=` survive the round trip", async () => {
    await client(busy).policyEvents(windowWith(busy, 1000));
    expect(busy.requests.length).toBeGreaterThan(1);
    const token = busy.requests[1].query.token;
    // the token as the fake issued it: standard base64 with its special characters
    expect(token).toMatch(/\+/);
    expect(token).toMatch(/\//);
    expect(token).toMatch(/=$/);
    // on the wire it is percent-encoded exactly once
    expect(busy.requests[1].path).toContain(`token=${encodeURIComponent(token)}`);
    expect(busy.requests[1].path).not.toContain("%25");
  });

  it("a window without logs is one 204 and an empty list", async () => {
    const h = findHour(sb, "dlp", (e) => e.length === 0);
    expect(await client().policyEvents({ domain: DOMAIN, event: "dlp", start: at(h), end: at(h + HOUR) })).toEqual([]);
    expect(sb.requests.map((r) => r.status)).toEqual([204]);
  });

  it("windows are half-open: an event exactly at `end` is left to the next window, which counts it", async () => {
    const h = findHour(sb, "spam", (e) => e[0]?.genTime.endsWith(":00:00.000Z") === true);
    const boundary = sb.eventsBetween(DOMAIN, "spam", at(h), at(h + HOUR))[0];
    expect(boundary.genTime).toBe(at(h).toISOString());

    const before = await client().policyEvents({ domain: DOMAIN, event: "spam", start: at(h - HOUR), end: at(h) });
    expect(before).toEqual(sb.eventsBetween(DOMAIN, "spam", at(h - HOUR), at(h)));
    expect(before.map((e) => e.messageID)).not.toContain(boundary.messageID);
    // the API's `end` is inclusive: the fake did send it, the client dropped it
    expect(sb.requests.reduce((n, r) => n + (r.logs ?? 0), 0)).toBe(before.length + 1);

    const after = await client().policyEvents({ domain: DOMAIN, event: "spam", start: at(h), end: at(h + HOUR) });
    expect(after[0]).toEqual(boundary);
    expect(after).toEqual(sb.eventsBetween(DOMAIN, "spam", at(h), at(h + HOUR)));
  });

  it("an empty or reversed window asks nothing", async () => {
    expect(await client().policyEvents({ domain: DOMAIN, event: "spam", start: at(NOW), end: at(NOW) })).toEqual([]);
    expect(sb.requests).toHaveLength(0);
  });

  async function failure(promise: Promise<unknown>): Promise<EmailSecurityApiError> {
    const e = await promise.then(() => undefined, (e: unknown) => e);
    expect(e).toBeInstanceOf(ApiError);
    expect(e).toBeInstanceOf(EmailSecurityApiError);
    return e as EmailSecurityApiError;
  }

  let query: ReturnType<typeof windowWith>;
  beforeAll(() => {
    query = windowWith(sb, 1);
  });

  it("401: names TMES_ACCOUNT/TMES_API_KEY and the account that created the key, never the key", async () => {
    const apiKey = "wrong-api-key-1234567890";
    const e = await failure(client(sb, { apiKey }).policyEvents(query));
    expect(e).toMatchObject({ status: 401, code: "AuthenticationMissingOrInvalid", retryable: false, method: "GET", path: "/api/v1/log/policyeventlog" });
    expect(e.message).toMatch(/^Trend Micro Email Security GET \/api\/v1\/log\/policyeventlog answered 401 — AuthenticationMissingOrInvalid/);
    expect(e.message).toContain("check TMES_ACCOUNT/TMES_API_KEY (the API key must be used with the administrator account that created it");
    const basic = Buffer.from(`${sb.credentials.account}:${apiKey}`).toString("base64");
    for (const text of [e.message, String(e.stack), JSON.stringify(e)]) {
      expect(text).not.toContain(apiKey);
      expect(text).not.toContain(basic);
    }
    expect(sb.requests).toHaveLength(1);
  });

  it("the HES service names HES_* variables and Hosted Email Security", async () => {
    const e = await failure(client(hes, { apiKey: "not-the-hes-key" }).policyEvents(query));
    expect(e.message).toMatch(/^Hosted Email Security GET .* answered 401/);
    expect(e.message).toContain("check HES_ACCOUNT/HES_API_KEY");
    expect(e.message).not.toContain("TMES");
  });

  it("403: a permission problem, not retried", async () => {
    sb.faults.push({ kind: "status", status: 403 });
    const e = await failure(client().policyEvents(query));
    expect(e).toMatchObject({ status: 403, code: "AuthorizationRequestDenied", retryable: false });
    expect(e.message).toContain("TMES_ACCOUNT may not read policy event logs");
    expect(e.message).toContain("permission");
    expect(sb.requests).toHaveLength(1);
  });

  it("404 ResourceNotAvailable: log retrieval is not enabled, and where to enable it", async () => {
    sb.setLogRetrieval(false);
    const e = await failure(client().policyEvents(query));
    expect(e).toMatchObject({ status: 404, code: "ResourceNotAvailable", retryable: false });
    expect(e.message).toContain("log retrieval is not enabled for this account: enable it in Administration > Service Integration > Log Retrieval");
  });

  it("400: a request the service refuses is reported as a bug to report", async () => {
    sb.faults.push({ kind: "status", status: 400, body: { code: "InvalidFormat", message: "start is invalid" } });
    const e = await failure(client().policyEvents(query));
    expect(e).toMatchObject({ status: 400, code: "InvalidFormat", apiMessage: "start is invalid", retryable: false });
    expect(e.message).toContain("please report this");
  });

  it("503 then success: retried after a backoff, the page asked again", async () => {
    sb.faults.push({ kind: "status", status: 503 });
    const events = await client().policyEvents(query);
    expect(events).toEqual(sb.eventsBetween(DOMAIN, "spam", query.start, query.end));
    expect(sb.requests.map((r) => r.status)).toEqual([503, 200]);
    expect(sb.requests[1].query).toEqual(sb.requests[0].query);
    expect(clock.sleeps).toEqual([250]);
  });

  it("a lost connection in the middle of paging: the same page is asked again, with the same token", async () => {
    const q = windowWith(busy, 1500);
    // the second page meets a lost connection
    busy.faults.push({ kind: "pass" }, { kind: "reset" });
    const events = await client(busy).policyEvents(q);
    expect(events).toEqual(busy.eventsBetween(DOMAIN, "spam", q.start, q.end));
    expect(busy.requests.map((r) => r.fault ?? r.status).slice(0, 3)).toEqual([200, "reset", 200]);
    expect(busy.requests[1].query.token).toBeDefined();
    expect(busy.requests[2].query).toEqual(busy.requests[1].query);
    expect(clock.sleeps).toEqual([250]);
  });

  it("a service that pages for ever: stops at maxPages, or at once when a token repeats, with email-security.endless-paging naming the domain", async () => {
    sb.setEndlessTokens(true);
    try {
      const e = await failure(client(sb, { maxPages: 7 }).policyEvents(query));
      expect(e).toMatchObject({ status: 200, code: "email-security.endless-paging", retryable: false });
      expect(e.message).toContain(`still a \`nextToken\` after 7 pages (3500 events at most) for ${DOMAIN} (event spam, `);
      expect(sb.requests).toHaveLength(7);
    } finally {
      sb.setEndlessTokens(false);
    }
    sb.requests.length = 0;
    const page = { logs: [], nextToken: "same" };
    sb.faults.push({ kind: "status", status: 200, body: page }, { kind: "status", status: 200, body: page });
    const again = await failure(client().policyEvents(query));
    expect(again.code).toBe("email-security.endless-paging");
    expect(again.message).toContain("`nextToken` repeats a token already followed, after 2 pages");
    expect(sb.requests).toHaveLength(2);
  });

  it("a 2xx that is not a page (202, HTML, an object without `logs`) is email-security.unreadable, not retried, and scrubbed", async () => {
    sb.faults.push({ kind: "status", status: 202, body: { accepted: true } });
    expect(await failure(client().policyEvents(query))).toMatchObject({ status: 202, code: "email-security.unreadable" });
    sb.faults.push({ kind: "html" });
    const html = await failure(client().policyEvents(query));
    expect(html.message).toContain("email-security.unreadable: the answer is not a JSON object with `logs` (not JSON; content-type text/html; charset=utf-8; starts `<!DOCTYPE html>");
    sb.faults.push({ kind: "status", status: 200, body: { error: `echo ${sb.credentials.apiKey}` } });
    const echo = await failure(client().policyEvents(query));
    expect(echo.message).toContain("the answer has no `logs` array");
    expect(sb.requests).toHaveLength(3);
  });

  it("429 waits as long as Retry-After asks; gives up after the retries with a retryable error", async () => {
    sb.faults.push({ kind: "status", status: 429, retryAfter: "3" });
    await client().policyEvents(query);
    expect(clock.sleeps).toEqual([3000]);
    sb.requests.length = 0;
    for (let i = 0; i < 3; i++) sb.faults.push({ kind: "status", status: 500 });
    const e = await failure(client(sb, { retries: 2 }).policyEvents(query));
    expect(e).toMatchObject({ status: 500, code: "InternalServerError", retryable: true });
    expect(sb.requests).toHaveLength(3);
  });
});

describe("TMES_URL/HES_URL", () => {
  it("is scheme, host and optional port; a trailing slash is fine", () => {
    expect(emailSecurityOrigin("https://api.tmes.trendmicro.eu/", "tmes")).toBe("https://api.tmes.trendmicro.eu");
    expect(emailSecurityOrigin("http://127.0.0.1:8080", "hes")).toBe("http://127.0.0.1:8080");
  });

  it("a path is refused, naming the variable and the path cwsync appends", () => {
    expect(() => emailSecurityOrigin("https://api.tmes.trendmicro.com/api/v1", "tmes")).toThrow(UsageError);
    expect(() => emailSecurityOrigin("https://api.tmes.trendmicro.com/api/v1", "tmes")).toThrow(/^TMES_URL must be .* appends \/api\/v1\/log\/policyeventlog/);
    expect(() => emailSecurityOrigin("hes.example", "hes")).toThrow(/^HES_URL is not a URL/);
  });
});
