import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { SHARED_PAGES } from "../src/adapters/email-security/email-security-client.ts";
import { CATEGORY_EVENT, categorize, type DetectionCategory } from "../src/core/detection-categories.ts";
import type { EmailSecuritySandbox } from "../src/sandbox/email-security-sandbox.ts";
import { openStateStore } from "../src/adapters/state-sqlite/open-state-store.ts";
import { tempRepo } from "./helpers/git-repo.ts";
import { reconcileWorld, type ReconcileWorld } from "./helpers/reconcile-world.ts";

const HOUR = 3_600_000;
const ROME_DOMAINS = ["roma.example", "roma-shop.example"];
const ROME_CATEGORIES: DetectionCategory[] = ["phishing", "bec", "ransomware"];
const BERLIN_DOMAINS = ["berlin.example", "berlin-lager.example"];
const BERLIN_MONTHLY: DetectionCategory[] = ["spam", "graymail", "malware"];

const customerFile = (name: string, displayName: string, companyId: string, domains: string[], notifications: string) => `apiVersion: cwsync/v1
kind: Customer
name: ${name}
displayName: ${displayName}
trendMicro:
  customer: ${displayName}
  emailDomains: [${domains.join(", ")}]
connectwise:
  enabled: true
  companyId: ${companyId}
notifications:
${notifications}`;

/**
 * Two customers whose reports read the same Hosted Email Security categories: Roma a daily report,
 * Berlin a weekly one (plus a monthly Trend Micro Email Security report). `_global.yaml` is the
 * project's (catch-up 7 days).
 */
function world(): Promise<ReconcileWorld> {
  const dir = mkdtempSync(join(tmpdir(), "cwsync-detections-"));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(join(import.meta.dirname, "../customers/_global.yaml"), join(dir, "_global.yaml"));
  writeFileSync(join(dir, "roma-dentale.yaml"), customerFile("roma-dentale", "Roma Dentale", "RomaDentale", ROME_DOMAINS, `  timezone: Europe/Rome
  at: "07:00"
  hostedEmailSecurity:
    every: day
    detections: [${ROME_CATEGORIES.join(", ")}]
`));
  writeFileSync(join(dir, "berliner-versand.yaml"), customerFile("berliner-versand", "Berliner Versand GmbH", "BerlinerVersand", BERLIN_DOMAINS, `  timezone: Europe/Berlin
  at: "08:00"
  hostedEmailSecurity:
    every: week
    detections: [${ROME_CATEGORIES.join(", ")}]
  emailSecurity:
    edition: standard
    every: month
    detections: [${BERLIN_MONTHLY.join(", ")}]
`));
  return reconcileWorld({ repo: tempRepo(dir) });
}

interface CycleJson {
  customers: { name: string; state: string; reason: string; message: string }[];
  actions: { kind: string; customer: string; report: string; periodKey: string; state?: string; reason?: string; message?: string }[];
}

async function reconcile(w: ReconcileWorld, at: string, ...flags: string[]) {
  const r = await w.run("reconcile", "--at", at, "--format", "json", ...flags);
  return { ...r, json: JSON.parse(r.stdout) as CycleJson };
}

const stateOf = (j: CycleJson, name: string) => {
  const c = j.customers.find((x) => x.name === name)!;
  return `${c.state} ${c.reason}`;
};

/** The ticket whose summary starts with `prefix` (exactly one), and its text (the first note). */
function ticket(w: ReconcileWorld, prefix: string): { summary: string; text: string } {
  const found = w.cw.state.tickets.filter((t) => t.summary.startsWith(prefix));
  expect(found.map((t) => t.summary)).toEqual([expect.stringMatching(/ cws-[0-9a-f]{10}$/)]);
  const text = w.cw.state.notes.filter((n) => n.ticketId === found[0].id).sort((a, b) => a.id - b.id)[0].text;
  return { summary: found[0].summary, text };
}

/** The ticket's table: per row (category, or `total`), the counts per domain and the total. */
function table(text: string): Record<string, number[]> {
  const lines = text.split("\n");
  const head = lines.findIndex((l) => l.startsWith("category "));
  const out: Record<string, number[]> = {};
  for (const l of lines.slice(head + 1)) {
    if (!l.trim()) break;
    const [name, ...values] = l.trim().split(/\s+/);
    out[name] = values.map(Number);
  }
  return out;
}

/** The table the ticket must show: the fake's seeded events of the selected categories in `[start, end)`, per domain. */
function expectedTable(fake: EmailSecuritySandbox, domains: string[], categories: DetectionCategory[], start: string, end: string): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const category of categories) {
    const event = CATEGORY_EVENT[category];
    const perDomain = domains.map((d) => fake.eventsBetween(d, event, new Date(start), new Date(end)).filter((e) => categorize(event, e.eventType, e.eventSubtype).category === category).length);
    out[category] = [...perDomain, perDomain.reduce((a, b) => a + b, 0)];
  }
  const totals = domains.map((_, i) => categories.reduce((n, c) => n + out[c][i], 0));
  out.total = [...totals, totals.reduce((a, b) => a + b, 0)];
  return out;
}

const romaTickets = (w: ReconcileWorld) => w.cw.state.tickets.filter((t) => t.summary.includes("Roma Dentale")).map((t) => t.summary.replace(/ cws-.*/, "")).sort();

/** Reconciles at each instant; every one must exit 0. */
async function reconcileAt(w: ReconcileWorld, instants: string[]): Promise<void> {
  for (const at of instants) expect((await w.run("reconcile", "--at", at)).code, at).toBe(0);
}

/** `from`, then every `stepHours` up to (not including) `to`, then `to`. */
function every(from: string, stepHours: number, to: string): string[] {
  const out: string[] = [];
  for (let t = Date.parse(from); t < Date.parse(to); t += stepHours * HOUR) out.push(new Date(t).toISOString());
  return [...out, to];
}

describe("detection reports through reconcile", () => {
  it("sends a daily report with the selected categories' events of exactly the local day, the 25-hour day of DST's end included", async () => {
    const w = await world();
    await reconcileAt(w, ["2027-10-30T12:00:00Z"]);
    const r = await w.run("reconcile", "--at", "2027-11-01T08:00:00Z");
    expect(r.code).toBe(0);
    const dst = ticket(w, "Hosted Email Security daily 2027-10-31 Roma Dentale cws-");
    expect(r.stdout).toContain(`hostedEmailSecurity 2027-10-31: sent, ticket #${w.cw.state.tickets.find((t) => t.summary === dst.summary)!.id} (${table(dst.text).total[2]} detections)`);
    expect(dst.text.split("\n").slice(0, 2)).toEqual([
      "Hosted Email Security detections for Roma Dentale",
      "Period 2027-10-31: 2027-10-31 00:00 CEST to 2027-11-01 00:00 CET (Europe/Rome)",
    ]);
    expect(table(dst.text)).toEqual(expectedTable(w.hes, ROME_DOMAINS, ROME_CATEGORIES, "2027-10-30T22:00:00Z", "2027-10-31T23:00:00Z"));
    expect(dst.text).not.toContain("Data incomplete");
    const before = ticket(w, "Hosted Email Security daily 2027-10-30 Roma Dentale cws-");
    expect(table(before.text)).toEqual(expectedTable(w.hes, ROME_DOMAINS, ROME_CATEGORIES, "2027-10-29T22:00:00Z", "2027-10-30T22:00:00Z"));
    expect(romaTickets(w)).toEqual([
      "Hosted Email Security daily 2027-10-30 Roma Dentale", "Hosted Email Security daily 2027-10-31 Roma Dentale",
    ]);

    // reconciling again, later the same day and the next, sends no second ticket for a period
    await reconcileAt(w, ["2027-11-01T08:05:00Z", "2027-11-01T20:00:00Z"]);
    expect(romaTickets(w)).toEqual([
      "Hosted Email Security daily 2027-10-30 Roma Dentale", "Hosted Email Security daily 2027-10-31 Roma Dentale",
    ]);
  });

  it("over a month of reconciles: the weekly report across DST's end, the monthly report, one ticket per period, and one request per domain and event kind per reconcile however many reports are due", async () => {
    const w = await world();
    const instants = [...every("2027-10-01T12:00:00Z", 60, "2027-10-31T12:00:00Z"), "2027-11-01T08:00:00Z"];
    const perReconcile: { hes: string[]; tmes: string[] }[] = [];
    for (const at of instants) {
      w.hes.requests.length = 0;
      w.tmes.requests.length = 0;
      expect((await w.run("reconcile", "--at", at)).code, at).toBe(0);
      const series = (f: EmailSecuritySandbox) => f.requests.map((q) => `${q.query.domain} ${q.query.event}`).sort();
      // every window fits one page
      expect([...w.hes.requests, ...w.tmes.requests].every((q) => q.status === 200 && (q.logs ?? 0) < 500)).toBe(true);
      perReconcile.push({ hes: series(w.hes), tmes: series(w.tmes) });
    }
    // Roma (one daily report) and Berlin (a weekly one, and on 1 November its weekly, its monthly
    // and Roma's daily are all due) cost the same: one request per domain and event kind
    for (const p of perReconcile) {
      expect(p).toEqual({
        hes: [...BERLIN_DOMAINS, ...ROME_DOMAINS].sort().flatMap((d) => [`${d} phishing`, `${d} spam`, `${d} threat`]),
        tmes: [...BERLIN_DOMAINS].sort().flatMap((d) => [`${d} spam`, `${d} threat`]),
      });
    }

    const week = ticket(w, "Hosted Email Security weekly 2027-W43 Berliner Versand GmbH cws-");
    expect(week.text.split("\n")[1]).toBe("Period 2027-W43: 2027-10-25 00:00 CEST to 2027-11-01 00:00 CET (Europe/Berlin)");
    expect(table(week.text)).toEqual(expectedTable(w.hes, BERLIN_DOMAINS, ROME_CATEGORIES, "2027-10-24T22:00:00Z", "2027-10-31T23:00:00Z"));
    expect(week.text).not.toContain("Data incomplete");
    const month = ticket(w, "Email Security monthly 2027-10 Berliner Versand GmbH cws-");
    expect(month.text.split("\n").slice(0, 2)).toEqual([
      "Trend Micro Email Security Standard detections for Berliner Versand GmbH",
      "Period 2027-10: 2027-10-01 00:00 CEST to 2027-11-01 00:00 CET (Europe/Berlin)",
    ]);
    expect(table(month.text)).toEqual(expectedTable(w.tmes, BERLIN_DOMAINS, BERLIN_MONTHLY, "2027-09-30T22:00:00Z", "2027-10-31T23:00:00Z"));
    expect(month.text).not.toContain("Data incomplete");
    // the week of the first reconcile began before the 72 hours it could still read
    expect(ticket(w, "Hosted Email Security weekly 2027-W39 Berliner Versand GmbH cws-").text).toContain(
      "Data incomplete: no events could be read from 2027-09-27 00:00 CEST to 2027-09-28 14:00 CEST (no poll read them before the service's 72-hour retention passed: polling was stopped or failing).",
    );

    await reconcileAt(w, ["2027-11-01T08:01:00Z", "2027-11-01T16:00:00Z"]);
    const summaries = w.cw.state.tickets.map((t) => t.summary.replace(/ cws-.*/, ""));
    expect(new Set(summaries).size).toBe(summaries.length);
    // Roma: 1–31 October; Berlin: weeks 39–43 and October
    expect(summaries.filter((s) => s.includes("Roma Dentale"))).toHaveLength(31);
    expect(summaries.filter((s) => s.includes("Berliner Versand")).sort()).toEqual([
      "Email Security monthly 2027-10 Berliner Versand GmbH",
      ...[39, 40, 41, 42, 43].map((n) => `Hosted Email Security weekly 2027-W${n} Berliner Versand GmbH`),
    ]);
  });

  it("sends the weekly report of ISO week 2026-W53 (2026 has 53 weeks), from Monday 28 December to Monday 4 January", async () => {
    const w = await world();
    await reconcileAt(w, every("2026-12-28T12:00:00Z", 48, "2027-01-04T08:00:00Z"));
    const week = ticket(w, "Hosted Email Security weekly 2026-W53 Berliner Versand GmbH cws-");
    expect(week.text.split("\n")[1]).toBe("Period 2026-W53: 2026-12-28 00:00 CET to 2027-01-04 00:00 CET (Europe/Berlin)");
    expect(table(week.text)).toEqual(expectedTable(w.hes, BERLIN_DOMAINS, ROME_CATEGORIES, "2026-12-27T23:00:00Z", "2027-01-03T23:00:00Z"));
    expect(week.text).not.toContain("Data incomplete");
    // the report of the month that ended with the year
    const month = ticket(w, "Email Security monthly 2026-12 Berliner Versand GmbH cws-");
    expect(month.text.split("\n")[1]).toBe("Period 2026-12: 2026-12-01 00:00 CET to 2027-01-01 00:00 CET (Europe/Berlin)");
    // cwsync first ran on 28 December: it could read back to the 25th only
    expect(month.text).toContain("Data incomplete: no events could be read from 2026-12-01 00:00 CET to 2026-12-25 13:00 CET (no poll read them before the service's 72-hour retention passed: polling was stopped or failing).");
    expect(table(month.text)).toEqual(expectedTable(w.tmes, BERLIN_DOMAINS, BERLIN_MONTHLY, "2026-12-25T12:00:00Z", "2026-12-31T23:00:00Z"));
  });

  it("fails the run while the service refuses its logs (detections.unavailable, exit 1), sends nothing, and sends the full report once it answers again", async () => {
    const w = await world();
    await reconcileAt(w, ["2027-10-30T12:00:00Z"]);
    w.hes.setLogRetrieval(false);
    const down = await reconcile(w, "2027-10-31T08:00:00Z");
    expect(down.code).toBe(1);
    expect(stateOf(down.json, "roma-dentale")).toBe("failing detections.unavailable");
    expect(down.json.customers.find((c) => c.name === "roma-dentale")!.message).toBe(
      "polling Hosted Email Security failed for roma.example: Hosted Email Security GET /api/v1/log/policyeventlog answered 404 — ResourceNotAvailable: Log retrieval is not enabled. log retrieval is not enabled for this account: enable it in Administration > Service Integration > Log Retrieval",
    );
    expect(down.json.actions.filter((a) => a.customer === "roma-dentale").map((a) => `${a.kind} ${a.periodKey}`)).toEqual(["wait 2027-10-30"]);
    expect(w.cw.state.tickets).toEqual([]);

    // still failing on the next run, whatever is due
    const quiet = await reconcile(w, "2027-10-31T08:30:00Z");
    expect(stateOf(quiet.json, "roma-dentale")).toBe("failing detections.unavailable");

    w.hes.setLogRetrieval(true);
    const up = await reconcile(w, "2027-10-31T09:00:00Z");
    expect(up.code).toBe(0);
    expect(stateOf(up.json, "roma-dentale")).toBe("ready ok");
    const sent = ticket(w, "Hosted Email Security daily 2027-10-30 Roma Dentale cws-");
    expect(table(sent.text)).toEqual(expectedTable(w.hes, ROME_DOMAINS, ROME_CATEGORIES, "2027-10-29T22:00:00Z", "2027-10-30T22:00:00Z"));
    expect(sent.text).not.toContain("Data incomplete");
  });

  it("after 4 days without reconcile, says in each report whose period reaches into the lost span that its data is incomplete, and counts what was still there", async () => {
    const w = await world();
    await reconcileAt(w, ["2027-03-09T20:00:00Z"]);
    const back = await w.run("reconcile", "--at", "2027-03-14T06:30:00Z");
    expect(back.code).toBe(0);
    // the 72 hours before 06:30 UTC on the 14th reach back to 06:30 UTC on the 11th
    const lost = (from: string, to: string) => `Data incomplete: no events could be read from ${from} to ${to} (no poll read them before the service's 72-hour retention passed: polling was stopped or failing).`;
    const day = (d: string) => ticket(w, `Hosted Email Security daily ${d} Roma Dentale cws-`).text;
    // the cursor stayed CWSYNC_POLL_LAG (10 minutes) behind the last poll at 20:00 UTC
    expect(day("2027-03-09")).toContain(lost("2027-03-09 20:50 CET", "2027-03-10 00:00 CET"));
    expect(table(day("2027-03-09"))).toEqual(expectedTable(w.hes, ROME_DOMAINS, ROME_CATEGORIES, "2027-03-08T23:00:00Z", "2027-03-09T20:00:00Z"));
    expect(day("2027-03-10")).toContain(lost("2027-03-10 00:00 CET", "2027-03-11 00:00 CET"));
    expect(table(day("2027-03-10"))).toEqual({ phishing: [0, 0, 0], bec: [0, 0, 0], ransomware: [0, 0, 0], total: [0, 0, 0] });
    expect(day("2027-03-11")).toContain(lost("2027-03-11 00:00 CET", "2027-03-11 07:30 CET"));
    expect(table(day("2027-03-11"))).toEqual(expectedTable(w.hes, ROME_DOMAINS, ROME_CATEGORIES, "2027-03-11T06:30:00Z", "2027-03-11T23:00:00Z"));
    for (const [d, start, end] of [["2027-03-12", "2027-03-11T23:00:00Z", "2027-03-12T23:00:00Z"], ["2027-03-13", "2027-03-12T23:00:00Z", "2027-03-13T23:00:00Z"]]) {
      expect(day(d)).not.toContain("Data incomplete");
      expect(table(day(d))).toEqual(expectedTable(w.hes, ROME_DOMAINS, ROME_CATEGORIES, start, end));
    }
    expect(back.stdout).toMatch(/hostedEmailSecurity 2027-03-10: sent, ticket #\d+ \(0 detections, data incomplete\)/);
  });

  it("after 9 days down: periods due longer ago than catchUp.detections (7d) are recorded missed, the others sent oldest first", async () => {
    const w = await world();
    await reconcileAt(w, ["2027-03-09T20:00:00Z"]);
    const back = await reconcile(w, "2027-03-19T06:30:00Z");
    expect(back.code).toBe(0);
    const roma = back.json.actions.filter((a) => a.customer === "roma-dentale");
    expect(roma.map((a) => `${a.periodKey} ${a.kind}${a.kind === "record" ? ` ${a.state} ${a.reason}` : ""}`)).toEqual([
      "2027-03-09 record missed catch-up.expired",
      "2027-03-10 record missed catch-up.expired",
      "2027-03-11 record missed catch-up.expired",
      ...["12", "13", "14", "15", "16", "17", "18"].map((d) => `2027-03-${d} report`),
    ]);
    const summaries = w.cw.state.tickets.filter((t) => t.summary.includes("Roma")).sort((a, b) => a.id - b.id).map((t) => t.summary.replace(/ cws-.*/, ""));
    expect(summaries).toEqual(["12", "13", "14", "15", "16", "17", "18"].map((d) => `Hosted Email Security daily 2027-03-${d} Roma Dentale`));
    const history = (await w.run("history", "roma-dentale")).stdout;
    expect(history).toMatch(/ 2027-03-10T06:00Z {2}hostedEmailSecurity 2027-03-09 {9}missed {2}catch-up\.expired {2}cws-[0-9a-f]{10}\n/);
  });

  it("deletes counters older than any report can still need (a month, catchUp.detections, a week), and says so in the journal", async () => {
    const w = await world();
    expect((await w.run("reconcile", "--at", "2027-10-01T12:00:00Z")).code).toBe(0);
    const old = () => {
      const store = openStateStore(w.stateDir);
      try {
        return {
          counts: store.detectionCounts("roma-dentale", "hes", "2027-09-01T00:00:00.000Z", "2027-10-02T00:00:00.000Z").length,
          journal: store.journal({ limit: 500 }).filter((e) => e.message === "old detection counters deleted"),
        };
      } finally {
        store.close();
      }
    };
    // the first poll read 72 hours back
    expect(old().counts).toBeGreaterThan(0);
    expect(old().journal).toEqual([]);
    // 50 days on: everything before 6 October (45 days back) goes
    await w.run("reconcile", "--at", "2027-11-20T12:00:00Z");
    expect(old().counts).toBe(0);
    expect(old().journal).toHaveLength(1);
    expect(old().journal[0].data).toMatchObject({ before: "2027-10-06T12:00:00.000Z" });
  });

  it("a dry run, which polls nothing, shows a due report waiting for its events (pending detections.polling); the real run sends it", async () => {
    const w = await world();
    await reconcileAt(w, ["2027-10-30T12:00:00Z"]);
    const dry = await reconcile(w, "2027-10-31T08:00:00Z", "--dry-run");
    expect(dry.code).toBe(0);
    expect(stateOf(dry.json, "roma-dentale")).toBe("pending detections.polling");
    expect(dry.json.actions.filter((a) => a.customer === "roma-dentale").map((a) => `${a.kind} ${a.reason}: ${a.message}`)).toEqual([
      "wait detections.polling: hostedEmailSecurity 2027-10-30 waits until its events are polled up to 2027-10-30T22:00:00.000Z",
    ]);
    expect(w.hes.requests.filter((q) => q.at === Date.parse("2027-10-31T08:00:00Z"))).toEqual([]);
    expect(w.cw.state.tickets).toEqual([]);
    const real = await reconcile(w, "2027-10-31T08:00:00Z");
    expect(stateOf(real.json, "roma-dentale")).toBe("ready ok");
    expect(table(ticket(w, "Hosted Email Security daily 2027-10-30 Roma Dentale cws-").text)).toEqual(
      expectedTable(w.hes, ROME_DOMAINS, ROME_CATEGORIES, "2027-10-29T22:00:00Z", "2027-10-30T22:00:00Z"),
    );
  });
});

const WATCH_DOMAINS = ["watch.example", "watch-mail.example"];

/** One customer whose daily Trend Micro Email Security report (UTC, at 06:00) reads `threat` only. */
function watchWorld(detections: DetectionCategory[]): Promise<ReconcileWorld> {
  const dir = mkdtempSync(join(tmpdir(), "cwsync-detections-"));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(join(import.meta.dirname, "../customers/_global.yaml"), join(dir, "_global.yaml"));
  writeFileSync(join(dir, "web-watch.yaml"), customerFile("web-watch", "Web Watch Ltd", "WebWatch", WATCH_DOMAINS, `  timezone: UTC
  at: "06:00"
  emailSecurity:
    edition: standard
    every: day
    detections: [${detections.join(", ")}]
`));
  return reconcileWorld({ repo: tempRepo(dir) });
}

/** The fake's `threat` events of one logged type in `[start, end)`, per domain and in total: counted without cwsync's table. */
function threatsOfType(fake: EmailSecuritySandbox, eventType: string, start: string, end: string): number[] {
  const perDomain = WATCH_DOMAINS.map((d) => fake.eventsBetween(d, "threat", new Date(start), new Date(end)).filter((e) => e.eventType === eventType).length);
  return [...perDomain, perDomain.reduce((a, b) => a + b, 0)];
}

describe("Email Security categories and services that answer badly, through reconcile", () => {
  it("a report selecting web-reputation and scan-exceptions counts the service's `threat` events of type Web Reputation and Scan Exception", async () => {
    const w = await watchWorld(["web-reputation", "scan-exceptions", "malware"]);
    await reconcileAt(w, ["2027-10-30T12:00:00Z", "2027-11-01T06:00:00Z"]);
    // one kind asked, per domain and reconcile: the three categories all come back under `threat`
    expect(new Set(w.tmes.requests.map((q) => q.query.event))).toEqual(new Set(["threat"]));
    const t = table(ticket(w, "Email Security daily 2027-10-31 Web Watch Ltd cws-").text);
    const web = threatsOfType(w.tmes, "Web Reputation", "2027-10-31T00:00:00Z", "2027-11-01T00:00:00Z");
    const scan = threatsOfType(w.tmes, "Scan Exception", "2027-10-31T00:00:00Z", "2027-11-01T00:00:00Z");
    expect(web[2]).toBeGreaterThan(0);
    expect(scan[2]).toBeGreaterThan(0);
    expect(t["web-reputation"]).toEqual(web);
    expect(t["scan-exceptions"]).toEqual(scan);
    expect(t).toEqual(expectedTable(w.tmes, WATCH_DOMAINS, ["web-reputation", "scan-exceptions", "malware"], "2027-10-31T00:00:00Z", "2027-11-01T00:00:00Z"));
  });

  it("an endless-token service: the poll gives up after one window's 1,000 pages (email-security.endless-paging) and asks that service nothing more, nothing is sent or counted, and the report sent once it answers says its data is incomplete", async () => {
    const w = await watchWorld(["malware"]);
    await reconcileAt(w, ["2027-10-30T12:00:00Z"]);
    w.tmes.setEndlessTokens(true);
    w.tmes.requests.length = 0;
    const down = await reconcile(w, "2027-10-31T06:00:00Z");
    expect(down.code).toBe(1);
    expect(stateOf(down.json, "web-watch")).toBe("failing email-security.endless-paging");
    expect(down.json.customers.find((c) => c.name === "web-watch")!.message).toMatch(
      /^polling Trend Micro Email Security failed for watch(-mail)?\.example: Trend Micro Email Security GET \/api\/v1\/log\/policyeventlog answered 200 — email-security\.endless-paging: still a `nextToken` after 1000 pages \(500000 events at most\) for watch(-mail)?\.example \(event threat, /,
    );
    // one window's 1,000 pages, then the poll stopped asking the service: the other domain's window
    // read its first pages alongside and was stopped (not 1,000 pages per domain)
    expect(w.tmes.requests.length).toBeGreaterThanOrEqual(1000);
    expect(w.tmes.requests.length).toBeLessThanOrEqual(1000 + SHARED_PAGES);
    expect(w.cw.state.tickets).toEqual([]);

    // four days later the service answers again: what it no longer keeps is a gap, said in the report
    w.tmes.setEndlessTokens(false);
    const back = await reconcile(w, "2027-11-03T18:00:00Z");
    expect(back.code).toBe(0);
    const day = ticket(w, "Email Security daily 2027-10-30 Web Watch Ltd cws-").text;
    expect(day).toContain("Data incomplete: no events could be read from 2027-10-30 11:50 UTC to 2027-10-31 00:00 UTC");
    expect(table(day).malware[2]).toBe(expectedTable(w.tmes, WATCH_DOMAINS, ["malware"], "2027-10-30T00:00:00Z", "2027-10-30T12:00:00Z").malware[2]);
  });

  it("a garbled 200 (an HTML page) fails the run as email-security.unreadable instead of reporting zero, and the next run sends the full report", async () => {
    const w = await watchWorld(["malware"]);
    await reconcileAt(w, ["2027-10-30T12:00:00Z"]);
    w.tmes.faults.push({ kind: "html" });
    const down = await reconcile(w, "2027-10-31T06:00:00Z");
    expect(down.code).toBe(1);
    expect(stateOf(down.json, "web-watch")).toBe("failing email-security.unreadable");
    expect(down.json.customers.find((c) => c.name === "web-watch")!.message).toContain("answered 200 — email-security.unreadable: the answer is not a JSON object with `logs` (not JSON; content-type text/html");
    expect(w.cw.state.tickets).toEqual([]);
    const up = await reconcile(w, "2027-10-31T06:30:00Z");
    expect(up.code).toBe(0);
    const t = table(ticket(w, "Email Security daily 2027-10-30 Web Watch Ltd cws-").text);
    expect(t).toEqual(expectedTable(w.tmes, WATCH_DOMAINS, ["malware"], "2027-10-30T00:00:00Z", "2027-10-31T00:00:00Z"));
    expect(t.total[2]).toBeGreaterThan(0);
  });
});
