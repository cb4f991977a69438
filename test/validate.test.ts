import { mkdtempSync, readFileSync, rmSync, writeFileSync, cpSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { runCli } from "./helpers/run-cli.ts";

const EXAMPLES = join(import.meta.dirname, "../customers");

function workspace(): string {
  const dir = mkdtempSync(join(tmpdir(), "cwsync-validate-"));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(EXAMPLES, join(dir, "customers"), { recursive: true });
  return dir;
}

const edit = (dir: string, file: string, from: string, to: string) => {
  const path = join(dir, "customers", file);
  const text = readFileSync(path, "utf8");
  if (!text.includes(from)) throw new Error(`fixture edit: ${from} not in ${file}`);
  writeFileSync(path, text.replace(from, to));
};

describe("cwsync validate", () => {
  it("passes the example customers with exit 0", async () => {
    const r = await runCli(["validate"], { cwd: workspace() });
    expect(r.stdout).toBe("✔ 9 files valid\n");
    expect(r.code).toBe(0);
  });

  it("reports every problem with file:line:col, a code frame and a hint; exit 1", async () => {
    const dir = workspace();
    edit(dir, "acme-corp.yaml", "  companyId: AcmeCorp", "  compnyId: AcmeCorp");
    edit(dir, "northwind-logistics.yaml", 'companyId: "0042"', "companyId: 0042");
    const r = await runCli(["validate"], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("customers/acme-corp.yaml:12:3 error schema.additionalProperties: unknown key `compnyId` in `connectwise`");
    expect(r.stdout).toContain("> 12 |   compnyId: AcmeCorp\n     |   ^^^^^^^^\n  hint: did you mean `companyId`?");
    expect(r.stdout).toContain("customers/northwind-logistics.yaml:12:14 error schema.type: `connectwise.companyId` must be a string, found number `42`");
    expect(r.stdout).toContain('hint: quote it: `"0042"`');
    // the missing companyId of an enabled integration is reported at its parent mapping
    expect(r.stdout).toContain("customers/acme-corp.yaml:11:3 error schema.required");
    expect(r.stdout).toMatch(/✖ 3 errors, 0 warnings in 2 of 9 files\n$/);
  });

  it("--format json prints only a JSON array of diagnostics", async () => {
    const dir = workspace();
    edit(dir, "acme-corp.yaml", "timezone: Europe/Rome", "timezone: Europe/Roma");
    const r = await runCli(["validate", "--format", "json"], { cwd: dir });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toEqual([
      {
        severity: "error", code: "rule.timezone", file: "customers/acme-corp.yaml", line: 19, col: 13, path: "/notifications/timezone",
        message: "`Europe/Roma` is not an IANA time zone", hint: "did you mean `Europe/Rome`?",
      },
    ]);
  });

  it("warnings pass, unless --strict", async () => {
    const dir = workspace();
    edit(dir, "bluewater-dental.yaml", "  emailDomains: [bluewaterdental.example]\n", "");
    const normal = await runCli(["validate"], { cwd: dir });
    expect(normal.code).toBe(0);
    expect(normal.stdout).toContain("warning rule.email-domains-required");
    const strict = await runCli(["validate", "--strict"], { cwd: dir });
    expect(strict.code).toBe(1);
  });

  it("--format github: annotations on stdout and every diagnostic in the step summary", async () => {
    const dir = workspace();
    edit(dir, "acme-corp.yaml", "dayOfMonth: 31", "dayOfMonth: 32");
    const summary = join(dir, "summary.md");
    writeFileSync(summary, "");
    const r = await runCli(["validate", "--format", "github"], { cwd: dir, env: { GITHUB_STEP_SUMMARY: summary } });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^::error file=customers\/acme-corp\.yaml,line=23,col=17,.*title=schema\.maximum::/m);
    expect(readFileSync(summary, "utf8")).toContain("schema.maximum");
  });

  it("a broken _global.yaml is reported once and blocks every customer", async () => {
    const dir = workspace();
    edit(dir, "_global.yaml", "    catalogItem: TM-CAS\n", "    catalogItem: TM-CAS\n    catalogItem: TM-CAS2\n");
    const r = await runCli(["validate", "--format", "json"], { cwd: dir });
    const diags = JSON.parse(r.stdout) as { code: string; file: string; message: string }[];
    expect(diags.map((d) => d.code)).toEqual(["yaml.DUPLICATE_KEY", "global.blocking"]);
    expect(diags[1].message).toContain("all 8 customers are held back");
  });

  it("explicit files are checked with their folder's _global.yaml and cross-file rules among them", async () => {
    const dir = workspace();
    edit(dir, "outback-mining.yaml", "companyId: OutbackMining", "companyId: acmecorp");
    const both = await runCli(["validate", "customers/acme-corp.yaml", "customers/outback-mining.yaml", "--format", "json"], { cwd: dir });
    expect(JSON.parse(both.stdout).map((d: { code: string; file: string }) => `${d.file} ${d.code}`)).toEqual([
      "customers/acme-corp.yaml rule.duplicate-company",
      "customers/outback-mining.yaml rule.duplicate-company",
    ]);
    const one = await runCli(["validate", "customers/outback-mining.yaml"], { cwd: dir });
    expect(one.code).toBe(0);
  });

  it("usage errors exit 64", async () => {
    const dir = workspace();
    expect((await runCli(["validate", "--format", "xml"], { cwd: dir })).code).toBe(64);
    const missing = await runCli(["validate", "nope/"], { cwd: dir });
    expect(missing.code).toBe(64);
    expect(missing.stderr).toContain("no such file or folder: nope/");
    expect((await runCli(["frobnicate"], { cwd: dir })).code).toBe(64);
  });
});
