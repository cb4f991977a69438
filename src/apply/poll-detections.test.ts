import { mkdtempSync, rmSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { FakeClock } from "../../test/helpers/fake-clock.ts";
import { EmailSecurityClient } from "../adapters/email-security/email-security-client.ts";
import { openStateStore } from "../adapters/state-sqlite/open-state-store.ts";
import { categorize } from "../core/detection-categories.ts";
import type { PollTarget } from "../core/poll-targets.ts";
import { POLICY_EVENT_KINDS, type DetectionService, type DetectionSource, type PolicyEvent, type PolicyEventKind } from "../ports/detection-source.ts";
import { LeaseLostError, type StateStore } from "../ports/state-store.ts";
import { startEmailSecuritySandbox, type EmailSecuritySandbox } from "../sandbox/email-security-sandbox.ts";
import { BEFORE_POLLING, DEFAULT_POLL_LAG_MS, eventIdentity, pollDetections, type PollDeps } from "./poll-detections.ts";

const HOUR = 3_600_000;
/** The cursor stays this far behind each poll's `now` (CWSYNC_POLL_LAG unset). */
const LAG = DEFAULT_POLL_LAG_MS;
/** The instant of the first poll in most tests (a Wednesday, whole hour, UTC). */
const T = Date.parse("2027-03-10T12:00:00Z");
/** The real clock, as the poller stamps found gaps with it. */
const REAL = Date.parse("2027-03-20T08:00:00Z");
const ACME = "acme.example";
const BETA = "beta.example";
const iso = (ms: number) => new Date(ms).toISOString();
const target = (event: PolicyEventKind, extra: Partial<PollTarget> = {}): PollTarget => ({ customer: "acme", service: "tmes", domain: ACME, event, timezone: "UTC", ...extra });

const fakeNow = { ms: T };
let tmes: EmailSecuritySandbox;
let hes: EmailSecuritySandbox;
beforeAll(async () => {
  [tmes, hes] = await Promise.all([
    startEmailSecuritySandbox({ service: "tmes", now: () => fakeNow.ms }),
    startEmailSecuritySandbox({ service: "hes", now: () => fakeNow.ms }),
  ]);
});
afterAll(() => Promise.all([tmes.close(), hes.close()]));

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
  for (const f of [tmes, hes]) {
    f.requests.length = 0;
    f.faults.length = 0;
    f.setLogRetrieval(true);
  }
});

const client = (fake: EmailSecuritySandbox): DetectionSource =>
  new EmailSecurityClient({ url: fake.url, ...fake.credentials }, fake.service, { clock: new FakeClock(T), random: () => 0 });

/** A real state store in a temp dir, with the lease held. */
function held(): { store: StateStore; token: number } {
  const dir = mkdtempSync(join(tmpdir(), "cwsync-poll-"));
  const store = openStateStore(dir);
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }), () => store.close());
  const lease = store.acquireLease(`${process.pid}@${hostname()}`, 30_000, 0);
  if (!lease.ok) throw new Error("lease not taken");
  return { store, token: lease.token };
}

/** Polls as the reconciler does: the fakes' clock reads `now`, the poller polls up to it. */
function poll(targets: readonly PollTarget[], now: number, deps: Pick<PollDeps, "store" | "token"> & Partial<PollDeps>) {
  fakeNow.ms = now;
  return pollDetections(targets, { sources: { tmes: client(tmes), hes: client(hes) }, now: new Date(now), realNow: () => REAL, ...deps });
}

/** The local hour an event falls in, for a zone at a fixed offset from UTC (minutes). */
const bucket = (ms: number, offsetMin: number) => iso(Math.floor((ms + offsetMin * 60_000) / HOUR) * HOUR - offsetMin * 60_000);

/** What the counters must hold: the fake's seeded events, categorized and bucketed independently of the poller. */
function expected(
  fake: EmailSecuritySandbox, targets: readonly PollTarget[], spans: readonly [number, number][], offsetMin = 0,
): Record<string, number> {
  const out: Record<string, number> = {};
  const add = (k: string) => void (out[k] = (out[k] ?? 0) + 1);
  for (const t of targets) {
    for (const [from, to] of spans) {
      for (const e of fake.eventsBetween(t.domain, t.event, new Date(from), new Date(to))) {
        const c = categorize(t.event, e.eventType, e.eventSubtype);
        const hour = bucket(Date.parse(e.genTime), offsetMin);
        add(`${hour} ${t.domain} ${c.category}`);
        if (c.unknown) add(`${hour} ${t.domain} unknown:${c.unknown}`);
      }
    }
  }
  return out;
}

/** What the counters hold, in the same shape. */
function stored(store: StateStore, service: DetectionService, from: number, to: number, customer = "acme"): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of store.detectionCounts(customer, service, iso(from), iso(to))) out[`${c.hour} ${c.domain} ${c.category}`] = c.count;
  return out;
}

const total = (counts: Record<string, number>) => Object.entries(counts).filter(([k]) => !k.includes(" unknown:")).reduce((n, [, v]) => n + v, 0);
const cursorsOf = (store: StateStore) => store.pollCursors().map((c) => `${c.service} ${c.domain} ${c.event} ${c.at}`);

describe("pollDetections against the TMES fake and a real state store", () => {
  it("counts exactly the fake's events per local hour, domain and category, across two polls", async () => {
    const { store, token } = held();
    const targets = [ACME, BETA].flatMap((domain) => POLICY_EVENT_KINDS.map((event) => target(event, { domain })));
    const first = await poll(targets, T, { store, token });
    const later = T + 2 * HOUR + 17 * 60_000;
    const second = await poll(targets, later, { store, token });

    const want = expected(tmes, targets, [[T - 72 * HOUR, later]]);
    expect(stored(store, "tmes", T - 80 * HOUR, T + 3 * HOUR)).toEqual(want);
    // the vocabulary is exercised: every category of the table, and the spam subtype the table does not know
    const categories = new Set(Object.keys(want).map((k) => k.split(" ").slice(2).join(" ")));
    expect([...categories].sort()).toEqual([
      "advanced-threats", "bec", "content-filter", "dlp", "graymail", "malware", "phishing", "ransomware",
      "scan-exceptions", "spam", "spoofing", "suspicious-objects", "unknown:Spam/Unusual signal", "web-reputation",
    ]);
    expect(first.events + second.events).toBe(total(want));
    expect({ ...first, events: 0 }).toEqual({ targets: 12, polls: 12, events: 0, gaps: 0, errors: [], readTo: iso(T) });
    expect(cursorsOf(store)).toEqual([ACME, BETA].flatMap((d) => [...POLICY_EVENT_KINDS].sort().map((e) => `tmes ${d} ${e} ${iso(later - LAG)}`)));
    // before the first poll nothing was read: a report reaching back there says so
    expect(new Set(store.pollGaps("acme", "tmes", iso(0), iso(later)).map((g) => `${g.start} ${g.end}`))).toEqual(new Set([`${BEFORE_POLLING} ${iso(T - 72 * HOUR)}`]));
  });

  it("counts an event exactly on a window boundary once, in the window that starts there", async () => {
    const { store, token } = held();
    const spam = target("spam");
    // an hour whose first event the fake places exactly on HH:00:00.000Z
    let h = Math.floor(T / HOUR) * HOUR - 2 * HOUR;
    while (tmes.eventsBetween(ACME, "spam", new Date(h), new Date(h + 1)).length === 0) h -= HOUR;
    expect(h).toBeGreaterThan(T - 60 * HOUR);
    const onTheHour = tmes.eventsBetween(ACME, "spam", new Date(h), new Date(h + 1))[0];

    await poll([spam], h, { store, token });
    // the API's `end` is inclusive: the fake did serve the boundary event to the first window
    expect(tmes.requests.reduce((n, r) => n + (r.logs ?? 0), 0)).toBe(tmes.eventsBetween(ACME, "spam", new Date(h - 72 * HOUR), new Date(h + 1)).length);
    expect(stored(store, "tmes", h, h + HOUR)).toEqual({});
    await poll([spam], h + HOUR, { store, token });

    expect(stored(store, "tmes", h - 80 * HOUR, h + 2 * HOUR)).toEqual(expected(tmes, [spam], [[h - 72 * HOUR, h + HOUR]]));
    const inHour = tmes.eventsBetween(ACME, "spam", new Date(h), new Date(h + HOUR));
    expect(inHour[0].messageID).toBe(onTheHour.messageID);
    expect(total(stored(store, "tmes", h, h + HOUR))).toBe(inHour.length);
  });

  it("counts an event the service serves again in the next window once (the cursor's boundary ids)", async () => {
    const { store, token } = held();
    const spam = target("spam");
    const events = tmes.eventsBetween(ACME, "spam", new Date(T - 48 * HOUR), new Date(T - 2 * HOUR));
    const e = events.find((x) => Date.parse(x.genTime) % 1000 < 500)!;
    // the first window ends 0.5 s after the event: it lies in the window's last second
    const cut = Date.parse(e.genTime) - (Date.parse(e.genTime) % 1000) + 500;
    await poll([spam], cut, { store, token });
    expect(store.pollCursors()[0].boundaryIds).toContain(eventIdentity(e));

    // a source whose windows overlap the previous one by a second, as an API rounding its `start` down would
    const served: PolicyEvent[] = [];
    const inner = client(tmes);
    const overlapping: DetectionSource = {
      service: "tmes",
      policyEvents: async (q, signal) => {
        const got = await inner.policyEvents({ ...q, start: new Date(q.start.getTime() - 1000) }, signal);
        served.push(...got);
        return got;
      },
    };
    await poll([spam], cut + HOUR, { store, token, sources: { tmes: overlapping } });
    expect(served.map((x) => x.messageID)).toContain(e.messageID);
    expect(stored(store, "tmes", cut - 80 * HOUR, cut + 2 * HOUR)).toEqual(expected(tmes, [spam], [[cut - 72 * HOUR, cut + HOUR]]));
  });

  it("after 4 days without polling, records the lost span [old cursor, now − 72 h) as a gap and reads only the last 72 hours", async () => {
    const { store, token } = held();
    const spam = target("spam");
    await poll([spam], T, { store, token });
    tmes.requests.length = 0;
    const back = T + 96 * HOUR;
    const r = await poll([spam], back, { store, token });

    expect(r.gaps).toBe(1);
    expect(store.pollGaps("acme", "tmes", iso(T), iso(back))).toEqual([
      { customer: "acme", service: "tmes", domain: ACME, event: "spam", start: iso(T - LAG), end: iso(T + 24 * HOUR), detectedAt: iso(REAL) },
    ]);
    expect(tmes.requests[0].query).toMatchObject({ domain: ACME, event: "spam", start: iso(T + 24 * HOUR), end: iso(back) });
    expect(stored(store, "tmes", T, T + 24 * HOUR)).toEqual({});
    expect(stored(store, "tmes", T - 80 * HOUR, back)).toEqual(expected(tmes, [spam], [[T - 72 * HOUR, T], [T + 24 * HOUR, back]]));
    expect(cursorsOf(store)).toEqual([`tmes ${ACME} spam ${iso(back - LAG)}`]);
  });

  it("loses nothing and counts nothing twice when storing one target's poll fails after its events were read", async () => {
    const { store, token } = held();
    const targets = [target("spam"), target("phishing")];
    await poll(targets, T, { store, token });

    // the store fails once, between reading the spam events and storing them
    let failures = 1;
    const failing = new Proxy(store, {
      get(s, prop) {
        if (prop !== "commitPoll") return Reflect.get(s, prop);
        return (p: Parameters<StateStore["commitPoll"]>[0], t: number) => {
          if (p.cursor.event === "spam" && failures-- > 0) throw new Error("disk I/O error");
          s.commitPoll(p, t);
        };
      },
    });
    const crashed = await poll(targets, T + 3 * HOUR, { store: failing, token });
    expect(crashed.errors).toEqual([{ customer: "acme", service: "tmes", domain: ACME, message: "disk I/O error" }]);
    expect(cursorsOf(store)).toEqual([`tmes ${ACME} phishing ${iso(T + 3 * HOUR - LAG)}`, `tmes ${ACME} spam ${iso(T - LAG)}`]);
    expect(stored(store, "tmes", T, T + 3 * HOUR)).toEqual(expected(tmes, [target("phishing")], [[T, T + 3 * HOUR]]));

    await poll(targets, T + 5 * HOUR, { store, token });
    expect(stored(store, "tmes", T - 80 * HOUR, T + 6 * HOUR)).toEqual(expected(tmes, targets, [[T - 72 * HOUR, T + 5 * HOUR]]));
  });

  it("stops without writing when another cwsync took the lease, and the next holder polls the same events once", async () => {
    const { store, token } = held();
    const targets = [target("spam"), target("threat")];
    await poll(targets, T, { store, token });
    const before = stored(store, "tmes", T - 80 * HOUR, T + 6 * HOUR);
    const taken = store.acquireLease("7@elsewhere", 30_000, 30_001);
    expect(taken.ok).toBe(true);

    await expect(poll(targets, T + 3 * HOUR, { store, token })).rejects.toBeInstanceOf(LeaseLostError);
    expect(cursorsOf(store)).toEqual([`tmes ${ACME} spam ${iso(T - LAG)}`, `tmes ${ACME} threat ${iso(T - LAG)}`]);
    expect(stored(store, "tmes", T - 80 * HOUR, T + 6 * HOUR)).toEqual(before);

    const again = store.acquireLease(`${process.pid}@${hostname()}`, 30_000, 70_000);
    if (!again.ok) throw new Error("lease not taken back");
    await poll(targets, T + 5 * HOUR, { store, token: again.token });
    expect(stored(store, "tmes", T - 80 * HOUR, T + 6 * HOUR)).toEqual(expected(tmes, targets, [[T - 72 * HOUR, T + 5 * HOUR]]));
  });

  it("buckets a +05:30 customer's events on its local hours, which start at :30 UTC, so its local day adds up exactly", async () => {
    const { store, token } = held();
    const kolkata = [target("spam", { timezone: "Asia/Kolkata" }), target("threat", { timezone: "Asia/Kolkata" })];
    await poll(kolkata, T, { store, token });

    const counts = stored(store, "tmes", T - 80 * HOUR, T);
    expect(Object.keys(counts).length).toBeGreaterThan(50);
    expect(Object.keys(counts).filter((k) => !/^\d{4}-\d\d-\d\dT\d\d:30:00\.000Z /.test(k))).toEqual([]);
    expect(counts).toEqual(expected(tmes, kolkata, [[T - 72 * HOUR, T]], 330));
    // the local day 2027-03-09 is [2027-03-08T18:30Z, 2027-03-09T18:30Z)
    const [from, to] = [Date.parse("2027-03-08T18:30:00Z"), Date.parse("2027-03-09T18:30:00Z")];
    const day = kolkata.flatMap((t) => tmes.eventsBetween(ACME, t.event, new Date(from), new Date(to)));
    expect(total(stored(store, "tmes", from, to))).toBe(day.length);
  });

  it("reports a target whose service refuses (404, log retrieval disabled) and leaves its cursor; the others proceed, and it catches up after", async () => {
    const { store, token } = held();
    const targets = [target("spam"), target("spam", { service: "hes" })];
    await poll(targets, T, { store, token });
    hes.setLogRetrieval(false);
    const r = await poll(targets, T + 2 * HOUR, { store, token });

    expect(r.errors).toEqual([{
      customer: "acme", service: "hes", domain: ACME,
      message: "Hosted Email Security GET /api/v1/log/policyeventlog answered 404 — ResourceNotAvailable: Log retrieval is not enabled. log retrieval is not enabled for this account: enable it in Administration > Service Integration > Log Retrieval",
    }]);
    expect(r.polls).toBe(1);
    expect(cursorsOf(store)).toEqual([`hes ${ACME} spam ${iso(T - LAG)}`, `tmes ${ACME} spam ${iso(T + 2 * HOUR - LAG)}`]);
    expect(stored(store, "tmes", T - 80 * HOUR, T + 3 * HOUR)).toEqual(expected(tmes, [targets[0]], [[T - 72 * HOUR, T + 2 * HOUR]]));
    expect(stored(store, "hes", T, T + 3 * HOUR)).toEqual({});

    hes.setLogRetrieval(true);
    await poll(targets, T + 4 * HOUR, { store, token });
    expect(stored(store, "hes", T - 80 * HOUR, T + 5 * HOUR)).toEqual(expected(hes, [targets[1]], [[T - 72 * HOUR, T + 4 * HOUR]]));
  });
});

describe("pollDetections: late events, several events per message, and services that answer badly", () => {
  let multi: EmailSecuritySandbox;
  beforeAll(async () => {
    multi = await startEmailSecuritySandbox({ service: "tmes", now: () => fakeNow.ms, multiEventMessages: true });
  });
  afterAll(() => multi.close());
  afterEach(() => {
    tmes.setLateEvents(undefined);
    tmes.setEndlessTokens(false);
    multi.requests.length = 0;
  });

  it("counts an event that reached the log minutes after its time at the next poll (the cursor stays CWSYNC_POLL_LAG behind)", async () => {
    const { store, token } = held();
    const targets = [target("spam"), target("threat")];
    // every event shows in the log 5 minutes after its genTime
    tmes.setLateEvents({ delayMs: 5 * 60_000 });
    await poll(targets, T, { store, token });
    const late = targets.flatMap((t) => tmes.eventsBetween(ACME, t.event, new Date(T - 5 * 60_000), new Date(T)));
    expect(late.length).toBeGreaterThan(0);
    // not yet in the log at T: not counted yet
    expect(total(stored(store, "tmes", T - 80 * HOUR, T + HOUR))).toBe(total(expected(tmes, targets, [[T - 72 * HOUR, T - 5 * 60_000]])));

    const next = T + 15 * 60_000;
    await poll(targets, next, { store, token });
    // everything before `next − 5 min` is in the log now, and counted exactly once
    expect(stored(store, "tmes", T - 80 * HOUR, next - 5 * 60_000)).toEqual(expected(tmes, targets, [[T - 72 * HOUR, next - 5 * 60_000]]));
    expect(cursorsOf(store)).toEqual([`tmes ${ACME} spam ${iso(next - LAG)}`, `tmes ${ACME} threat ${iso(next - LAG)}`]);

    // a third poll re-reads the overlap and counts nothing twice
    tmes.setLateEvents(undefined);
    await poll(targets, next + 5 * 60_000, { store, token });
    await poll(targets, next + 7 * 60_000, { store, token });
    expect(stored(store, "tmes", T - 80 * HOUR, next + HOUR)).toEqual(expected(tmes, targets, [[T - 72 * HOUR, next + 7 * 60_000]]));
  });

  it("counts both events of one message (Malware and Suspicious Objects, two spam rules): an event is (message id, type, subtype)", async () => {
    const { store, token } = held();
    const targets = [target("threat"), target("spam")];
    fakeNow.ms = T;
    const r = await pollDetections(targets, { sources: { tmes: client(multi) }, store, token, now: new Date(T), realNow: () => REAL });
    const served = targets.flatMap((t) => multi.eventsBetween(ACME, t.event, new Date(T - 72 * HOUR), new Date(T)));
    const messages = new Set(served.map((e) => e.messageID));
    // the fake does serve messages with two events
    expect(served.length - messages.size).toBeGreaterThan(20);
    expect(r.events).toBe(served.length);
    expect(stored(store, "tmes", T - 80 * HOUR, T)).toEqual(expected(multi, targets, [[T - 72 * HOUR, T]]));
  });

  it("an endless-token service: stops after the page cap with an error naming the service and domain, counts nothing, leaves the cursor", async () => {
    const { store, token } = held();
    const targets = [target("spam")];
    await poll(targets, T, { store, token });
    const before = stored(store, "tmes", T - 80 * HOUR, T + 2 * HOUR);
    tmes.requests.length = 0;
    tmes.setEndlessTokens(true);
    const r = await poll(targets, T + HOUR, { store, token });

    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatchObject({ customer: "acme", service: "tmes", domain: ACME, reason: "email-security.endless-paging" });
    expect(r.errors[0].message).toMatch(/^Trend Micro Email Security GET \/api\/v1\/log\/policyeventlog answered 200 — email-security\.endless-paging: still a `nextToken` after 1000 pages \(500000 events at most\) for acme\.example \(event spam, /);
    // the cap: 1,000 requests, then it gave up
    expect(tmes.requests).toHaveLength(1000);
    expect(cursorsOf(store)).toEqual([`tmes ${ACME} spam ${iso(T - LAG)}`]);
    expect(stored(store, "tmes", T - 80 * HOUR, T + 2 * HOUR)).toEqual(before);
  });

  it("a window the service no longer keeps (its clock, its `Date` header, is 100 hours past the poll's `now`, as under a past --at) is a gap, never zero counts", async () => {
    const { store, token } = held();
    const spam = target("spam");
    fakeNow.ms = T + 100 * HOUR;
    const r = await pollDetections([spam], { sources: { tmes: client(tmes) }, store, token, now: new Date(T), realNow: () => REAL });
    expect(r.errors).toEqual([]);
    // the service keeps [T + 28 h, T + 100 h]: nothing of [T − 72 h, T)
    expect(store.pollGaps("acme", "tmes", iso(T - 80 * HOUR), iso(T))).toEqual([
      { customer: "acme", service: "tmes", domain: ACME, event: "spam", start: BEFORE_POLLING, end: iso(T - 72 * HOUR), detectedAt: iso(REAL) },
      { customer: "acme", service: "tmes", domain: ACME, event: "spam", start: iso(T - 72 * HOUR), end: iso(T), detectedAt: iso(REAL) },
    ]);
    expect(r.gaps).toBe(1);
    expect(stored(store, "tmes", T - 80 * HOUR, T)).toEqual({});
    // 28 hours behind: only the part older than the service keeps is a gap; the rest is counted
    const { store: s2, token: t2 } = held();
    fakeNow.ms = T + 28 * HOUR;
    await pollDetections([spam], { sources: { tmes: client(tmes) }, store: s2, token: t2, now: new Date(T), realNow: () => REAL });
    expect(s2.pollGaps("acme", "tmes", iso(T - 72 * HOUR), iso(T)).map((g) => `${g.start} ${g.end}`)).toEqual([`${iso(T - 72 * HOUR)} ${iso(T - 44 * HOUR)}`]);
    expect(stored(s2, "tmes", T - 80 * HOUR, T)).toEqual(expected(tmes, [spam], [[T - 44 * HOUR, T]]));
  });

  it("a 200 that is not the policy event log (HTML page, truncated JSON, `logs` not a list) fails the poll as email-security.unreadable, never zero counts", async () => {
    const { store, token } = held();
    const targets = [target("spam")];
    await poll(targets, T, { store, token });
    const before = stored(store, "tmes", T - 80 * HOUR, T + 3 * HOUR);
    const faults = [
      [{ kind: "html" }, /email-security\.unreadable: the answer is not a JSON object with `logs` \(not JSON; content-type text\/html; charset=utf-8; starts `<!DOCTYPE html>/],
      [{ kind: "truncated" }, /email-security\.unreadable: the answer is not a JSON object with `logs` \(JSON that does not parse \(truncated\?\); content-type application\/json/],
      [{ kind: "status", status: 200, body: { logs: "none" } }, /email-security\.unreadable: the answer has no `logs` array — for acme\.example \(event spam, /],
    ] as const;
    for (const [fault, message] of faults) {
      tmes.faults.push(fault);
      const r = await poll(targets, T + 2 * HOUR, { store, token });
      expect(r.errors.map((e) => e.message)).toEqual([expect.stringMatching(message)]);
      expect(r.errors[0].reason).toBe("email-security.unreadable");
      expect(r.polls).toBe(0);
      expect(cursorsOf(store)).toEqual([`tmes ${ACME} spam ${iso(T - LAG)}`]);
      expect(stored(store, "tmes", T - 80 * HOUR, T + 3 * HOUR)).toEqual(before);
    }
    // a 204 is still "no events": the poll succeeds
    const h = Math.floor(T / HOUR) * HOUR + 6 * HOUR;
    await poll(targets, h, { store, token });
    expect(stored(store, "tmes", T - 80 * HOUR, h)).toEqual(expected(tmes, targets, [[T - 72 * HOUR, h]]));
  });
});
