import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { reconcileWorld, type ReconcileWorld } from "./helpers/reconcile-world.ts";

const AT = "2027-03-10T09:00:00Z";
const REMOVED = ["bluewater-dental", "contoso-legal", "northwind-logistics"];

/** The project's customers seeded into the fakes, then three files removed: their LMP customers have no file. */
async function worldWithoutThree(): Promise<ReconcileWorld> {
  const w = await reconcileWorld();
  for (const f of REMOVED) w.repo.remove(`customers/${f}.yaml`);
  return w;
}

const file = (w: ReconcileWorld, name: string) => join(w.repo.dir, "customers", `${name}.yaml`);

interface ImportJson {
  month: string;
  matched: { lmpCustomer: string; name: string; file: string; reason: string; company: { identifier: string }; agreements: Record<string, unknown>; notes: string[] }[];
  ambiguous: { lmpCustomer: string; reason: string; candidates: { identifier: string; name: string }[] }[];
  unmatched: { lmpCustomer: string; reason: string }[];
  skipped: { lmpCustomer: string; reason: string }[];
}

describe("cwsync import", () => {
  it("drafts a suspended, valid file for each LMP customer without one, and writes nothing remotely", async () => {
    const w = await worldWithoutThree();
    const r = await w.run("import", "--at", AT);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Matched \(draft written, suspended until reviewed\): 3/);
    expect(r.stdout).toMatch(/Ambiguous .*: 0/);
    expect(r.stdout).toMatch(/Unmatched .*: 0/);
    // a legal suffix in the LMP name does not stop the match
    expect(r.stdout).toContain("Northwind Logistics LLC → Northwind Logistics (0042): customers/northwind-logistics.yaml");
    expect(r.stdout).toContain("Acme Corporation: already configured by customers/acme-corp.yaml");

    const northwind = readFileSync(file(w, "northwind-logistics"), "utf8");
    expect(northwind).toContain('suspend:\n  reason: "imported: review before billing"');
    expect(northwind).toContain("customer: Northwind Logistics LLC");
    expect(northwind).toContain('companyId: "0042"');
    expect(northwind).toContain("notifications: global");
    expect(northwind).toMatch(/hes:\n {4}type: Managed Service\n {4}name: Northwind - Hosted Email/);
    const bluewater = readFileSync(file(w, "bluewater-dental-group"), "utf8");
    expect(bluewater).toMatch(/wfbs-adv: default/);
    expect(existsSync(file(w, "contoso-legal-partners"))).toBe(true);

    const valid = await w.run("validate");
    // valid; the only warnings say the drafts lack the email domains a person adds on review
    expect(valid.stdout).toContain("0 errors");
    expect(valid.stdout.match(/warning [\w.-]+/g)?.every((w) => w === "warning rule.email-domains-required")).toBe(true);
    expect(valid.code).toBe(0);
    expect(w.writes()).toEqual([]);

    // a second import finds them configured: nothing is rewritten
    const before = readFileSync(file(w, "northwind-logistics"), "utf8");
    const again = await w.run("import", "--at", AT, "--format", "json");
    const json = JSON.parse(again.stdout) as ImportJson;
    expect(json.matched).toEqual([]);
    expect(json.skipped.map((s) => s.lmpCustomer)).toContain("Northwind Logistics LLC");
    expect(readFileSync(file(w, "northwind-logistics"), "utf8")).toBe(before);
  });

  it("reports ambiguous (with the candidates) and unmatched customers with reasons, in JSON, and drafts nothing for them", async () => {
    const w = await worldWithoutThree();
    const state = w.cw.state;
    const byId = (identifier: string) => state.companies.find((c) => c.identifier === identifier)!;
    // two active companies named like Bluewater, neither holding an addition: never guessed
    const bluewater = byId("BluewaterDental");
    const agreementIds = new Set(state.agreements.filter((a) => a.company.id === bluewater.id).map((a) => a.id));
    state.additions = state.additions.filter((a) => !agreementIds.has(a.agreementId));
    state.companies.push({ ...structuredClone(bluewater), id: 990, identifier: "BluewaterDental2", name: "BLUEWATER DENTAL GROUP, Inc." });
    // a namesake of Contoso without additions: the one holding them wins
    const contoso = byId("ContosoLegal");
    state.companies.push({ ...structuredClone(contoso), id: 991, identifier: "ContosoOld", name: "Contoso Legal Partners Ltd." });
    // Northwind's company is deleted: nothing active to pair with
    byId("0042").deletedFlag = true;

    const r = await w.run("import", "--at", AT, "--month", "2027-02", "--format", "json");
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout) as ImportJson;
    expect(json.month).toBe("2027-02");
    expect(json.ambiguous).toEqual([{
      lmpCustomer: "Bluewater Dental Group",
      reason: expect.stringContaining("2 active companies named “bluewater dental group” after normalising; none holds additions"),
      candidates: [expect.objectContaining({ identifier: "BluewaterDental" }), expect.objectContaining({ identifier: "BluewaterDental2" })],
    }]);
    expect(json.unmatched).toEqual([{ lmpCustomer: "Northwind Logistics LLC", reason: expect.stringMatching(/no active company named “northwind logistics”.*\(0042, #\d+\) is deleted/) }]);
    expect(json.matched).toEqual([expect.objectContaining({
      lmpCustomer: "Contoso Legal Partners", name: "contoso-legal-partners", company: expect.objectContaining({ identifier: "ContosoLegal" }),
      reason: expect.stringContaining("only this one holds additions for wfbs-svc"),
    })]);
    expect(existsSync(file(w, "bluewater-dental-group"))).toBe(false);
    expect(existsSync(file(w, "northwind-logistics"))).toBe(false);

    const text = await w.run("import", "--at", AT, "--out", mkdtempSync(join(tmpdir(), "cwsync-import-")));
    expect(text.stdout).toMatch(/Ambiguous .*: 1\n {2}Bluewater Dental Group: 2 active companies.*\n {6}candidate: Bluewater Dental Group \(BluewaterDental, #\d+\)\n {6}candidate: BLUEWATER DENTAL GROUP, Inc\. \(BluewaterDental2, #990\)/);
    expect(text.stdout).toMatch(/Unmatched \(no company found\): 1\n {2}Northwind Logistics LLC: no active company/);
    expect(w.writes()).toEqual([]);
  });

  it("never overwrites a file in --out, and refuses a month that is not YYYY-MM", async () => {
    const w = await worldWithoutThree();
    const out = mkdtempSync(join(tmpdir(), "cwsync-import-"));
    onTestFinished(() => rmSync(out, { recursive: true, force: true }));
    writeFileSync(join(out, "contoso-legal-partners.yaml"), "# mine\n");
    const r = await w.run("import", "--at", AT, "--out", out);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Contoso Legal Partners: its draft contoso-legal-partners\.yaml would overwrite .*contoso-legal-partners\.yaml \(never overwritten\)/);
    expect(readFileSync(join(out, "contoso-legal-partners.yaml"), "utf8")).toBe("# mine\n");
    expect(existsSync(join(out, "northwind-logistics.yaml"))).toBe(true);
    expect(existsSync(file(w, "northwind-logistics"))).toBe(false);

    expect((await w.run("import", "--month", "2027-13")).code).toBe(64);
  });

  it("runs against the embedded fakes with --sandbox: every LMP customer of this repository is already configured", async () => {
    const w = await reconcileWorld();
    const r = await w.run("import", "--sandbox", "--at", AT, "--format", "json");
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout) as ImportJson;
    expect(json.matched).toEqual([]);
    expect(json.skipped.map((s) => s.reason)).toContain("already configured by customers/acme-corp.yaml");
  });
});
