import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { Diagnostic } from "../config/diagnostic.ts";
import { STEP_SUMMARY_LIMIT, appendStepSummary, escapeCell, renderStepSummary } from "./step-summary.ts";

const diag = (over: Partial<Diagnostic> = {}): Diagnostic => ({
  severity: "error",
  code: "schema.required",
  file: "customers/acme.yaml",
  line: 8,
  col: 5,
  path: "/connectwise",
  message: "missing companyId",
  ...over,
});

const tableRows = (md: string) =>
  md.split("\n").filter((l) => l.startsWith("| ") && !l.startsWith("| File") && !l.startsWith("| ---"));

describe("renderStepSummary", () => {
  it("says all files are valid when there is nothing to report", () => {
    const md = renderStepSummary([], { title: "cwsync validate", filesChecked: 4 });
    expect(md).toContain("## cwsync validate");
    expect(md).toContain("✅ All 4 files valid");
    expect(md).not.toContain("|");
  });

  it("counts errors, warnings and files, and lists every diagnostic", () => {
    const diags = [
      diag(),
      diag({ file: "customers/beta.yaml", line: 3, col: 1, code: "rule.duplicate-company", hint: "did you mean `companyId`?" }),
      diag({ severity: "warning", file: "customers/beta.yaml", line: undefined, col: undefined, code: "yaml.tag" }),
    ];
    const md = renderStepSummary(diags, { title: "cwsync validate", filesChecked: 7 });
    expect(md).toContain("❌ 2 errors and 1 warning in 2 files");
    const rows = tableRows(md);
    expect(rows).toEqual([
      "| customers/acme.yaml:8:5 | error | schema.required | missing companyId |  |",
      "| customers/beta.yaml:3:1 | error | rule.duplicate-company | missing companyId | did you mean `companyId`? |",
      "| customers/beta.yaml | warning | yaml.tag | missing companyId |  |",
    ]);
  });

  it("escapes pipes and newlines so a message stays in its cell", () => {
    const md = renderStepSummary([diag({ message: "expected a | b\nfound <c>", hint: "use `a|b`" })], {
      title: "t",
      filesChecked: 1,
    });
    const rows = tableRows(md);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toBe(
      "| customers/acme.yaml:8:5 | error | schema.required | expected a \\| b<br>found &lt;c&gt; | use `a\\|b` |",
    );
    expect(escapeCell("plain")).toBe("plain");
  });

  it("stays within 1 MiB for 20,000 long diagnostics and says how many rows were left out", () => {
    const diags = Array.from({ length: 20_000 }, (_, i) =>
      diag({ line: i + 1, message: `problem ${i + 1}: ${"é".repeat(200)}`, hint: "x".repeat(100) }),
    );
    const md = renderStepSummary(diags, { title: "cwsync validate", filesChecked: 1 });
    expect(Buffer.byteLength(md, "utf8")).toBeLessThanOrEqual(STEP_SUMMARY_LIMIT);
    const rows = tableRows(md);
    expect(rows.length).toBeGreaterThan(1000);
    expect(rows.length).toBeLessThan(20_000);
    expect(rows[0]).toContain("problem 1:");
    expect(rows.at(-1)).toContain(`problem ${rows.length}:`);
    expect(md).toContain(`${20_000 - rows.length} more diagnostics of 20000 left out`);
  });

  it("keeps every row when the table fits exactly", () => {
    const diags = [diag(), diag()];
    const full = renderStepSummary(diags, { title: "t", filesChecked: 1 });
    const bytes = Buffer.byteLength(full, "utf8");
    expect(renderStepSummary(diags, { title: "t", filesChecked: 1, maxBytes: bytes })).toBe(full);
    const cut = renderStepSummary(diags, { title: "t", filesChecked: 1, maxBytes: bytes - 1 });
    expect(tableRows(cut).length).toBeLessThan(2);
    expect(cut).toMatch(/more diagnostics? of 2 left out/);
  });
});

describe("appendStepSummary", () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("appends to the file named by GITHUB_STEP_SUMMARY", async () => {
    dir = await mkdtemp(join(tmpdir(), "cwsync-summary-"));
    const file = join(dir, "summary.md");
    await writeFile(file, "earlier step\n");
    expect(await appendStepSummary("## one", { GITHUB_STEP_SUMMARY: file })).toBe(true);
    expect(await appendStepSummary("## two\n", { GITHUB_STEP_SUMMARY: file })).toBe(true);
    expect(await readFile(file, "utf8")).toBe("earlier step\n## one\n## two\n");
  });

  it("does nothing outside GitHub Actions", async () => {
    expect(await appendStepSummary("## one", {})).toBe(false);
  });
});
