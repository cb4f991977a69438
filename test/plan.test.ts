import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempRepo } from "./helpers/git-repo.ts";
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
    expect(r.stdout).toContain("next Billing: 2026-11-30 07:00 CET (2026-11) → 2026-12-15 07:00 CET (2026-12)");
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
