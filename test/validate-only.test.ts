import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { listConfigFiles } from "../src/adapters/config-files.ts";
import { checkFolder, loadFolder } from "../src/adapters/load-folder.ts";
// @ts-expect-error: a JavaScript module of the benchmarks, without types
import { generateCustomers } from "../bench/generate.mjs";

// `validate` keeps only diagnostics and the cross-file facts of each file (checkFolder), where
// `plan` and the daemon keep the parsed documents (loadFolder): on a folder with problems of every
// kind, per file and across files, both give the same diagnostics in the same order, and the texts
// of every file with a diagnostic (code frames), read again for a file whose only diagnostics are
// cross-file ones.

const ROOT = new URL("..", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "cwsync-validate-only-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function folder(count: number, problems: boolean): string {
  const customers = join(dir, `customers-${count}-${problems}`);
  generateCustomers(customers, count, join(ROOT, "customers/_global.yaml"));
  if (!problems) return customers;
  const edit = (n: number, from: string | RegExp, to: string) => {
    const file = join(customers, `c-${String(n).padStart(5, "0")}.yaml`);
    writeFileSync(file, readFileSync(file, "utf8").replace(from, to));
  };
  edit(10, /^name: c-00010$/m, "name: c-00011"); // a duplicate name (and a name mismatch)
  edit(count - 5, /^name: .*$/m, "name: c-00011"); // a third
  edit(20, /"C000020"/, '"c000021"'); // a duplicate company ID, in another case, in a file with no other problem
  edit(count - 50, /"C0\d+"/, '"C000021"');
  edit(30, /^kind: Customer$/m, "kind: Customr"); // schema
  appendFileSync(join(customers, "c-00040.yaml"), "name: [unclosed\n"); // YAML
  edit(50, "wfbs-svc: default", "wfbs-svcx: default"); // unknown product
  edit(count - 1, /^owner: .*$/m, "owner: 42");
  appendFileSync(join(customers, `c-${String(count - 2).padStart(5, "0")}.yaml`), "extra: &a [1]\nmore: *a\n");
  edit(60, "  enabled: true", "  enabled: &e true"); // a clean file on the full parser
  return customers;
}

function compare(customers: string) {
  const [g] = listConfigFiles([customers], dir).groups;
  const checked = checkFolder(g);
  const loaded = loadFolder(g);
  expect(JSON.stringify(checked.diagnostics)).toBe(JSON.stringify(loaded.diagnostics));
  expect(checked.filesChecked).toBe(loaded.filesChecked);
  const texts = new Map(checked.sources.map((s) => [s.path, s.text]));
  const loadedTexts = new Map([loaded.globalSource, ...loaded.customers.map((c) => c.source)].map((s) => [s?.path, s?.text]));
  for (const d of loaded.diagnostics) expect(texts.get(d.file)).toBe(loadedTexts.get(d.file));
  // and only those (and `_global.yaml`'s): the text of a file without diagnostics is not kept to the end
  expect(new Set(checked.sources.map((s) => s.path))).toEqual(new Set([g.globalPath, ...loaded.diagnostics.map((d) => d.file)]));
  return checked;
}

describe("validate's loader (checkFolder)", () => {
  it("finds what loadFolder finds, in the same order, on a folder with problems", () => {
    expect(compare(folder(300, true)).diagnostics.length).toBeGreaterThan(10);
  });

  it("finds nothing where loadFolder finds nothing (the customers are then not sorted)", () => {
    expect(compare(folder(50, false)).diagnostics).toEqual([]);
  });

  it("counts every customer held back by an invalid _global.yaml, though it keeps nothing of the valid ones", () => {
    const customers = folder(40, false);
    appendFileSync(join(customers, "_global.yaml"), "unknownKey: 1\n");
    const blocking = compare(customers).diagnostics.find((d) => d.code === "global.blocking");
    expect(blocking?.message).toContain("all 40 customers are held back");
  });

  it("a name shared only with a file without diagnostics of its own", () => {
    const customers = folder(30, false);
    const file = join(customers, "c-00003.yaml");
    // c-00003 says it is c-00004 (which has nothing wrong): both are reported
    writeFileSync(file, readFileSync(file, "utf8").replace(/^name: .*$/m, "name: c-00004"));
    expect(compare(customers).diagnostics.filter((d) => d.code === "rule.duplicate-name")).toHaveLength(2);
  });

  it("files given by name without `.yaml`: `x` and `x.yaml` are both customer `x`", () => {
    const customers = folder(30, false);
    const file = (n: number) => join(customers, `c-${String(n).padStart(5, "0")}.yaml`);
    writeFileSync(join(customers, "x"), readFileSync(file(7), "utf8").replace(/^name: .*$/m, "name: x").replace(/"C0\d+"/, '"X1"'));
    writeFileSync(join(customers, "x.yaml"), readFileSync(file(8), "utf8").replace(/^name: .*$/m, "name: x").replace(/"C0\d+"/, '"X2"'));
    const groups = listConfigFiles([join(customers, "x"), join(customers, "x.yaml")], dir).groups;
    const checked = checkFolder(groups[0]);
    expect(JSON.stringify(checked.diagnostics)).toBe(JSON.stringify(loadFolder(groups[0]).diagnostics));
    expect(checked.diagnostics.map((d) => d.code)).toEqual(["rule.duplicate-name", "rule.duplicate-name"]);
  });
});
