import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UsageError } from "../errors.ts";
import { categorize } from "../core/detection-categories.ts";
import { POLICY_EVENT_KINDS } from "../ports/detection-source.ts";
import { startEmailSecuritySandbox, type EmailSecuritySandbox } from "./email-security-sandbox.ts";

const NOW = Date.UTC(2025, 7, 10, 9, 30);
const HOUR = 3_600_000;
const MIN = 60_000;
const DOMAIN = "acme.example";
const iso = (ms: number) => new Date(ms).toISOString();

type Answer = { status: number; json?: Record<string, unknown>; text: string };

/** `auth` null: no Authorization header. */
async function get(sb: EmailSecuritySandbox, params: Record<string, string>, auth: string | null = basic(sb)): Promise<Answer> {
  const res = await request(`${sb.url}/api/v1/log/policyeventlog?${new URLSearchParams(params)}`, { headers: auth ? { authorization: auth } : {} });
  const text = await res.body.text();
  const json = /json/.test(String(res.headers["content-type"])) ? (JSON.parse(text) as Record<string, unknown>) : undefined;
  return { status: res.statusCode, text, json };
}

function basic(sb: EmailSecuritySandbox, apiKey = sb.credentials.apiKey) {
  return "Basic " + Buffer.from(`${sb.credentials.account}:${apiKey}`).toString("base64");
}

const genTimes = (a: Answer) => ((a.json?.logs ?? []) as { genTime: string }[]).map((l) => l.genTime);

describe("email security sandbox", () => {
  let sb: EmailSecuritySandbox;
  beforeAll(async () => {
    sb = await startEmailSecuritySandbox({ service: "tmes", now: () => NOW, eventsPerHour: 60 });
  });
  afterAll(() => sb.close());

  it("listens on 127.0.0.1 only", async () => {
    expect(sb.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await expect(startEmailSecuritySandbox({ service: "tmes", listen: { host: "0.0.0.0" } })).rejects.toThrow(UsageError);
  });

  it("401 AuthenticationMissingOrInvalid without Basic account:apiKey, or with a wrong key", async () => {
    const params = { domain: DOMAIN, event: "spam" };
    for (const auth of [null, basic(sb, "wrong"), "Bearer x", `Basic ${Buffer.from(sb.credentials.apiKey).toString("base64")}`]) {
      const a = await get(sb, params, auth);
      expect(a.status, String(auth)).toBe(401);
      expect(a.json).toEqual({ code: "AuthenticationMissingOrInvalid", message: expect.any(String) });
    }
    expect((await get(sb, { ...params, start: iso(NOW - 4 * HOUR), end: iso(NOW) })).status).toBe(200);
    expect(JSON.stringify(sb.requests)).not.toContain(sb.credentials.apiKey);
  });

  it("400 InvalidFormat for a bad date, an unknown event, a bad limit or direction; IllegalCharacter for a bad domain", async () => {
    const bad: Record<string, string>[] = [
      { start: "2025-08-10 09:00:00" }, { end: "2025-08-10T09:00:00+02:00" }, { start: "2025-13-01T00:00:00Z" },
      { event: "virus" }, { limit: "501" }, { limit: "0" }, { direction: "both" },
      { start: iso(NOW), end: iso(NOW - MIN) }, { token: "not-a-token" },
    ];
    for (const p of bad) {
      const a = await get(sb, { domain: DOMAIN, ...p });
      expect(a.status, JSON.stringify(p)).toBe(400);
      expect(a.json?.code, JSON.stringify(p)).toBe("InvalidFormat");
    }
    expect((await get(sb, { domain: "acme example" })).json?.code).toBe("IllegalCharacter");
  });

  it("without start/end, the last 5 minutes; only start, the 5 minutes after it; only end, the 5 minutes before it", async () => {
    // a fake whose clock reads 2 minutes after a seeded event, so every default window holds one
    const e = sb.eventsBetween(DOMAIN, "spam", new Date(NOW - 6 * HOUR), new Date(NOW))[0];
    const te = Date.parse(e.genTime);
    const later = await startEmailSecuritySandbox({ service: "tmes", now: () => te + 2 * MIN, eventsPerHour: 60 });
    try {
      const window = (from: number, to: number) => later.eventsBetween(DOMAIN, "spam", new Date(from), new Date(to + 1)).map((x) => x.genTime);
      const span = async (p: Record<string, string>) => genTimes(await get(later, { domain: DOMAIN, event: "spam", ...p }));
      const none = await span({});
      expect(none).toContain(e.genTime);
      expect(none).toEqual(window(te - 3 * MIN, te + 2 * MIN));
      const onlyStart = await span({ start: iso(te - 4 * MIN) });
      expect(onlyStart).toContain(e.genTime);
      expect(onlyStart).toEqual(window(te - 4 * MIN, te + MIN));
      const onlyEnd = await span({ end: iso(te + MIN) });
      expect(onlyEnd).toContain(e.genTime);
      expect(onlyEnd).toEqual(window(te - 4 * MIN, te + MIN));
      // 6 minutes before the event, its 5-minute window ends a minute too soon
      expect(await span({ start: iso(te - 6 * MIN) })).not.toContain(e.genTime);
    } finally {
      await later.close();
    }
  });

  it("serves at most 72 hours back: an older start is clamped, not refused; nothing after now", async () => {
    const start = NOW - 80 * HOUR;
    const a = await get(sb, { domain: DOMAIN, event: "spam", start: iso(start), end: iso(start + 10 * HOUR), limit: "500" });
    const expected = sb.eventsBetween(DOMAIN, "spam", new Date(NOW - 72 * HOUR), new Date(start + 10 * HOUR + 1)).map((e) => e.genTime);
    expect(sb.eventsBetween(DOMAIN, "spam", new Date(start), new Date(NOW - 72 * HOUR)).length).toBeGreaterThan(0);
    expect(expected.length).toBeGreaterThan(0);
    expect(a.status).toBe(200);
    expect(genTimes(a)).toEqual(expected);
    expect((await get(sb, { domain: DOMAIN, event: "spam", start: iso(NOW - 90 * HOUR), end: iso(NOW - 73 * HOUR) })).status).toBe(204);
    const future = await get(sb, { domain: DOMAIN, event: "spam", start: iso(NOW - 10 * MIN), end: iso(NOW + 3 * HOUR) });
    expect(genTimes(future).every((t) => Date.parse(t) <= NOW)).toBe(true);
  });

  it("both bounds are inclusive, as the API's are", async () => {
    const all = sb.eventsBetween(DOMAIN, "spam", new Date(NOW - 3 * HOUR), new Date(NOW));
    const t = Date.parse(all[1].genTime);
    const a = await get(sb, { domain: DOMAIN, event: "spam", start: iso(t), end: iso(t) });
    expect(genTimes(a)).toContain(all[1].genTime);
  });

  it("pages with limit and an opaque URL-encoded nextToken holding `+/=`; a full last page is followed by 204", async () => {
    const start = NOW - 6 * HOUR;
    const expected = sb.eventsBetween(DOMAIN, "threat", new Date(start), new Date(NOW + 1)).map((e) => e.messageID);
    expect(expected.length).toBeGreaterThan(20);
    const limit = expected.length % 7 === 0 ? 7 : expected.length % 5 === 0 ? 5 : 3;
    const seen: string[] = [];
    let token: string | undefined;
    const statuses: number[] = [];
    for (;;) {
      const a = await get(sb, { domain: DOMAIN, event: "threat", start: iso(start), end: iso(NOW), limit: String(limit), ...(token ? { token } : {}) });
      statuses.push(a.status);
      if (a.status === 204) {
        expect(a.text).toBe("");
        break;
      }
      seen.push(...((a.json!.logs as { messageID: string }[]).map((l) => l.messageID)));
      const next = a.json!.nextToken as string | undefined;
      if (!next) break;
      expect(next).toMatch(/%2B/);
      expect(next).toMatch(/%2F/);
      expect(next).toMatch(/%3D$/);
      token = decodeURIComponent(next);
    }
    expect(seen).toEqual(expected);
    expect(statuses.at(-1)).toBe(expected.length % limit === 0 ? 204 : 200);
    // the token as received, still encoded, is not a token; nor is one for another query
    const first = await get(sb, { domain: DOMAIN, event: "threat", start: iso(start), end: iso(NOW), limit: String(limit) });
    const encoded = first.json!.nextToken as string;
    expect((await get(sb, { domain: DOMAIN, event: "threat", start: iso(start), end: iso(NOW), limit: String(limit), token: encoded })).status).toBe(400);
    expect((await get(sb, { domain: DOMAIN, event: "spam", start: iso(start), end: iso(NOW), token: decodeURIComponent(encoded) })).json?.code).toBe("InvalidFormat");
  });

  it("seeds believable logs: the real vocabulary, unique messageIDs, some on the hour, some quiet hours", () => {
    const from = new Date(NOW - 70 * HOUR);
    const to = new Date(NOW);
    const hours = new Set<number>();
    const boundaries: string[] = [];
    const unknown: string[] = [];
    let total = 0;
    const ids = new Set<string>();
    for (const kind of POLICY_EVENT_KINDS) {
      for (const e of sb.eventsBetween(DOMAIN, kind, from, to)) {
        total++;
        ids.add(e.messageID);
        hours.add(Math.floor(Date.parse(e.genTime) / HOUR));
        if (e.genTime.endsWith(":00:00.000Z")) boundaries.push(e.genTime);
        const c = categorize(kind, e.eventType, e.eventSubtype);
        expect(c.category.startsWith("other:"), `${kind} ${e.eventType}/${e.eventSubtype}`).toBe(false);
        if (c.unknown) unknown.push(c.unknown);
        expect(e.domainName).toBe(DOMAIN);
      }
    }
    expect(ids.size).toBe(total);
    expect(boundaries.length).toBeGreaterThan(3);
    expect(new Set(unknown)).toEqual(new Set(["Spam/Unusual signal"]));
    const spamHours = sb.eventsBetween(DOMAIN, "spam", from, to).map((e) => Math.floor(Date.parse(e.genTime) / HOUR));
    expect(new Set(spamHours).size).toBeLessThan(70);
    expect(new Set(spamHours).size).toBeGreaterThan(30);
  });

  it("is deterministic: two fakes with the same seed serve the same events; another seed or service, others", async () => {
    const other = await startEmailSecuritySandbox({ service: "tmes", now: () => NOW, eventsPerHour: 60 });
    const reseeded = await startEmailSecuritySandbox({ service: "tmes", now: () => NOW, eventsPerHour: 60, seed: 2 });
    const hes = await startEmailSecuritySandbox({ service: "hes", now: () => NOW, eventsPerHour: 60 });
    try {
      const params = { domain: DOMAIN, event: "spam", start: iso(NOW - 4 * HOUR), end: iso(NOW) };
      const a = await get(sb, params);
      expect(a.status).toBe(200);
      expect((await get(other, params)).text).toBe(a.text);
      expect((await get(reseeded, params)).text).not.toBe(a.text);
      const h = await get(hes, params);
      expect(h.text).not.toBe(a.text);
      expect(hes.credentials).not.toEqual(sb.credentials);
      expect((await get(hes, params, basic(sb))).status).toBe(401);
    } finally {
      await Promise.all([other.close(), reseeded.close(), hes.close()]);
    }
  });

  it("log retrieval off: 404 ResourceNotAvailable after authentication; faults come first", async () => {
    sb.setLogRetrieval(false);
    try {
      expect((await get(sb, { domain: DOMAIN })).json).toEqual({ code: "ResourceNotAvailable", message: expect.any(String) });
      expect((await get(sb, { domain: DOMAIN }, null)).status).toBe(401);
    } finally {
      sb.setLogRetrieval(true);
    }
    sb.faults.push({ kind: "status", status: 503, retryAfter: "2" }, { kind: "status", status: 403 });
    const a = await get(sb, { domain: DOMAIN });
    expect(a).toMatchObject({ status: 503, text: "503 Service Unavailable" });
    expect((await get(sb, { domain: DOMAIN })).json).toEqual({ code: "AuthorizationRequestDenied", message: expect.any(String) });
  });

  it("with the account's domains, a request naming none gets all of theirs, and other domains have none", async () => {
    const own = await startEmailSecuritySandbox({ service: "tmes", now: () => NOW, eventsPerHour: 60, domains: ["acme.example", "northwind.example"] });
    try {
      const params = { event: "phishing", start: iso(NOW - 24 * HOUR), end: iso(NOW) };
      const a = await get(own, params);
      const names = new Set(((a.json?.logs ?? []) as { domainName: string }[]).map((l) => l.domainName));
      expect(names).toEqual(new Set(["acme.example", "northwind.example"]));
      expect((await get(own, { ...params, domain: "contoso.example" })).status).toBe(204);
    } finally {
      await own.close();
    }
  });
});

describe("email security sandbox: fault modes of real services", () => {
  let sb: EmailSecuritySandbox;
  let multi: EmailSecuritySandbox;
  let clock = NOW;
  beforeAll(async () => {
    [sb, multi] = await Promise.all([
      startEmailSecuritySandbox({ service: "tmes", now: () => clock }),
      startEmailSecuritySandbox({ service: "tmes", now: () => clock, multiEventMessages: true }),
    ]);
  });
  afterAll(() => Promise.all([sb.close(), multi.close()]));

  it("late events: served only `delayMs` after their genTime, while eventsBetween still holds them", async () => {
    const window = { domain: DOMAIN, event: "spam", start: iso(NOW - 3 * HOUR), end: iso(NOW) };
    const all = sb.eventsBetween(DOMAIN, "spam", new Date(NOW - 3 * HOUR), new Date(NOW));
    sb.setLateEvents({ delayMs: 2 * HOUR });
    try {
      const early = genTimes(await get(sb, window));
      expect(early).toEqual(all.filter((e) => Date.parse(e.genTime) <= NOW - 2 * HOUR).map((e) => e.genTime));
      expect(early.length).toBeLessThan(all.length);
      clock = NOW + 2 * HOUR;
      expect(genTimes(await get(sb, window))).toEqual(all.map((e) => e.genTime));
    } finally {
      clock = NOW;
      sb.setLateEvents(undefined);
    }
  });

  it("several events per message: same messageID, another type; paging one log at a time returns each event once", async () => {
    const start = NOW - 24 * HOUR;
    const want = multi.eventsBetween(DOMAIN, "threat", new Date(start), new Date(NOW));
    const shared = want.filter((e, i) => want.findIndex((x) => x.messageID === e.messageID) !== i);
    expect(shared.length).toBeGreaterThan(5);
    for (const e of shared) {
      const first = want.find((x) => x.messageID === e.messageID)!;
      expect(`${first.eventType}/${first.eventSubtype}`).not.toBe(`${e.eventType}/${e.eventSubtype}`);
      expect(first.genTime).toBe(e.genTime);
    }
    const got: string[] = [];
    let token: string | undefined;
    do {
      const a = await get(multi, { domain: DOMAIN, event: "threat", start: iso(start), end: iso(NOW - 1), limit: "1", ...(token ? { token: decodeURIComponent(token) } : {}) });
      if (a.status === 204) break;
      const logs = a.json!.logs as { messageID: string; eventType: string; eventSubtype?: string }[];
      got.push(...logs.map((l) => `${l.messageID} ${l.eventType} ${l.eventSubtype}`));
      token = a.json!.nextToken as string | undefined;
    } while (token);
    expect(got).toEqual(want.map((l) => `${l.messageID} ${l.eventType} ${l.eventSubtype}`));
  });

  it("an echo-auth fault answers 401 with a body that echoes the Authorization header, encoded and decoded", async () => {
    sb.faults.push({ kind: "echo-auth" });
    const a = await get(sb, { domain: DOMAIN, event: "spam", start: iso(NOW - HOUR), end: iso(NOW) });
    expect(a.status).toBe(401);
    expect(a.json?.code).toBe("AuthenticationMissingOrInvalid");
    expect(a.json?.message).toContain(basic(sb));
    expect(a.json?.message).toContain(`${sb.credentials.account}:${sb.credentials.apiKey}`);
    expect(sb.requests.at(-1)).toMatchObject({ status: 401, fault: "echo-auth", code: "AuthenticationMissingOrInvalid" });
  });

  it("endless tokens, an HTML 200 and truncated JSON, as broken services and proxies answer", async () => {
    const params = { domain: DOMAIN, event: "spam", start: iso(NOW - 4 * HOUR), end: iso(NOW) };
    sb.setEndlessTokens(true);
    const tokens = [];
    for (let i = 0; i < 3; i++) {
      const a = await get(sb, params);
      expect(a.json?.logs).toEqual([]);
      tokens.push(a.json?.nextToken);
    }
    expect(new Set(tokens).size).toBe(3);
    sb.setEndlessTokens(false);

    sb.faults.push({ kind: "html" }, { kind: "truncated" });
    const html = await get(sb, params);
    expect(html.status).toBe(200);
    expect(html.text).toMatch(/^<!DOCTYPE html>/);
    const cut = await request(`${sb.url}/api/v1/log/policyeventlog?${new URLSearchParams(params)}`, { headers: { authorization: basic(sb) } });
    expect(cut.statusCode).toBe(200);
    expect(cut.headers["content-type"]).toMatch(/application\/json/);
    const text = await cut.body.text();
    expect(() => JSON.parse(text)).toThrow();
    expect(text).toMatch(/^\{"logs":\[/);
  });
});
