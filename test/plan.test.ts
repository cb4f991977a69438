import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempRepo } from "./helpers/git-repo.ts";
import { reconcileWorld } from "./helpers/reconcile-world.ts";
import { runCli } from "./helpers/run-cli.ts";

const AT = "2026-11-25T00:00:00Z";
const read = (dir: string, f: string) => readFileSync(join(dir, "customers", f), "utf8");

describe("cwsync plan (offline)", () => {
  it("shows effective settings and the next 3 sends per report, local and UTC, with fall-back notes", async () => {
    const repo = tempRepo();
    const r = await runCli(["plan", "--at", AT], { cwd: repo.dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("acme-corp (Acme Corporation) — custom settings, Europe/Rome, at 07:00; company AcmeCorp");
    expect(r.stdout).toContain("2026-11-30 07:00 CET (2026-11-30T06:00Z)  period 2026-11  — day 31 falls back to 30");
    // global settings resolved for bluewater-dental: billing on the 1st at 06:00 UTC, `all` = every mapped product
    expect(r.stdout).toMatch(/bluewater-dental .*global settings, UTC, at 06:00/);
    expect(r.stdout).toContain("Billing (cas, hes, wfbs-adv) — day 1 of every month at 06:00 UTC");
    // suspended through 2027-01-15: December and January are not sent, February is
    expect(r.stdout).toContain("2027-01-01 06:00 UTC (2027-01-01T06:00Z)  period 2027-01  — not sent: suspended until 2027-01-15");
    expect(r.stdout).toMatch(/2027-02-01 06:00 UTC \(2027-02-01T06:00Z\) {2}period 2027-02\n/);
    // 3 sends per report
    const acme = r.stdout.split("\n\n").find((b) => b.startsWith("acme-corp"))!;
    expect(acme.match(/period 2026-W\d\d/g)).toHaveLength(3);
  });

  it("--format json is only JSON, with ISO instants and period keys", async () => {
    const repo = tempRepo();
    const r = await runCli(["plan", "--at", AT, "--format", "json"], { cwd: repo.dir });
    const plan = JSON.parse(r.stdout);
    const northwind = plan.customers.find((c: { name: string }) => c.name === "northwind-logistics");
    const billing = northwind.reports.find((x: { report: string }) => x.report === "billing");
    expect(billing.sends.map((s: { due: string }) => s.due)).toEqual(["2026-11-29T13:30:00.000Z", "2026-12-29T13:30:00.000Z", "2027-01-29T13:30:00.000Z"]);
    expect(northwind.companyId).toBe("0042");
  });

  it("--base compares a revision with the working tree: added, removed, changed, and moved sends", async () => {
    const repo = tempRepo();
    const base = repo.git("rev-parse", "HEAD").trim();
    repo.write("customers/acme-corp.yaml", read(repo.dir, "acme-corp.yaml").replace("dayOfMonth: 31", "dayOfMonth: 15"));
    repo.remove("customers/outback-mining.yaml");
    repo.write("customers/zephyr-air.yaml", read(repo.dir, "bluewater-dental.yaml").replaceAll("bluewater-dental", "zephyr-air").replace("BluewaterDental", "ZephyrAir"));
    const r = await runCli(["plan", "--base", base, "--at", AT, "--detailed-exitcode"], { cwd: repo.dir });
    expect(r.code).toBe(2);
    expect(r.stdout).toContain("~ acme-corp\n    billing.schedule: day 31 of every month at 07:00 Europe/Rome → day 15 of every month at 07:00 Europe/Rome");
    // on 25 November the 15th has passed: November's billing, not yet sent, goes out as soon as this is merged
    expect(r.stdout).toContain("next Billing: 2026-11-30 07:00 CET (2026-11) → 2026-11 sent when merged (due 2026-11-15 07:00 CET); then 2026-12-15 07:00 CET (2026-12)");
    expect(r.stdout).toContain("- outback-mining: removed — its sends stop");
    expect(r.stdout).toContain("+ zephyr-air: added");
    expect(r.stdout).toContain("Plan: 1 to add, 1 to change, 1 to remove, 6 unchanged.");
  });

  it("groups the same change to many customers (a global setting) and shows how sends move", async () => {
    const repo = tempRepo();
    const base = repo.git("rev-parse", "HEAD").trim();
    repo.write("customers/_global.yaml", read(repo.dir, "_global.yaml").replace('at: "06:00"', 'at: "09:15"'));
    const r = await runCli(["plan", "--base", base, "--at", AT], { cwd: repo.dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Global settings (_global.yaml):\n  ~ notifications.at: 06:00 → 09:15");
    // fabrikam-retail-legacy has no email domains, so it gets no HES report: its change differs
    expect(r.stdout).toMatch(/The same change to 2 customers \(bluewater-dental, contoso-legal\):\n {2}~ at: 06:00 → 09:15\n/);
    expect(r.stdout).toContain("~ bluewater-dental (the same change as above)\n    next Billing:");
    expect(r.stdout).toContain("~ fabrikam-retail-legacy\n    at: 06:00 → 09:15\n");
    expect(r.stdout).toContain("next Billing: 2026-12-01 06:00 UTC (2026-12) → 2026-12-01 09:15 UTC (2026-12)");
  });

  it("reports no changes (exit 0 with --detailed-exitcode) when nothing changed", async () => {
    const repo = tempRepo();
    const r = await runCli(["plan", "--base", "HEAD", "--at", AT, "--detailed-exitcode"], { cwd: repo.dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Plan: 0 to add, 0 to change, 0 to remove, 8 unchanged.");
  });

  it("an invalid customer keeps its last valid config: listed as invalid, not as removed; exit 1", async () => {
    const repo = tempRepo();
    repo.write("customers/acme-corp.yaml", read(repo.dir, "acme-corp.yaml").replace("companyId: AcmeCorp", "compnyId: AcmeCorp"));
    const r = await runCli(["plan", "--base", "HEAD", "--at", AT], { cwd: repo.dir });
    expect(r.code).toBe(1);
    expect(r.stdout).not.toContain("- acme-corp");
    expect(r.stdout).toMatch(/acme-corp: \d+ error\(s\), first at customers\/acme-corp\.yaml:\d+:\d+ schema\./);
  });

  it("a broken _global.yaml holds every customer back", async () => {
    const repo = tempRepo();
    repo.write("customers/_global.yaml", read(repo.dir, "_global.yaml").replace("kind: Global", "kind: Globl"));
    const r = await runCli(["plan", "--at", AT], { cwd: repo.dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("_global.yaml is invalid: every customer is held back");
  });

  it("an unknown --base revision is a usage error naming it", async () => {
    const repo = tempRepo();
    const r = await runCli(["plan", "--base", "origin/nope"], { cwd: repo.dir });
    expect(r.code).toBe(64);
    expect(r.stderr).toContain("`origin/nope` is not a commit");
  });

  it("markdown fits a pull-request comment and summarizes the overflow", async () => {
    const repo = tempRepo();
    const base = repo.git("rev-parse", "HEAD").trim();
    const template = read(repo.dir, "acme-corp.yaml");
    for (let i = 0; i < 1500; i++) {
      const name = `bulk-${String(i).padStart(4, "0")}`;
      repo.write(`customers/${name}.yaml`, template.replaceAll("acme-corp", name).replace("AcmeCorp", `Bulk${i}`));
    }
    const r = await runCli(["plan", "--base", base, "--at", AT, "--format", "markdown"], { cwd: repo.dir });
    expect(r.code).toBe(0);
    expect(r.stdout.length).toBeLessThanOrEqual(60_000);
    expect(r.stdout).toContain("**1500 to add, 0 to change, 0 to remove**");
    expect(r.stdout).toMatch(/\*\*\d+ more not shown\*\* to fit a comment/);
    expect(r.stdout.startsWith("<!-- cwsync-plan -->")).toBe(true);
  });
});

describe("cwsync plan --online: a failed ConnectWise check fails the plan", () => {
  // The sandbox seeds ConnectWise from the repository's customers/: fabrikam-retail's `default`
  // mapping finds two active agreements (ambiguous); every other enabled customer resolves.
  it("exits 1 on an ambiguous agreement, after printing the whole plan (markdown for the comment included)", async () => {
    const repo = tempRepo();
    const text = await runCli(["plan", "--online", "--sandbox", "--at", AT], { cwd: repo.dir });
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/✖ fabrikam-retail: company #\d+ “Fabrikam Retail” \(Active\)\n {6}✖ wfbs-svc: agreement\.ambiguous/);
    expect(text.stdout).toContain("acme-corp (Acme Corporation) — custom settings");
    expect(text.stderr).toBe("");

    const markdown = await runCli(["plan", "--online", "--sandbox", "--at", AT, "--format", "markdown"], { cwd: repo.dir });
    expect(markdown.code).toBe(1);
    expect(markdown.stdout.startsWith("<!-- cwsync-plan -->")).toBe(true);
    expect(markdown.stdout).toMatch(/\| \*\*fabrikam-retail\*\* \| company #\d+ .* \| ✖ wfbs-svc: agreement\.ambiguous/);
    expect(markdown.stdout).toContain("northwind-logistics");
  });

  it("an online error wins over --detailed-exitcode's 2; without one, 2 still means changes", async () => {
    const repo = tempRepo();
    const base = repo.git("rev-parse", "HEAD").trim();
    repo.write("customers/acme-corp.yaml", read(repo.dir, "acme-corp.yaml").replace("dayOfMonth: 31", "dayOfMonth: 15"));
    const args = ["plan", "--online", "--sandbox", "--base", base, "--at", AT, "--detailed-exitcode"];
    const failing = await runCli(args, { cwd: repo.dir });
    expect(failing.code).toBe(1);
    expect(failing.stdout).toContain("~ acme-corp\n    billing.schedule: day 31 of every month at 07:00 Europe/Rome → day 15");

    repo.remove("customers/fabrikam-retail.yaml");
    const clean = await runCli(args, { cwd: repo.dir });
    expect(clean.stdout).toMatch(/: 6 of 6 customers OK/);
    expect(clean.code).toBe(2);
    expect((await runCli(["plan", "--online", "--sandbox", "--at", AT], { cwd: repo.dir })).code).toBe(0);
  });
});

describe("one model of what a change does: the plan states what the reconcile after the merge does", () => {
  // the daemon ran the base until this instant and sent all that was due; then the change is merged
  const MERGED = "2026-12-05T12:00:00Z";

  /** What a reconcile's JSON says it sent, as `customer report period`. */
  const sentBy = (json: string) => {
    const r = JSON.parse(json) as { actions: { key: string; customer: string; report: string; periodKey: string }[]; outcomes: { key: string; result: string }[] };
    const done = new Set(r.outcomes.filter((o) => o.result === "done").map((o) => o.key));
    return r.actions.filter((a) => done.has(a.key)).map((a) => `${a.customer} ${a.report} ${a.periodKey}`).sort();
  };

  /** What the plan's JSON says the merge sends at once. */
  const atOnceIn = (json: string) => {
    const p = JSON.parse(json) as { diff: { changes: { name: string; moves: { report: string; atOnce: { periodKey: string; outcome: string }[] }[] }[] } };
    return p.diff.changes.flatMap((c) => c.moves.flatMap((m) => m.atOnce.filter((x) => x.outcome === "sent").map((x) => `${c.name} ${m.report} ${x.periodKey}`))).sort();
  };

  it("billing moved from day 31 to day 3 on 5 December: December's billing goes out when merged, in the plan and in ConnectWise", async () => {
    const w = await reconcileWorld();
    expect((await w.run("reconcile", "--at", "2026-10-01T12:00:00Z")).code).toBe(0);
    expect((await w.run("reconcile", "--at", MERGED)).code).toBe(0);
    const base = w.repo.git("rev-parse", "HEAD").trim();
    w.repo.write("customers/acme-corp.yaml", read(w.repo.dir, "acme-corp.yaml").replace("dayOfMonth: 31", "dayOfMonth: 3"));
    w.repo.commit("bill acme-corp on the 3rd");

    const text = await w.run("plan", "--base", base, "--at", MERGED);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain("next Billing: 2026-12-31 07:00 CET (2026-12) → 2026-12 sent when merged (due 2026-12-03 07:00 CET); then 2027-01-03 07:00 CET (2027-01)");
    const plan = await w.run("plan", "--base", base, "--at", MERGED, "--format", "json");
    expect(atOnceIn(plan.stdout)).toEqual(["acme-corp billing 2026-12"]);

    const merged = await w.run("reconcile", "--at", MERGED, "--format", "json");
    expect(merged.code, merged.stderr).toBe(0);
    expect(sentBy(merged.stdout)).toEqual(atOnceIn(plan.stdout));
  });

  it("deleting 3 of 8 customers: the plan says the guard holds them, and the reconcile after the merge holds them", async () => {
    const w = await reconcileWorld();
    expect((await w.run("reconcile", "--at", MERGED)).code).toBe(0);
    const base = w.repo.git("rev-parse", "HEAD").trim();
    const gone = ["bluewater-dental", "northwind-logistics", "outback-mining"];
    for (const name of gone) w.repo.remove(`customers/${name}.yaml`);
    w.repo.commit("offboard three customers");

    const text = await w.run("plan", "--base", base, "--at", MERGED);
    for (const name of gone) {
      expect(text.stdout).toContain(`- ${name}: removed — held: this change removes 3 of 8 customers (more than a quarter), so the reconcile keeps running it until one runs with --allow-mass-removal`);
    }
    expect(text.stdout).not.toContain("its sends stop");
    const plan = JSON.parse((await w.run("plan", "--base", base, "--at", MERGED, "--format", "json")).stdout);

    const merged = await w.run("reconcile", "--at", MERGED, "--format", "json");
    const r = JSON.parse(merged.stdout);
    expect(r.massRemoval).toEqual(plan.diff.massRemoval);
    expect(r.massRemoval).toMatchObject({ removed: gone, of: 8, held: true });
  });
});
