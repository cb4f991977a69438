import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { InternalError } from "../../errors.ts";
import type { PolicyEventKind } from "../../ports/detection-source.ts";
import { LeaseLostError, type DetectionCount, type PollCursor, type PollGap, type StateStore } from "../../ports/state-store.ts";
import { cwsyncVersion } from "../../version.ts";
import { LATEST_SCHEMA_VERSION, MIGRATIONS, WRITTEN_BY_KEY } from "./migrations.ts";
import { openStateStore } from "./open-state-store.ts";
import { loadSqlite, pragma } from "./sqlite-driver.ts";

const rawDb = (file: string, readOnly = false) => new (loadSqlite().DatabaseSync)(file, { readOnly });

const T0 = Date.parse("2027-01-04T06:00:00Z");
const HOST = hostname();
const TTL = 30_000;
const hour = (h: number) => new Date(T0 + h * 3600_000).toISOString();

const dirs: string[] = [];
const stores: StateStore[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "cwsync-detections-"));
  dirs.push(dir);
  return dir;
}
function open(dir: string): StateStore {
  const s = openStateStore(dir);
  stores.push(s);
  return s;
}
function held(dir = tempDir(), holder = `${process.pid}@${HOST}`, nowMs = T0): { s: StateStore; token: number; dir: string } {
  const s = open(dir);
  const r = s.acquireLease(holder, TTL, nowMs);
  if (!r.ok) throw new Error("lease not taken");
  return { s, token: r.token, dir };
}

const count = (category: string, h: number, n: number, extra: Partial<DetectionCount> = {}): DetectionCount => ({
  customer: "acme",
  service: "tmes",
  domain: "mail.acme.com",
  category,
  hour: hour(h),
  count: n,
  ...extra,
});
const cursor = (at: string, boundaryIds: string[] = [], extra: Partial<PollCursor> = {}): PollCursor => ({
  customer: "acme",
  service: "tmes",
  domain: "mail.acme.com",
  event: "spam",
  at,
  boundaryIds,
  ...extra,
});
const gap = (start: string, end: string, extra: Partial<PollGap> = {}): PollGap => ({
  customer: "acme",
  service: "tmes",
  domain: "mail.acme.com",
  event: "spam",
  start,
  end,
  detectedAt: "2027-01-08T00:00:00.000Z",
  ...extra,
});
const everything = (s: StateStore) => ({
  counts: s.detectionCounts("acme", "tmes", "2000-01-01T00:00:00.000Z", "2100-01-01T00:00:00.000Z"),
  cursors: s.pollCursors(),
  gaps: s.pollGaps("acme", "tmes", "2000-01-01T00:00:00.000Z", "2100-01-01T00:00:00.000Z"),
});

describe("detection state", () => {
  it("upgrades a version 1 state directory in place, keeping its data", () => {
    const dir = tempDir();
    mkdirSync(dir, { recursive: true });
    const v1 = rawDb(join(dir, "state.db"));
    pragma(v1, "journal_mode = WAL");
    MIGRATIONS.find((m) => m.version === 1)!.up(v1);
    pragma(v1, "user_version = 1");
    v1.prepare("INSERT INTO meta (key, value) VALUES (?, '0.0.9')").run(WRITTEN_BY_KEY);
    v1.prepare("UPDATE lease SET token = 5").run();
    v1.prepare("INSERT INTO cursors (customer, report, at) VALUES ('acme', 'billing', '2026-12-01T00:00:00.000Z')").run();
    v1.prepare("INSERT INTO journal (at, kind, message) VALUES ('2026-12-01T06:00:00.000Z', 'send', 'report sent')").run();
    v1.close();

    const { s, token } = held(dir);
    expect(s.schemaVersion).toBe(LATEST_SCHEMA_VERSION);
    expect(token).toBe(6);
    expect(s.getMeta(WRITTEN_BY_KEY)).toBe(cwsyncVersion());
    expect([...s.cursors().values()]).toEqual(["2026-12-01T00:00:00.000Z"]);
    expect(s.journal().map((e) => e.message)).toEqual(["report sent"]);
    expect(everything(s)).toEqual({ counts: [], cursors: [], gaps: [] });
    s.commitPoll({ cursor: cursor(hour(1)), counts: [count("spam", 0, 4)], gaps: [] }, token);
    expect(s.detectionCounts("acme", "tmes", hour(0), hour(1))).toEqual([count("spam", 0, 4)]);

    const raw = rawDb(join(dir, "state.db"), true);
    expect(pragma(raw, "user_version")).toBe(LATEST_SCHEMA_VERSION);
    raw.close();
  });

  it("adds counts across commits, skips zero counts, replaces the cursor and appends gaps", () => {
    const { s, token } = held();
    const other = { domain: "a.acme.com" };
    s.commitPoll({
      cursor: cursor(hour(2), ["m-1", "m-2"]),
      counts: [count("spam", 1, 2), count("spam", 0, 3), count("phishing", 0, 1), count("bec", 0, 0)],
      gaps: [gap(hour(-80), hour(-72))],
    }, token);
    s.commitPoll({
      cursor: cursor(hour(3)),
      counts: [count("spam", 1, 5), count("spam", 2, 1), count("spam", 2, 1), count("spam", 0, 1, other), count("bec", 2, 0)],
      gaps: [gap(hour(-70), hour(-69))],
    }, token);
    s.commitPoll({ cursor: cursor(hour(3), ["x"], { event: "phishing" }), counts: [count("spam", 0, 9, { customer: "beta" }), count("spam", 0, 9, { service: "hes" })], gaps: [] }, token);

    expect(everything(s)).toEqual({
      counts: [count("spam", 0, 1, other), count("phishing", 0, 1), count("spam", 0, 3), count("spam", 1, 7), count("spam", 2, 2)],
      cursors: [cursor(hour(3), ["x"], { event: "phishing" }), cursor(hour(3))],
      gaps: [gap(hour(-80), hour(-72)), gap(hour(-70), hour(-69))],
    });
    expect(s.detectionCounts("beta", "tmes", hour(0), hour(1))).toEqual([count("spam", 0, 9, { customer: "beta" })]);
    expect(s.detectionCounts("acme", "hes", hour(0), hour(1))).toEqual([count("spam", 0, 9, { service: "hes" })]);
  });

  it("round-trips cursors' boundary ids, one cursor per customer, service, domain and event", () => {
    const { s, token } = held();
    const ids = ["<a@b>", "quote\"d", "back\\slash", "ünïcode-✓", ""];
    const cursors: PollCursor[] = [
      cursor(hour(1), ids),
      cursor(hour(1), [], { service: "hes" }),
      cursor(hour(1), ["z"], { event: "dlp" satisfies PolicyEventKind }),
      cursor(hour(2), ["y"], { domain: "b.acme.com" }),
    ];
    for (const c of cursors) s.commitPoll({ cursor: c, counts: [], gaps: [] }, token);
    expect(s.pollCursors()).toEqual([cursors[1], cursors[3], cursors[2], cursors[0]]);
  });

  it("returns counts with from <= hour < to", () => {
    const { s, token } = held();
    s.commitPoll({ cursor: cursor(hour(5)), counts: [0, 1, 2, 3].map((h) => count("spam", h, h + 1)), gaps: [] }, token);
    const hours = (from: string, to: string) => s.detectionCounts("acme", "tmes", from, to).map((c) => c.hour);
    expect(hours(hour(1), hour(3))).toEqual([hour(1), hour(2)]);
    expect(hours(new Date(T0 + 3600_000 + 1).toISOString(), hour(3))).toEqual([hour(2)]);
    expect(hours(hour(1), new Date(T0 + 2 * 3600_000 + 1).toISOString())).toEqual([hour(1), hour(2)]);
    expect(hours("2027-01-04T07:00:00Z", "2027-01-04T08:00:00Z")).toEqual([hour(1)]);
    expect(hours(hour(2), hour(2))).toEqual([]);
  });

  it("keeps the local hours of a +05:30 customer, which start at half past the UTC hour", () => {
    const { s, token } = held();
    const half = (h: number) => new Date(T0 + h * 3600_000 + 1800_000).toISOString();
    s.commitPoll({ cursor: cursor(hour(5)), counts: [0, 1, 2].map((h) => ({ ...count("spam", h, 2), hour: half(h) })), gaps: [] }, token);
    expect(s.detectionCounts("acme", "tmes", half(1), half(3)).map((c) => [c.hour, c.count])).toEqual([[half(1), 2], [half(2), 2]]);
  });

  it("returns the gaps overlapping [from, to): touching spans do not overlap", () => {
    const { s, token } = held();
    const gaps = [gap(hour(1), hour(3)), gap(hour(3), hour(5)), gap(hour(6), hour(7)), gap(hour(3), hour(5), { customer: "beta" }), gap(hour(3), hour(5), { service: "hes" })];
    s.commitPoll({ cursor: cursor(hour(8)), counts: [], gaps }, token);
    const starts = (from: string, to: string) => s.pollGaps("acme", "tmes", from, to).map((g) => g.start);
    expect(starts(hour(3), hour(6))).toEqual([hour(3)]);
    expect(starts(new Date(T0 + 3 * 3600_000 - 1).toISOString(), hour(3))).toEqual([hour(1)]);
    expect(starts(hour(0), hour(1))).toEqual([]);
    expect(starts(hour(2), hour(6))).toEqual([hour(1), hour(3)]);
    expect(starts(hour(0), hour(9))).toEqual([hour(1), hour(3), hour(6)]);
    // a gap written without milliseconds compares and comes back in toISOString form
    s.commitPoll({ cursor: cursor(hour(8)), counts: [], gaps: [gap("2027-01-04T15:00:00Z", "2027-01-04T16:00:00Z")] }, token);
    expect(s.pollGaps("acme", "tmes", hour(9), hour(10))).toEqual([gap(hour(9), hour(10))]);
  });

  it("writes nothing for a holder whose lease was taken over", () => {
    const { s: old, token: stale, dir } = held();
    old.commitPoll({ cursor: cursor(hour(1), ["m-1"]), counts: [count("spam", 0, 2)], gaps: [] }, stale);
    const before = everything(old);
    const { s: next, token: current } = held(dir, "7@elsewhere", T0 + TTL);

    let thrown: unknown;
    try {
      old.commitPoll({
        cursor: cursor(hour(2), ["m-9"]),
        counts: [count("spam", 0, 5), count("phishing", 1, 1), count("spam", 0, 1, { customer: "beta" })],
        gaps: [gap(hour(-80), hour(-72))],
      }, stale);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(LeaseLostError);
    expect((thrown as LeaseLostError).current).toBe(current);
    expect(everything(next)).toEqual(before);
    expect(next.detectionCounts("beta", "tmes", hour(0), hour(1))).toEqual([]);
  });

  it("refuses a malformed hour, time or count before writing anything", () => {
    const { s, token } = held();
    const bad: [string, Parameters<StateStore["commitPoll"]>[0]][] = [
      ["hour not on a whole minute", { cursor: cursor(hour(1)), counts: [count("spam", 0, 1), { ...count("spam", 0, 1), hour: "2027-01-04T06:30:10.000Z" }], gaps: [] }],
      ["hour without zone", { cursor: cursor(hour(1)), counts: [{ ...count("spam", 0, 1), hour: "2027-01-04T06:00:00" }], gaps: [] }],
      ["negative count", { cursor: cursor(hour(1)), counts: [count("spam", 0, -1)], gaps: [] }],
      ["cursor time", { cursor: cursor("yesterday"), counts: [count("spam", 0, 1)], gaps: [] }],
      ["gap time", { cursor: cursor(hour(1)), counts: [count("spam", 0, 1)], gaps: [gap(hour(-9), "2027-13-01T00:00:00.000Z")] }],
    ];
    for (const [name, poll] of bad) expect(() => s.commitPoll(poll, token), name).toThrow(InternalError);
    expect(everything(s)).toEqual({ counts: [], cursors: [], gaps: [] });
    expect(() => s.detectionCounts("acme", "tmes", "2027-01-04", hour(1))).toThrow(/ISO-8601 UTC time/);
  });

  // speed is measured by `npm run bench`, not asserted here (timed tests flake on shared machines)
  it("keeps 600 polls of 100 customers × 2 domains × 3 events apart, each with its cursor", () => {
    const { s, token } = held();
    const events: PolicyEventKind[] = ["spam", "phishing", "threat"];
    for (let c = 0; c < 100; c++) {
      for (const domain of ["mail.example.com", "example.org"]) {
        for (const event of events) {
          const base = { customer: `customer-${c}`, domain };
          const counts = Array.from({ length: 10 }, (_, i) => count(`${event}-${i % 2}`, Math.floor(i / 2), i + 1, base));
          s.commitPoll({ cursor: cursor(hour(5), [`${c}-${event}`], { ...base, event }), counts, gaps: [] }, token);
        }
      }
    }
    expect(s.pollCursors()).toHaveLength(600);
    const counts = s.detectionCounts("customer-99", "tmes", hour(0), hour(5));
    expect(counts).toHaveLength(2 * 3 * 10);
    expect(counts.reduce((sum, x) => sum + x.count, 0)).toBe(2 * 3 * 55);
  });
});

describe("pruning old detection state", () => {
  it("deletes counters of hours before the cutoff and gaps ended by it, keeps the rest, and fences the writes", () => {
    const { s, token } = held();
    s.commitPoll({ cursor: cursor(hour(1)), counts: [count("spam", 0, 3), count("phishing", 0, 1), count("spam", 1, 4)], gaps: [gap(hour(-5), hour(0)), gap(hour(0), hour(2))] }, token);
    s.commitPoll({ cursor: cursor(hour(3)), counts: [count("spam", 2, 5), count("spam", 1, 1, { domain: "other.acme.com" })], gaps: [] }, token);
    expect(s.pruneDetections(hour(1), token)).toEqual({ counts: 2, gaps: 1 });
    const left = everything(s);
    expect(left.counts.map((c) => `${c.domain} ${c.category} ${c.hour} ${c.count}`)).toEqual([
      `mail.acme.com spam ${hour(1)} 4`, `mail.acme.com spam ${hour(2)} 5`, `other.acme.com spam ${hour(1)} 1`,
    ].sort());
    expect(left.gaps.map((g) => `${g.start} ${g.end}`)).toEqual([`${hour(0)} ${hour(2)}`]);
    // nothing more to delete
    expect(s.pruneDetections(hour(1), token)).toEqual({ counts: 0, gaps: 0 });
    // a holder whose lease was taken over deletes nothing
    expect(() => s.pruneDetections(hour(9), token + 1)).toThrow(LeaseLostError);
    expect(everything(s).counts).toHaveLength(3);
  });
});
