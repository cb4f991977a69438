/**
 * `billing.seatsFrom: current-month | previous-month` (DESIGN §10): which month's LMP summary report a
 * billing send reads. The schema, the early-month warning, the month observe fetches and plan bills,
 * and the ticket that says which month it was.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import type { EffectiveReport } from "../src/config/resolve.ts";
import { describeSchedule } from "../src/core/preview.ts";
import { seatsMonthOf } from "../src/core/seats-month.ts";
import { seedLmpiFromCustomers } from "../src/sandbox/lmpi-seed.ts";
import { loadSandboxCustomers } from "../src/sandbox/seed.ts";
import { reconcileWorld, type ReconcileWorld } from "./helpers/reconcile-world.ts";
import { runCli } from "./helpers/run-cli.ts";

const EXAMPLES = join(import.meta.dirname, "../customers");
/** Fabrikam's custom block bills on the 1st; these lines follow `dayOfMonth: 1` in its file. */
const FABRIKAM_DAY = "    dayOfMonth: 1\n";
/** Line and column of a key added right after Fabrikam's `dayOfMonth: 1` (line 24). */
const SEATS_FROM_AT = "25:16";

function workspace(): string {
  const dir = mkdtempSync(join(tmpdir(), "cwsync-seats-from-"));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(EXAMPLES, join(dir, "customers"), { recursive: true });
  return dir;
}

function edit(dir: string, file: string, from: string, to: string): void {
  const path = join(dir, file);
  const text = readFileSync(path, "utf8");
  if (!text.includes(from)) throw new Error(`${file} has no \`${from}\``);
  writeFileSync(path, text.replace(from, to));
}

interface Diag { severity: string; code: string; file: string; line: number; col: number; message: string; hint?: string }

async function validate(dir: string): Promise<{ code: number; diags: Diag[] }> {
  const r = await runCli(["validate", "--format", "json"], { cwd: dir });
  return { code: r.code, diags: JSON.parse(r.stdout) as Diag[] };
}

const located = (ds: readonly Diag[]) => ds.map((d) => `${d.file}:${d.line}:${d.col} ${d.severity} ${d.code}`);

describe("billing.seatsFrom in the files", () => {
  it.each(["previous-month", "current-month"])("a customer's billing block accepts `seatsFrom: %s` (on day 5: no warning)", async (value) => {
    const dir = workspace();
    edit(dir, "customers/fabrikam-retail.yaml", FABRIKAM_DAY, `    dayOfMonth: 5\n    seatsFrom: ${value}\n`);
    const r = await validate(dir);
    expect(r.diags).toEqual([]);
    expect(r.code).toBe(0);
  });

  it("the global block accepts it too", async () => {
    const dir = workspace();
    edit(dir, "customers/_global.yaml", "billing: { products: all, dayOfMonth: 1 }", "billing: { products: all, dayOfMonth: 1, seatsFrom: previous-month }");
    const r = await validate(dir);
    expect(r.diags).toEqual([]);
  });

  it("any other value is a schema error at its file:line:col, naming the allowed values", async () => {
    const dir = workspace();
    edit(dir, "customers/fabrikam-retail.yaml", FABRIKAM_DAY, `${FABRIKAM_DAY}    seatsFrom: last-month\n`);
    const r = await validate(dir);
    expect(r.code).toBe(1);
    expect(located(r.diags)).toEqual([`customers/fabrikam-retail.yaml:${SEATS_FROM_AT} error schema.enum`]);
    expect(`${r.diags[0].message} ${r.diags[0].hint}`).toContain("previous-month");
  });

  it("billing on days 1–3 from `current-month` is a warning (exit 0; 1 with --strict), with the way out in the hint", async () => {
    const dir = workspace();
    edit(dir, "customers/fabrikam-retail.yaml", FABRIKAM_DAY, `${FABRIKAM_DAY}    seatsFrom: current-month\n`);
    const r = await validate(dir);
    expect(r.code).toBe(0);
    expect(located(r.diags)).toEqual([`customers/fabrikam-retail.yaml:${SEATS_FROM_AT} warning rule.seats-month-early`]);
    expect(r.diags[0].message).toContain("day 1");
    expect(r.diags[0].hint).toContain("seatsFrom: previous-month");
    expect((await runCli(["validate", "--strict"], { cwd: dir })).code).toBe(1);
    for (const day of [2, 3]) {
      edit(dir, "customers/fabrikam-retail.yaml", /dayOfMonth: \d+/.exec(readFileSync(join(dir, "customers/fabrikam-retail.yaml"), "utf8"))![0], `dayOfMonth: ${day}`);
      expect(located((await validate(dir)).diags), `day ${day}`).toEqual([`customers/fabrikam-retail.yaml:${SEATS_FROM_AT} warning rule.seats-month-early`]);
    }
  });

  it("no warning from `previous-month` on the 1st, nor from `current-month` on the 4th", async () => {
    const dir = workspace();
    edit(dir, "customers/fabrikam-retail.yaml", FABRIKAM_DAY, `${FABRIKAM_DAY}    seatsFrom: previous-month\n`);
    expect((await validate(dir)).diags).toEqual([]);
    edit(dir, "customers/fabrikam-retail.yaml", `${FABRIKAM_DAY}    seatsFrom: previous-month\n`, "    dayOfMonth: 4\n    seatsFrom: current-month\n");
    expect((await validate(dir)).diags).toEqual([]);
  });

  it("the global block billing on the 1st from `current-month` is warned about in _global.yaml", async () => {
    const dir = workspace();
    edit(dir, "customers/_global.yaml", "billing: { products: all, dayOfMonth: 1 }", "billing: { products: all, dayOfMonth: 1, seatsFrom: current-month }");
    const r = await validate(dir);
    expect(r.code).toBe(0);
    expect(r.diags.map((d) => `${d.file} ${d.severity} ${d.code}`)).toEqual(["customers/_global.yaml warning rule.seats-month-early"]);
  });
});

describe("the seats month", () => {
  const billing = (seatsFrom?: EffectiveReport["seatsFrom"]): EffectiveReport => ({
    report: "billing", spec: { kind: "monthly-day", dayOfMonth: 1 }, products: ["wfbs-svc"], ...(seatsFrom ? { seatsFrom } : {}),
  });

  it("is the billing day's month in the customer's zone by default, the one before with previous-month (across a year)", () => {
    const due = new Date("2027-01-01T06:00:00Z");
    expect(seatsMonthOf({ timezone: "Europe/Rome" }, billing(), due)).toBe("2027-01");
    expect(seatsMonthOf({ timezone: "Europe/Rome" }, billing("current-month"), due)).toBe("2027-01");
    expect(seatsMonthOf({ timezone: "Europe/Rome" }, billing("previous-month"), due)).toBe("2026-12");
    // still 31 December in New York: the month before that is November
    expect(seatsMonthOf({ timezone: "America/New_York" }, billing("previous-month"), new Date("2027-01-01T03:00:00Z"))).toBe("2026-11");
  });

  it("the plan's schedule line says so only for previous-month", () => {
    const c = { at: "06:00", timezone: "UTC" };
    expect(describeSchedule(billing(), c)).toBe("day 1 of every month at 06:00 UTC");
    expect(describeSchedule(billing("previous-month"), c)).toBe("day 1 of every month at 06:00 UTC, seats from the previous month's LMP report");
  });
});

describe("a reconcile billing from the previous month's report", () => {
  /** The first reconcile: nothing before it is back-filled. */
  const T0 = "2026-11-30T12:00:00Z";
  /** Bluewater (global settings) and Fabrikam (its own block) bill on the 1st. */
  const T1 = "2026-12-01T12:00:00Z";
  const FABRIKAM = "Billing 2026-12 Fabrikam Retail cws-b183c8a0e7";
  const BLUEWATER = "Billing 2026-12 Bluewater Dental Group cws-82c6c8de51";

  const noteOf = (w: ReconcileWorld, summary: string) => w.cw.state.notes.find((n) => n.ticketId === w.cw.state.tickets.find((t) => t.summary === summary)?.id)?.text;
  const lmpiMonths = (w: ReconcileWorld) =>
    [...new Set(w.lmpi.requests.map((q) => q.body as { report_cycle_year?: string; report_cycle_month?: string } | undefined)
      .filter((b) => b?.report_cycle_month).map((b) => `${b!.report_cycle_year}-${b!.report_cycle_month}`))].sort();

  /** The sandbox report, with Fabrikam's Cloud Edge appliances told apart by month: 7 in November, 3 in December. */
  function distinctMonths(w: ReconcileWorld): void {
    const { customers, global } = loadSandboxCustomers(w.repo.dir);
    const base = seedLmpiFromCustomers(customers, global);
    w.lmpi.setRows((year, month) => base(year, month).map((r) =>
      r.customer === "Fabrikam Retail Ltd" && r.product_name === "Cloud Edge" ? { ...r, provisioned: month === 11 ? 7 : 3, used: month === 11 ? 7 : 3 } : r));
  }

  it("fetches the previous month's LMP report for that customer, bills its seats, and the ticket names the month; others keep the current month", async () => {
    const w = await reconcileWorld();
    edit(w.repo.dir, "customers/fabrikam-retail.yaml", FABRIKAM_DAY, `${FABRIKAM_DAY}    seatsFrom: previous-month\n`);
    w.repo.commit("fabrikam: bill last month's seats");
    distinctMonths(w);
    const first = await w.run("reconcile", "--at", T0);
    expect(first.code, first.stdout + first.stderr).toBe(0);
    w.lmpi.requests.length = 0;

    const r = await w.run("reconcile", "--at", T1, "--format", "json");
    expect(r.code, r.stdout + r.stderr).toBe(0);
    // Fabrikam reads November; Bluewater (the default) reads December, as before
    expect(lmpiMonths(w)).toEqual(["2026-11", "2026-12"]);

    const json = JSON.parse(r.stdout) as { actions: { kind: string; customer: string; lines?: { product: string; op: string; quantity?: number }[] }[] };
    const fabrikam = json.actions.find((a) => a.kind === "billing" && a.customer === "fabrikam-retail")!;
    // (the sandbox gives Fabrikam two default agreements: only Cloud Edge, mapped by name, is billed)
    expect(fabrikam.lines!.find((l) => l.product === "cloud-edge")).toMatchObject({ op: "create", quantity: 7 });

    expect(noteOf(w, FABRIKAM)).toContain("Seats: LMP report for 2026-11 (previous month).");
    expect(noteOf(w, BLUEWATER)).toContain("Seats: LMP report for 2026-12 (current month).");

    // a send-now bills from the same month as the schedule would
    w.lmpi.requests.length = 0;
    const now = await w.run("send-now", "fabrikam-retail", "billing", "--at", "2026-12-02T09:00:00Z");
    expect(now.code, now.stdout + now.stderr).toBe(0);
    expect(lmpiMonths(w)).toEqual(["2026-11"]);
  });
});
