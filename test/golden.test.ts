/**
 * The golden corpus of configuration files (test/fixtures):
 *
 * - `good/`: every file valid, alone and together: zero diagnostics;
 * - `bad/`: one problem per file, each validated alone with the folder's `_global.yaml`;
 * - `bad-global/<case>/`: a broken (or missing) `_global.yaml` holding back valid customers;
 * - `bad-multi/<case>/`: cross-file rules, validated as a whole folder (or a selection of files).
 *
 * A file declares what it must produce in comment lines at its end, one per diagnostic:
 * `# expect: LINE:COL CODE`. The diagnostics a file produces must equal that list exactly
 * (as a multiset: a diagnostic reported twice is a failure too).
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { readConfigFiles } from "../src/adapters/config-files.ts";
import type { Diagnostic } from "../src/config/diagnostic.ts";
import { loadConfig, type LoadResult } from "../src/config/load.ts";
import { MAX_FILE_BYTES, parseYaml } from "../src/config/yaml.ts";
import { runCli } from "./helpers/run-cli.ts";

const ROOT = join(import.meta.dirname, "..");
const FIXTURES = "test/fixtures";
const GOOD = `${FIXTURES}/good`;
const BAD = `${FIXTURES}/bad`;
const BAD_GLOBAL = `${FIXTURES}/bad-global`;
const BAD_MULTI = `${FIXTURES}/bad-multi`;

/** Files that cannot hold a comment: their expectations live here. */
const EXPECTED_ELSEWHERE: Record<string, string[]> = {
  [`${BAD}/empty.yaml`]: ["1:1 yaml.EMPTY"],
};

const read = (rel: string, cwd = ROOT) => readFileSync(join(cwd, rel), "utf8");
const yamlFiles = (dir: string) =>
  readdirSync(join(ROOT, dir)).filter((f) => f.endsWith(".yaml") && f !== "_global.yaml").sort();
const caseDirs = (dir: string) =>
  readdirSync(join(ROOT, dir), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();

/** The `# expect:` lines of a file, which must all stand at its end. */
function expectationsOf(rel: string, cwd = ROOT): string[] {
  if (EXPECTED_ELSEWHERE[rel]) return [...EXPECTED_ELSEWHERE[rel]].sort();
  const lines = read(rel, cwd).replace(/^\uFEFF/, "").split(/\r?\n/);
  while (lines.at(-1) === "") lines.pop();
  const first = lines.findIndex((l) => l.startsWith("# expect:"));
  if (first < 0) return [];
  const out: string[] = [];
  for (const line of lines.slice(first)) {
    const m = /^# expect: (\d+):(\d+) ([a-z]+\.[A-Za-z0-9_.-]+)$/.exec(line);
    if (!m) throw new Error(`${rel}: \`${line}\` after the first \`# expect:\` line; expectations go at the end, one per line`);
    out.push(`${m[1]}:${m[2]} ${m[3]}`);
  }
  return out.sort();
}

/** Reads paths the way `validate` does (each file grouped with its folder's `_global.yaml`) and loads them. */
function load(paths: string[], cwd = ROOT): LoadResult {
  const { groups, diagnostics } = readConfigFiles(paths, cwd);
  expect(diagnostics).toEqual([]);
  expect(groups).toHaveLength(1);
  return loadConfig(groups[0].files, groups[0].globalPath);
}

const located = (ds: readonly Diagnostic[]) => ds.map((d) => `${d.line}:${d.col} ${d.code}`).sort();
const of = (r: LoadResult, file: string) => r.diagnostics.filter((d) => d.file === file);

/** Codes whose diagnostics always say what to do. */
const needsHint = (code: string) =>
  /^(yaml|rule|global)\./.test(code) ||
  ["schema.additionalProperties", "schema.required", "schema.pattern", "schema.uniqueItems", "schema.const", "schema.propertyNames", "schema.minimum", "schema.maximum"].includes(code);

function expectWellFormed(d: Diagnostic): void {
  const where = `${d.file}:${d.line}:${d.col} ${d.code}`;
  expect(d.file, where).toMatch(/\.yaml$/);
  expect(["error", "warning"], where).toContain(d.severity);
  expect(d.code, where).toMatch(/^(yaml|schema|rule|global|style)\.[A-Za-z0-9_.-]+$/);
  expect(d.message.trim(), where).not.toBe("");
  expect(typeof d.path, where).toBe("string");
  // `global.missing` and `global.blocking` are about a file as a whole (the first has no file to point into)
  if (!d.code.startsWith("global.")) {
    expect(d.line, where).toBeGreaterThanOrEqual(1);
    expect(d.col, where).toBeGreaterThanOrEqual(1);
  }
  if (d.hint !== undefined || needsHint(d.code)) expect(d.hint?.trim() ?? "", where).not.toBe("");
}

function only(r: LoadResult, file: string, code: string): Diagnostic {
  const ds = of(r, file).filter((d) => d.code === code);
  expect(ds, `${file}: one ${code}`).toHaveLength(1);
  return ds[0];
}

// ---------------------------------------------------------------------------------------------

describe("good/", () => {
  const files = yamlFiles(GOOD);

  it("holds at least 40 customer files and validates as a folder with zero diagnostics", () => {
    expect(files.length).toBeGreaterThanOrEqual(40);
    const r = load([GOOD]);
    expect(r.diagnostics).toEqual([]);
    expect(r.blocked).toBe(false);
    expect(r.customers).toHaveLength(files.length);
    for (const c of r.customers) expect(c.config, c.file).toBeDefined();
  });

  it.each(files)("%s is valid on its own", (f) => {
    const r = load([`${GOOD}/${f}`]);
    expect(r.diagnostics).toEqual([]);
    expect(r.customers[0].config).toBeDefined();
  });

  it("reads the same data through the full YAML parser as through the loader (no diagnostics either)", () => {
    const r = load([GOOD]);
    for (const c of r.customers) {
      const parsed = parseYaml(c.file, read(c.file));
      expect(parsed.diagnostics, c.file).toEqual([]);
      expect(parsed.data, c.file).toEqual(c.data);
    }
  });

  it("covers the variety of the format", () => {
    const texts = files.map((f) => read(`${GOOD}/${f}`));
    const some = (re: RegExp) => texts.filter((t) => re.test(t)).length;
    expect(some(/^\uFEFF/)).toBeGreaterThanOrEqual(1); // UTF-8 BOM
    expect(some(/\r\n/)).toBeGreaterThanOrEqual(1); // CRLF
    expect(some(/^%YAML 1\.2$/m)).toBe(1);
    expect(some(/^\{/m)).toBeGreaterThanOrEqual(1); // a document in flow style
    expect(some(/ &[a-z]+ /)).toBeGreaterThanOrEqual(2); // anchors …
    expect(some(/\*[a-z]+/)).toBeGreaterThanOrEqual(2); // … and aliases
    expect(some(/companyId: ["']\d+["']/)).toBeGreaterThanOrEqual(3); // quoted numeric company IDs
    expect(some(/^notifications: global/m)).toBeGreaterThanOrEqual(5);
    expect(some(/^  timezone: /m)).toBeGreaterThanOrEqual(20);
    for (const day of [1, 15, 28, 29, 30, 31]) expect(some(new RegExp(`dayOfMonth: ${day}\\b`)), `dayOfMonth ${day}`).toBeGreaterThanOrEqual(1);
    for (const every of ["day", "week", "month"]) expect(some(new RegExp(`every: ${every}\\b`)), `every ${every}`).toBeGreaterThanOrEqual(2);
    expect(some(/schedule: /)).toBeGreaterThanOrEqual(5);
    expect(some(/enabled: false/)).toBeGreaterThanOrEqual(2);
    expect(some(/^suspend:/m)).toBeGreaterThanOrEqual(3);
    expect(some(/[\u{1F300}-\u{1FAFF}]/u)).toBeGreaterThanOrEqual(3); // emoji
    const zones = new Set(texts.flatMap((t) => [...t.matchAll(/timezone: (\S+)/g)].map((m) => m[1])));
    expect(zones.size).toBeGreaterThanOrEqual(25);
  });
});

// ---------------------------------------------------------------------------------------------

describe("bad/", () => {
  const files = yamlFiles(BAD);
  const loadBad = (f: string) => load([`${BAD}/${f}`]);

  it("holds at least 80 invalid customer files next to a valid _global.yaml", () => {
    expect(files.length).toBeGreaterThanOrEqual(80);
    const g = load([`${BAD}/_global.yaml`]);
    expect(g.diagnostics).toEqual([]);
    expect(g.blocked).toBe(false);
  });

  it.each(files)("%s produces exactly its expected diagnostics", (f) => {
    const rel = `${BAD}/${f}`;
    const expected = expectationsOf(rel);
    expect(expected.length, `${rel} declares no \`# expect:\` line`).toBeGreaterThan(0);
    const r = loadBad(f);
    expect(r.diagnostics.filter((d) => d.file !== rel), "diagnostics of other files").toEqual([]);
    expect(located(r.diagnostics)).toEqual(expected);
    r.diagnostics.forEach(expectWellFormed);
    // an error keeps the customer's settings out of use; a warning alone does not
    const hasError = r.diagnostics.some((d) => d.severity === "error");
    expect(r.customers[0].config === undefined, "config withheld exactly when there is an error").toBe(hasError);
  });

  it("refuses a file over 256 KiB before parsing, and reads one of exactly 256 KiB", () => {
    const dir = mkdtempSync(join(tmpdir(), "cwsync-golden-"));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    cpSync(join(ROOT, BAD, "_global.yaml"), join(dir, "_global.yaml"));
    const valid = read(`${GOOD}/honolulu-surf.yaml`).replaceAll("honolulu-surf", "NAME");
    const padded = (name: string, bytes: number) => {
      const head = `${valid.replaceAll("NAME", name)}# `;
      return head + "x".repeat(bytes - Buffer.byteLength(head) - 1) + "\n";
    };
    writeFileSync(join(dir, "exactly-limit.yaml"), padded("exactly-limit", MAX_FILE_BYTES));
    writeFileSync(join(dir, "over-limit.yaml"), padded("over-limit", MAX_FILE_BYTES + 1));

    const ok = load(["exactly-limit.yaml"], dir);
    expect(ok.diagnostics).toEqual([]);

    const r = load(["over-limit.yaml"], dir);
    expect(located(r.diagnostics)).toEqual(["1:1 yaml.TOO_LARGE"]);
    r.diagnostics.forEach(expectWellFormed);
    expect(r.diagnostics[0].file).toBe("over-limit.yaml");
    expect(r.diagnostics[0].message).toContain("256 KiB");
  });

  it("never echoes a credential in a message or a hint", () => {
    for (const f of files.filter((f) => f.startsWith("credential-"))) {
      const r = loadBad(f);
      expect(r.diagnostics.map((d) => d.code), f).toContain("rule.credential");
      for (const d of r.diagnostics) {
        for (const secret of ["hunter2", "3f9a1c02be3f9a1c02be", "AbCdEfGhIjKlMnOp", "eyJhbGciOiJIUzI1NiJ9", "s3cr3t", "MIIBOgIBAAJB", "Xk2bP9qLm4Tz"]) {
          expect(`${d.message} ${d.hint}`, f).not.toContain(secret);
        }
      }
    }
  });

  describe("messages and hints people act on", () => {
    const diag = (f: string, code: string) => only(loadBad(f), `${BAD}/${f}`, code);

    it("an unquoted numeric company ID: quote it, keeping its leading zero", () => {
      const d = diag("company-id-unquoted-number.yaml", "schema.type");
      expect(d.message).toBe("`connectwise.companyId` must be a string, found number `123`");
      expect(d.hint).toBe('quote it: `"0123"`');
      expect(d.path).toBe("/connectwise/companyId");
    });

    it("a misspelt key: did you mean …? at every level", () => {
      expect(diag("typo-top-level-key.yaml", "schema.additionalProperties").hint).toBe("did you mean `agreements`?");
      expect(diag("typo-trendmicro-customer.yaml", "schema.additionalProperties").hint).toBe("did you mean `customer`?");
      const cw = diag("typo-connectwise-companyid.yaml", "schema.additionalProperties");
      expect(cw.message).toBe("unknown key `companyID` in `connectwise`");
      expect(cw.hint).toBe("did you mean `companyId`?");
      expect(diag("typo-billing-dayofmonth.yaml", "schema.additionalProperties").hint).toBe("did you mean `dayOfMonth`?");
      expect(diag("typo-hes-detections.yaml", "schema.additionalProperties").hint).toBe("did you mean `detections`?");
      expect(diag("typo-key-case.yaml", "schema.additionalProperties").hint).toBe("did you mean `displayName`?");
    });

    it("an unknown key without a near miss lists the allowed keys", () => {
      expect(diag("unknown-key-no-suggestion.yaml", "schema.additionalProperties").hint).toBe("allowed keys: every, schedule, detections");
    });

    it("a missing required key is reported at its parent mapping, with what to add", () => {
      const d = diag("company-id-missing-when-enabled.yaml", "schema.required");
      expect(d.message).toBe("`connectwise` is missing the required key `companyId`");
      expect([d.line, d.col]).toEqual([8, 3]);
      expect(diag("suspend-without-reason.yaml", "schema.required").hint).toMatch(/^add `reason: /);
    });

    it("time zones: did you mean the IANA name?", () => {
      const d = diag("timezone-europe-roma.yaml", "rule.timezone");
      expect(d.message).toBe("`Europe/Roma` is not an IANA time zone");
      expect(d.hint).toBe("did you mean `Europe/Rome`?");
      expect(diag("timezone-with-cron.yaml", "rule.timezone").hint).toBe("did you mean `America/New_York`?");
      expect(diag("timezone-offset.yaml", "rule.timezone").hint).toContain("Europe/Rome");
    });

    it("enumerations and fixed words: did you mean …?", () => {
      expect(diag("notifications-globl.yaml", "schema.anyOf").hint).toBe("did you mean `global`?");
      expect(diag("agreement-defualt.yaml", "schema.anyOf").hint).toBe("did you mean `default`?");
      expect(diag("every-weekly.yaml", "schema.enum").hint).toBe("did you mean `week`?");
      expect(diag("every-capitalised.yaml", "schema.enum").hint).toBe("did you mean `week`?");
      expect(diag("edition-unknown.yaml", "schema.enum").hint).toBe("did you mean `advanced`?");
      expect(diag("unknown-detection-category.yaml", "schema.enum").hint).toBe("did you mean `phishing`?");
      expect(diag("api-version-v2.yaml", "schema.const").hint).toBe("did you mean `cwsync/v1`?");
      expect(diag("unknown-product-in-agreements.yaml", "rule.unknown-product").hint).toBe("did you mean `wfbs-svc`?");
      expect(diag("unknown-product-in-billing.yaml", "rule.unknown-product").hint).toBe("did you mean `tmems-advanced`?");
      expect(diag("product-key-uppercase.yaml", "rule.unknown-product").hint).toBe("did you mean `wfbs-svc`?");
    });

    it("a time of day written as a number: the hint shows the HH:MM form, not the number quoted", () => {
      const d = diag("at-unquoted-number.yaml", "schema.type");
      expect(d.message).toBe("`notifications.at` must be a string, found number `700`");
      expect(d.hint).toContain('at: "07:00"');
    });

    it("YAML 1.1 habits are explained", () => {
      expect(diag("enabled-yes.yaml", "schema.type").hint).toContain("`true` or `false`");
      expect(diag("day-of-month-string.yaml", "schema.type").hint).toBe("remove the quotes: `1`");
      expect(diag("yaml-1-1-directive.yaml", "yaml.UNSUPPORTED_VERSION").message).toContain("YAML 1.1 is not supported");
    });

    it("`products: all` belongs to the global settings only", () => {
      expect(diag("billing-products-all.yaml", "schema.type").hint).toContain("only the global settings may bill `all`");
    });

    it("cron schedules: the field at fault, and how often is too often", () => {
      expect(diag("cron-hour-25.yaml", "rule.cron-invalid").message).toContain('hour field "25"');
      expect(diag("cron-every-30-minutes.yaml", "rule.cron-too-frequent").message).toContain("at most hourly");
      expect(diag("cron-never-fires.yaml", "rule.cron-never-fires").message).toContain("never fires");
    });

    it("YAML safety: alias bombs and unresolved aliases point at the alias", () => {
      expect(diag("alias-bomb.yaml", "yaml.ALIAS_LIMIT").message).toBe("too many alias expansions (more than 20)");
      expect(diag("alias-undefined.yaml", "yaml.UNRESOLVED_ALIAS").message).toBe("the alias `*company` has no anchor `&company` before it");
      expect(diag("several-documents.yaml", "yaml.MULTIPLE_DOCS").message).toBe("the file holds more than one YAML document");
    });

    it("an unclosed quote is reported where it was opened", () => {
      const d = diag("unclosed-quote.yaml", "yaml.MISSING_CHAR");
      expect([d.line, d.col]).toEqual([5, 13]);
    });

    it("the file name and the name disagree: both ways out are offered", () => {
      expect(diag("name-mismatch.yaml", "rule.name-mismatch").hint).toBe("set `name: name-mismatch` or rename the file to `acme-corp.yaml`");
    });

    it("a repeated list item is reported at the repeat", () => {
      const d = diag("detections-duplicate.yaml", "schema.uniqueItems");
      expect(d.message).toBe("`notifications.hostedEmailSecurity.detections` lists `spam` twice");
      expect(d.path).toBe("/notifications/hostedEmailSecurity/detections/2");
    });

    it("inherited settings a customer cannot use are a warning, not an error", () => {
      expect(diag("global-email-report-without-domains.yaml", "rule.email-domains-required").severity).toBe("warning");
      expect(diag("email-report-without-domains.yaml", "rule.email-domains-required").severity).toBe("error");
    });
  });
});

// ---------------------------------------------------------------------------------------------

describe("bad-global/", () => {
  const cases = caseDirs(BAD_GLOBAL).filter((c) => c !== "missing");

  it("holds at least 8 cases besides the missing file", () => {
    expect(cases.length).toBeGreaterThanOrEqual(8);
  });

  it.each(cases)("%s: the global's diagnostics once, one global.blocking, every customer held back", (name) => {
    const dir = `${BAD_GLOBAL}/${name}`;
    const globalPath = `${dir}/_global.yaml`;
    const customers = yamlFiles(dir).map((f) => `${dir}/${f}`);
    expect(customers.length).toBeGreaterThanOrEqual(1);
    const expected = expectationsOf(globalPath);
    expect(expected.length).toBeGreaterThan(0);

    // the whole folder, and each customer file on its own: the same verdict
    for (const paths of [[dir], ...customers.map((c) => [c])]) {
      const r = load(paths);
      expect(r.blocked).toBe(true);
      expect(r.global).toBeUndefined();
      expect(located(of(r, globalPath).filter((d) => d.code !== "global.blocking"))).toEqual(expected);
      const blocking = r.diagnostics.filter((d) => d.code === "global.blocking");
      expect(blocking).toHaveLength(1);
      expect(blocking[0].file).toBe(globalPath);
      expect(blocking[0].message).toContain(paths[0] === dir && customers.length > 1 ? `all ${customers.length} customers are held back` : "its customer is held back");
      // the customers' own files are valid and get nothing, catalogue-dependent or otherwise
      expect(r.diagnostics.filter((d) => d.file !== globalPath)).toEqual([]);
      r.diagnostics.forEach(expectWellFormed);
    }
  });

  it("missing: `global.missing` once, every customer held back, nothing else", () => {
    const dir = `${BAD_GLOBAL}/missing`;
    const r = load([dir]);
    expect(r.blocked).toBe(true);
    expect(r.diagnostics.map((d) => [d.code, d.file])).toEqual([["global.missing", `${dir}/_global.yaml`]]);
    r.diagnostics.forEach(expectWellFormed);
    expect(r.customers).toHaveLength(2);
  });
});

// ---------------------------------------------------------------------------------------------

describe("bad-multi/", () => {
  const cases = caseDirs(BAD_MULTI);

  it.each(cases)("%s: every file produces exactly its expected diagnostics when the folder is validated", (name) => {
    const dir = `${BAD_MULTI}/${name}`;
    const r = load([dir]);
    expect(of(r, `${dir}/_global.yaml`)).toEqual([]);
    for (const f of yamlFiles(dir)) expect(located(of(r, `${dir}/${f}`)), f).toEqual(expectationsOf(`${dir}/${f}`));
    r.diagnostics.forEach(expectWellFormed);
  });

  it("two enabled customers on one company ID: each file names the other at its companyId", () => {
    const dir = `${BAD_MULTI}/duplicate-company`;
    const r = load([dir]);
    const a = only(r, `${dir}/northwind.yaml`, "rule.duplicate-company");
    const b = only(r, `${dir}/northwind-traders.yaml`, "rule.duplicate-company");
    expect(a.message).toBe(`company ID \`Northwind\` is also used by ${dir}/northwind-traders.yaml:9:14`);
    expect(b.message).toBe(`company ID \`Northwind\` is also used by ${dir}/northwind.yaml:9:14`);
    expect(a.path).toBe("/connectwise/companyId");
    expect(a.hint).toContain("enabled: false");
  });

  it("company IDs that differ only by case are the same company", () => {
    const dir = `${BAD_MULTI}/duplicate-company-case`;
    const r = load([dir]);
    expect(only(r, `${dir}/contoso.yaml`, "rule.duplicate-company").message).toContain("contoso-emea.yaml:9:14");
    expect(only(r, `${dir}/contoso-emea.yaml`, "rule.duplicate-company").message).toContain("contoso.yaml:9:14");
  });

  it("three on one company ID: each names both others; an unquoted (numeric) ID is not that company", () => {
    const dir = `${BAD_MULTI}/duplicate-company-three`;
    const r = load([dir]);
    const d = only(r, `${dir}/tailspin.yaml`, "rule.duplicate-company");
    expect(d.message).toBe(`company ID \`0042\` is also used by ${dir}/tailspin-air.yaml:9:14, ${dir}/tailspin-toys.yaml:9:14`);
    expect(of(r, `${dir}/tailspin-legacy.yaml`).map((x) => x.code)).toEqual(["schema.type"]);
  });

  it("a disabled customer may share a company ID (in any case)", () => {
    expect(load([`${BAD_MULTI}/disabled-shares-id`]).diagnostics).toEqual([]);
  });

  it("explicit files: the cross-file rules run among just the files given", () => {
    const dir = `${BAD_MULTI}/explicit-selection`;
    expect(load([`${dir}/litware.yaml`, `${dir}/proseware.yaml`]).diagnostics).toEqual([]);
    expect(load([`${dir}/litware.yaml`]).diagnostics).toEqual([]);
    const r = load([`${dir}/litware-labs.yaml`, `${dir}/litware.yaml`]);
    expect(located(r.diagnostics)).toEqual(["9:14 rule.duplicate-company", "9:14 rule.duplicate-company"]);
    expect(only(r, `${dir}/litware.yaml`, "rule.duplicate-company").message).toBe(`company ID \`Litware\` is also used by ${dir}/litware-labs.yaml:9:14`);
  });

  it("a customer name used twice: both files are told", () => {
    const dir = `${BAD_MULTI}/duplicate-name`;
    const r = load([dir]);
    expect(only(r, `${dir}/adatum.yaml`, "rule.duplicate-name").message).toBe(`customer name \`adatum\` is also used by ${dir}/adatum-copy.yaml:3:7`);
  });
});

// ---------------------------------------------------------------------------------------------

describe("validate --format json through the real CLI", () => {
  it("prints exactly one JSON array of diagnostics with the DESIGN §8 fields", async () => {
    const file = `${BAD}/company-id-unquoted-number.yaml`;
    const r = await runCli(["validate", file, "--format", "json"], { cwd: ROOT });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("");
    const out: unknown = JSON.parse(r.stdout);
    expect(Array.isArray(out)).toBe(true);
    expect(r.stdout.trimStart().startsWith("[")).toBe(true);
    const diags = out as Record<string, unknown>[];
    expect(diags).toHaveLength(1);
    for (const d of diags) expect(Object.keys(d).sort()).toEqual(["code", "col", "file", "hint", "line", "message", "path", "severity"]);
    expect(diags[0]).toEqual({
      severity: "error",
      code: "schema.type",
      file,
      line: 9,
      col: 14,
      path: "/connectwise/companyId",
      message: "`connectwise.companyId` must be a string, found number `123`",
      hint: 'quote it: `"0123"`',
    });
  });

  it("prints `[]` and exits 0 for the good corpus", async () => {
    const r = await runCli(["validate", GOOD, "--format", "json"], { cwd: ROOT });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([]);
  });
});
