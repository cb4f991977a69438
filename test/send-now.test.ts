import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CATEGORY_EVENT, categorize, type DetectionCategory } from "../src/core/detection-categories.ts";
import type { EmailSecuritySandbox } from "../src/sandbox/email-security-sandbox.ts";
import { reconcileWorld, type ReconcileWorld } from "./helpers/reconcile-world.ts";

/** The first reconcile: Bluewater's history (and its applied config) starts here. */
const T0 = "2026-11-30T12:00:00Z";

interface LedgerJson {
  sends: { key: string; report: string; periodKey: string; trigger: string; state: string; result?: { ticketId?: number } }[];
}

const bluewaterTickets = (w: ReconcileWorld) => w.cw.state.tickets.filter((t) => t.summary.includes("Bluewater")).map((t) => `#${t.id} ${t.summary}`);

async function applied(): Promise<ReconcileWorld> {
  const w = await reconcileWorld();
  expect((await w.run("reconcile", "--at", T0)).code).toBe(0);
  return w;
}

function appendComment(w: ReconcileWorld, name: string): void {
  const file = join("customers", `${name}.yaml`);
  w.repo.write(file, `${readFileSync(join(w.repo.dir, file), "utf8")}# reviewed\n`);
}

describe("cwsync send-now (the seed's Send now, save first)", () => {
  it("refuses while the customer's file differs from the applied revision, naming the file, and sends nothing", async () => {
    const w = await applied();
    const rev = w.repo.git("rev-parse", "HEAD").trim().slice(0, 12);
    appendComment(w, "bluewater-dental");
    const dirty = await w.run("send-now", "bluewater-dental", "billing", "--at", "2026-11-30T13:00:00Z");
    expect(dirty.code).toBe(1);
    expect(dirty.stderr).toBe(
      `cwsync: customers/bluewater-dental.yaml has changes that are not in the applied revision (${rev}) — save first: commit and push it and let cwsync reconcile it, or discard the local edit; nothing was sent\n`,
    );
    // committed but not reconciled yet: still not the applied revision
    w.repo.commit("bluewater reviewed");
    expect((await w.run("send-now", "bluewater-dental", "billing", "--at", "2026-11-30T13:00:00Z")).code).toBe(1);
    w.repo.remove("customers/bluewater-dental.yaml");
    const missing = await w.run("send-now", "bluewater-dental", "billing", "--at", "2026-11-30T13:00:00Z");
    expect(missing.stderr).toContain("customers/bluewater-dental.yaml is missing from the working copy");
    expect(w.writes()).toEqual([]);
    w.repo.git("checkout", "--", "customers/bluewater-dental.yaml");

    expect((await w.run("reconcile", "--at", "2026-11-30T12:30:00Z")).code).toBe(0);
    const sent = await w.run("send-now", "bluewater-dental", "billing", "--at", "2026-11-30T13:00:00Z");
    expect(sent.code).toBe(0);
    expect(bluewaterTickets(w)).toEqual(["#100000 Billing (send now) 2026-11 Bluewater Dental Group cws-e5ab40543e"]);
  });

  it("sends as its own ledger entry: a second send-now makes a second ticket, and that month's scheduled billing still goes out on its day", async () => {
    const w = await applied();
    // Bluewater's scheduled billing of December is due on the 1st at 06:00 UTC
    const first = await w.run("send-now", "bluewater-dental", "billing", "--at", "2026-12-01T03:00:00Z");
    expect(first.code).toBe(0);
    expect(first.stdout).toBe("billing 2026-12: sent, ticket #100000 (key cws-52227ea830)\n");
    const second = await w.run("send-now", "bluewater-dental", "billing", "--at", "2026-12-01T04:00:00Z");
    expect(second.stdout).toBe("billing 2026-12: sent, ticket #100001 (key cws-001fcbc310)\n");
    const note = w.cw.state.notes.find((n) => n.ticketId === 100000)!;
    expect(note.text).toContain("Sent on request (send-now) at 2026-12-01T03:00:00.000Z.");

    expect((await w.run("reconcile", "--at", "2026-12-01T12:00:00Z")).code).toBe(0);
    expect(bluewaterTickets(w)).toEqual([
      "#100000 Billing (send now) 2026-12 Bluewater Dental Group cws-52227ea830",
      "#100001 Billing (send now) 2026-12 Bluewater Dental Group cws-001fcbc310",
      expect.stringMatching(/^#\d+ Billing 2026-12 Bluewater Dental Group cws-82c6c8de51$/),
    ]);
    const history = JSON.parse((await w.run("history", "bluewater-dental", "--format", "json")).stdout) as LedgerJson;
    expect(history.sends.map((s) => `${s.trigger} ${s.report} ${s.periodKey} ${s.state} ${s.key}`)).toEqual([
      "schedule billing 2026-12 done cws-82c6c8de51", "send-now billing 2026-12 done cws-001fcbc310", "send-now billing 2026-12 done cws-52227ea830",
    ]);
  });

  it("refuses a customer that was never applied, or whose file was removed", async () => {
    const w = await reconcileWorld();
    const never = await w.run("send-now", "bluewater-dental", "billing");
    expect(never.code).toBe(1);
    expect(never.stderr).toBe(`cwsync: bluewater-dental has no applied config in ${w.stateDir}: commit customers/bluewater-dental.yaml and run cwsync reconcile first\n`);

    expect((await w.run("reconcile", "--at", T0)).code).toBe(0);
    const unknown = await w.run("send-now", "initech", "billing");
    expect(unknown.stderr).toBe(`cwsync: initech has no applied config in ${w.stateDir}: commit customers/initech.yaml and run cwsync reconcile first\n`);
    w.repo.remove("customers/outback-mining.yaml");
    w.repo.commit("outback leaves");
    expect((await w.run("reconcile", "--at", "2026-11-30T12:30:00Z")).code).toBe(0);
    const removed = await w.run("send-now", "outback-mining", "billing");
    expect(removed.stderr).toBe(`cwsync: outback-mining has no applied config in ${w.stateDir} (its file was removed): commit customers/outback-mining.yaml and run cwsync reconcile first\n`);
    expect(w.writes()).toEqual([]);
  });

  it("sends a detection report's current period so far: from the period's local start to --at, as its own ticket; the scheduled report still goes out", async () => {
    const w = await applied();
    const es = await w.run("send-now", "acme-corp", "emailSecurity", "--at", "2026-11-30T13:00:00Z");
    expect(es.code).toBe(0);
    expect(es.stdout).toBe("emailSecurity 2026-11-30: sent, ticket #100000 (key cws-bd894c5f5b)\n");
    const hes = await w.run("send-now", "acme-corp", "hostedEmailSecurity", "--at", "2026-11-30T13:00:00Z");
    expect(hes.code).toBe(0);
    expect(hes.stdout).toBe("hostedEmailSecurity 2026-W49: sent, ticket #100001 (key cws-fa4e0e32c9)\n");
    expect(w.cw.state.tickets.map((t) => `#${t.id} ${t.summary}`)).toEqual([
      "#100000 Email Security daily (so far) 2026-11-30 Acme Corporation cws-bd894c5f5b",
      "#100001 Hosted Email Security weekly (so far) 2026-W49 Acme Corporation cws-fa4e0e32c9",
    ]);
    // Acme's day and its ISO week both began at midnight in Rome (23:00 UTC); the counts are those of the fakes up to --at
    const since = new Date("2026-11-29T23:00:00Z");
    const until = new Date("2026-11-30T13:00:00Z");
    /** The ticket's period line and table rows (`category perDomain total`) a user reads, whitespace collapsed. */
    const shown = (ticketId: number) => {
      const lines = w.cw.state.notes.find((n) => n.ticketId === ticketId)!.text.split("\n");
      const head = lines.findIndex((l) => l.startsWith("category"));
      return [lines[1], ...lines.slice(head + 1, lines.indexOf("", head)).map((l) => l.trim().split(/\s+/).join(" "))];
    };
    /** What the table must say: one domain, so each row's total equals its count. */
    const expected = (period: string, fake: EmailSecuritySandbox, categories: DetectionCategory[]) => {
      const counts = categories.map((c) => {
        const event = CATEGORY_EVENT[c];
        return fake.eventsBetween("acme.example", event, since, until).filter((e) => categorize(event, e.eventType, e.eventSubtype).category === c).length;
      });
      const total = counts.reduce((a, b) => a + b, 0);
      return [period, ...categories.map((c, i) => `${c} ${counts[i]} ${counts[i]}`), `total ${total} ${total}`];
    };
    expect(shown(100000)).toEqual(expected("Period 2026-11-30 (so far): 2026-11-30 00:00 CET to 2026-11-30 14:00 CET (Europe/Rome)", w.tmes, ["ransomware", "phishing", "bec"]));
    expect(shown(100001)).toEqual(expected("Period 2026-W49 (so far): 2026-11-30 00:00 CET to 2026-11-30 14:00 CET (Europe/Rome)", w.hes, ["spam", "phishing", "malware"]));

    // the day's scheduled report is its own send: it goes out when due, for the whole day
    expect((await w.run("reconcile", "--at", "2026-12-01T12:00:00Z")).code).toBe(0);
    expect(w.cw.state.tickets.filter((t) => t.summary.startsWith("Email Security daily")).map((t) => t.summary)).toEqual([
      "Email Security daily (so far) 2026-11-30 Acme Corporation cws-bd894c5f5b",
      expect.stringMatching(/^Email Security daily 2026-11-30 Acme Corporation cws-[0-9a-f]{10}$/),
    ]);

    const none = await w.run("send-now", "bluewater-dental", "emailSecurity");
    expect(none.code).toBe(1);
    expect(none.stderr).toBe("cwsync: bluewater-dental has no emailSecurity configured in the applied revision; nothing was sent\n");
  });

  it("refuses a suspended customer and one whose integration is disabled", async () => {
    const w = await applied();
    const suspended = await w.run("send-now", "contoso-legal", "billing", "--at", "2026-11-30T13:00:00Z");
    expect(suspended.code).toBe(1);
    expect(suspended.stdout).toBe("billing: not sent — contoso-legal is suspended (contract renegotiation; no invoices until the new terms are signed)\n");
    const disabled = await w.run("send-now", "fabrikam-retail-legacy", "billing", "--at", "2026-11-30T13:00:00Z");
    expect(disabled.code).toBe(1);
    expect(disabled.stdout).toBe("billing: not sent — connectwise.enabled is false\n");
    expect(w.writes()).toEqual([]);
  });

  it("--format json: one object with every send's result on stdout, nothing else there; a send not made makes ok false and exit 1", async () => {
    const w = await applied();
    const rev = w.repo.git("rev-parse", "HEAD").trim();
    const all = await w.run("send-now", "acme-corp", "--at", "2026-11-30T13:00:00Z", "--format", "json");
    expect(all.stderr).toBe("");
    expect(all.code).toBe(0);
    expect(JSON.parse(all.stdout)).toEqual({
      customer: "acme-corp", ok: true, at: "2026-11-30T13:00:00.000Z", revision: rev,
      sends: [
        { report: "billing", periodKey: "2026-11", result: "sent", ticketId: expect.any(Number), key: expect.stringMatching(/^cws-[0-9a-f]{10}$/) },
        { report: "hostedEmailSecurity", periodKey: "2026-W49", result: "sent", ticketId: expect.any(Number), key: "cws-fa4e0e32c9" },
        { report: "emailSecurity", periodKey: "2026-11-30", result: "sent", ticketId: expect.any(Number), key: "cws-bd894c5f5b" },
      ],
    });
    expect(w.cw.state.tickets).toHaveLength(3);

    const suspended = await w.run("send-now", "contoso-legal", "billing", "--at", "2026-11-30T13:00:00Z", "--format", "json");
    expect(suspended.code).toBe(1);
    expect(JSON.parse(suspended.stdout)).toEqual({
      customer: "contoso-legal", ok: false, at: "2026-11-30T13:00:00.000Z", revision: rev,
      sends: [{ report: "billing", periodKey: "2026-11", result: "not-sent", reason: expect.any(String), message: "contoso-legal is suspended (contract renegotiation; no invoices until the new terms are signed)" }],
    });
  });
});
