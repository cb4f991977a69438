import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempRepo } from "./helpers/git-repo.ts";
import { reconcileWorld, type ReconcileWorld } from "./helpers/reconcile-world.ts";
import { runCli } from "./helpers/run-cli.ts";

// before the billing days: northwind bills 2026-11-29, bluewater-dental 2026-12-01 (seeded seats: hes 76 → 78 and 61 → 54)
const AT = "2026-11-25T00:00:00Z";
const HOSTILE = "Hosted <b>Email</b> *Security* @team";

interface Line { product: string; op: string; previous?: number; quantity?: number; change?: number; unitPrice?: number; money?: number; decrease: boolean; reason?: string }
interface Preview { customer: string; state: string; periodKey?: string; due?: string; seatsMonth?: string; reason?: string; message?: string; lines?: Line[] }

/** The sandbox additions of a customer's agreement named `agreement`. */
const additionOn = (w: ReconcileWorld, agreement: string, item: string) => {
  const id = w.cw.state.agreements.find((a) => a.name === agreement)!.id;
  return w.cw.state.additions.find((a) => a.agreementId === id && a.product.identifier === item)!;
};

describe("cwsync plan --online: the billing preview (DESIGN §10)", () => {
  it("shows each addition's quantity now → the LMP seats now, the money where priced, a held decrease flagged; writes nothing", async () => {
    const w = await reconcileWorld();
    additionOn(w, "Northwind - Hosted Email", "TM-HES").unitPrice = 3.25;
    const text = await w.run("plan", "--online", "--at", AT);
    // fabrikam-retail's ambiguous agreement fails the plan, as before: the preview changes no exit code
    expect(text.code).toBe(1);
    expect(text.stdout).toContain("Billing preview:");
    expect(text.stdout).toContain("  northwind-logistics: billing 2026-11 (due 2026-11-29 08:30 EST, seats from the LMP report for 2026-11)");
    expect(text.stdout).toContain("      · hes 76 → 78 (+2, +6.50 a month)");
    expect(text.stdout).toContain("      · tmems-standard 62 → 62: unchanged");
    expect(text.stdout).toContain("  bluewater-dental: billing 2026-12 (due 2026-12-01 06:00 UTC, seats from the LMP report for 2026-12)");
    expect(text.stdout).toMatch(/ {6}▼ hes 61 → 54 \(−7, −\d+\.\d\d a month\): decrease held \(decreases: hold\)/);
    // contoso-legal is suspended until 2027-01-15: its next billing that goes out is February's
    expect(text.stdout).toContain("  contoso-legal: billing 2027-02 (due 2027-02-01 06:00 UTC");
    expect(text.stdout).toMatch(/· wfbs-svc: not billed: agreement\.ambiguous/);

    const json = await w.run("plan", "--online", "--at", AT, "--format", "json");
    expect(json.code).toBe(1);
    const preview = JSON.parse(json.stdout).online.preview as Preview[];
    const bluewater = preview.find((p) => p.customer === "bluewater-dental")!;
    expect(bluewater).toMatchObject({ state: "ok", periodKey: "2026-12", due: "2026-12-01T06:00:00.000Z", seatsMonth: "2026-12" });
    const held = bluewater.lines!.find((l) => l.product === "hes")!;
    expect(held).toMatchObject({ op: "held", previous: 61, quantity: 54, change: -7, decrease: true, reason: "decrease.held" });
    expect(held.money).toBe(Math.round(-7 * held.unitPrice! * 100) / 100);
    const northwind = preview.find((p) => p.customer === "northwind-logistics")!;
    expect(northwind.lines!.find((l) => l.product === "hes")).toMatchObject({ op: "set", previous: 76, quantity: 78, change: 2, unitPrice: 3.25, money: 6.5, decrease: false });
    expect(northwind.lines!.find((l) => l.product === "iwsaas")).toMatchObject({ op: "create", quantity: 29, change: 29, decrease: false });
    // disabled customers are not previewed
    expect(preview.map((p) => p.customer)).not.toContain("fabrikam-retail-legacy");

    // read-only: no POST, PATCH, PUT or DELETE reached ConnectWise, and the additions are as seeded
    expect(w.writes()).toEqual([]);
    expect(additionOn(w, "Northwind - Hosted Email", "TM-HES").quantity).toBe(76);
  });

  it("the pull-request comment carries it as a table, names escaped", async () => {
    const repo = tempRepo();
    const global = readFileSync(join(repo.dir, "customers", "_global.yaml"), "utf8");
    repo.write("customers/_global.yaml", global.replace("displayName: Hosted Email Security", `displayName: "${HOSTILE}"`));
    const w = await reconcileWorld({ repo });
    const md = await w.run("plan", "--online", "--at", AT, "--format", "markdown");
    expect(md.code).toBe(1);
    expect(md.stdout.startsWith("<!-- cwsync-plan -->")).toBe(true);
    expect(md.stdout).toContain("### Billing preview");
    expect(md.stdout).toContain("| Customer | Next billing | Product | Now → seats |");
    expect(md.stdout).toMatch(/\| \*\*bluewater-dental\*\* \| 2026-12 \(due 2026-12-01 06:00 UTC; LMP 2026-12\) \| /);
    expect(md.stdout).toContain("| Hosted &lt;b&gt;Email&lt;/b&gt; \\*Security\\* @\u200bteam | ▼ hes 61 → 54 \\(−7, ");
    expect(md.stdout).not.toContain("<b>");
    expect(md.stdout).not.toMatch(/@team/);
    expect(w.writes()).toEqual([]);
  });

  it("without the LMP, each customer says why it has no preview, and the plan's exit code is unchanged", async () => {
    const repo = tempRepo();
    repo.remove("customers/fabrikam-retail.yaml");
    const w = await reconcileWorld({ repo });
    const env = Object.fromEntries(Object.entries(w.env).filter(([k]) => !k.startsWith("LMPI_")));
    const r = await runCli(["plan", "--online", "--at", AT], { cwd: repo.dir, env });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/: 6 of 6 customers OK/);
    expect(r.stdout).toMatch(/ {2}– northwind-logistics: billing 2026-11 \(due 2026-11-29 08:30 EST, seats from the LMP report for 2026-11\): no preview — license\.unavailable: the LMP report for 2026-11 could not be read: .*LMPI_URL/);
    const json = JSON.parse((await runCli(["plan", "--online", "--at", AT, "--format", "json"], { cwd: repo.dir, env })).stdout);
    expect((json.online.preview as Preview[]).every((p) => p.state === "none" && p.reason === "license.unavailable")).toBe(true);
    // the comment says it once, not once per customer
    const md = await runCli(["plan", "--online", "--at", AT, "--format", "markdown"], { cwd: repo.dir, env });
    expect(md.stdout).toMatch(/### Billing preview\n\n_Not available for any of 6 customers: the LMP report for 20\d\d-\d\d could not be read: .*LMPI\\_URL/);
    expect(md.stdout).not.toContain("| Customer | Next billing |");
    expect(w.writes()).toEqual([]);
  });
});
