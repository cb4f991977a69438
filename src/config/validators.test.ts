import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv } from "ajv";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { AJV_OPTIONS, generatePassValidators, generateValidators, verdictSchema } from "../../scripts/gen-validators.mjs";
import { passesSchema, validateAgainstSchema, type SchemaName } from "./schema.ts";

const ROOT = join(import.meta.dirname, "../..");

function* yamlFiles(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) yield* yamlFiles(join(dir, e.name));
    else if (e.name.endsWith(".yaml")) yield join(dir, e.name);
  }
}

describe("validators compiled at build time (ajv standalone)", () => {
  it("src/config/validators.generated.cjs and pass-validators.generated.cjs are up to date with schemas/*.schema.json (run `npm run build` or `npm run gen`)", () => {
    const committed = readFileSync(join(ROOT, "src/config/validators.generated.cjs"), "utf8");
    expect(committed === generateValidators(), "validators.generated.cjs is stale: run `npm run gen`").toBe(true);
    const pass = readFileSync(join(ROOT, "src/config/pass-validators.generated.cjs"), "utf8");
    expect(pass === generatePassValidators(), "pass-validators.generated.cjs is stale: run `npm run gen`").toBe(true);
  });

  it("report exactly what ajv compiling the schemas at run time reports, for every file of the corpus and examples", () => {
    const ajv = new Ajv(AJV_OPTIONS);
    const compiled = {
      customer: ajv.compile(JSON.parse(readFileSync(join(ROOT, "schemas/customer.schema.json"), "utf8"))),
      global: ajv.compile(JSON.parse(readFileSync(join(ROOT, "schemas/global.schema.json"), "utf8"))),
    };
    let checked = 0;
    let failing = 0;
    for (const dir of ["test/fixtures", "customers", "examples"]) {
      for (const file of yamlFiles(join(ROOT, dir))) {
        let data: unknown;
        try {
          data = parse(readFileSync(file, "utf8").replace(/^\uFEFF/, ""), { schema: "core", merge: false, uniqueKeys: false, maxAliasCount: 20, logLevel: "silent" });
        } catch {
          continue;
        }
        for (const name of ["customer", "global"] as SchemaName[]) {
          const expected = compiled[name](data) ? [] : compiled[name].errors;
          const actual = validateAgainstSchema(name, data);
          expect(JSON.stringify(actual), `${file} against ${name}`).toBe(JSON.stringify(expected));
          checked++;
          if (actual.length > 0) failing++;
        }
      }
    }
    expect(checked).toBeGreaterThan(200);
    expect(failing).toBeGreaterThan(100);
  });
});

// the benchmark's realistic files (bench/generate.mjs, untyped)
const GENERATE: string = "../../bench/generate.mjs";
const { customerYaml } = (await import(GENERATE)) as { customerYaml: (i: number) => string };

/** Values put in place of each value of a document: every type, edge lengths, duplicates, the `anyOf` constants. */
const REPLACEMENTS: unknown[] = [
  "", "x", "default", "global", "a".repeat(101), "a".repeat(201), "😀".repeat(150), "😀", "\u0001", "Europe/Rome", "c-00001", "week",
  0, 1, 1.5, -1, 32, Number.NaN, true, false, null, [], ["a", "a"], [1, 1], ["spam", "spam"], ["x.example", "x.example"], {}, { type: "T", name: "N" },
  // long arrays (the verdict-only `uniqueItems` checks more than 16 items another way), with and without a duplicate
  Array.from({ length: 20 }, (_, i) => `d${i}.example`), [...Array.from({ length: 20 }, (_, i) => `d${i}.example`), "d3.example"],
  Array.from({ length: 20 }, (_, i) => `p${i}`), [...Array.from({ length: 20 }, (_, i) => `p${i}`), "p7"],
  ["spam", "graymail", "web-reputation", "bec", "phishing", "malware", "ransomware", "suspicious-objects", "advanced-threats", "scan-exceptions", "spoofing", "content-filter", "dlp", "spam", "bec", "dlp", "malware"],
];

/** The document and variants of it: each value replaced, each key removed, an unknown key added, at every depth. */
function* variants(doc: unknown, seed: number): Generator<unknown> {
  yield doc;
  const paths: (string | number)[][] = [];
  const collect = (v: unknown, path: (string | number)[]) => {
    paths.push(path);
    if (Array.isArray(v)) v.forEach((x, i) => collect(x, [...path, i]));
    else if (v !== null && typeof v === "object" && !ArrayBuffer.isView(v)) for (const k of Object.keys(v)) collect((v as Record<string, unknown>)[k], [...path, k]);
  };
  collect(doc, []);
  const edit = (path: (string | number)[], change: (parent: Record<string | number, unknown>, key: string | number) => void) => {
    const copy = structuredClone(doc) as Record<string | number, unknown>;
    let parent = copy;
    for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
    change(parent, path[path.length - 1]);
    return copy;
  };
  for (const [n, path] of paths.entries()) {
    if (path.length === 0) continue;
    // a few replacements per path, a different few for each path and document: every one is used many times over
    for (let r = 0; r < 4; r++) yield edit(path, (p, k) => (p[k] = structuredClone(REPLACEMENTS[(seed * 7 + n * 5 + r * 11) % REPLACEMENTS.length])));
    yield edit(path, (p, k) => (Array.isArray(p) ? p.splice(Number(k), 1) : delete p[k]));
    yield edit(path, (p, k) => {
      const v = p[k];
      if (v !== null && typeof v === "object" && !Array.isArray(v)) (v as Record<string, unknown>).unknownKey = 1;
      else if (Array.isArray(v)) v.push(v[0]);
    });
  }
}

describe("the verdict-only validators (pass-validators.generated.cjs)", () => {
  it("pass exactly what the full validators pass: every corpus file, generated file, and variant of them", () => {
    const docs: unknown[] = [];
    for (const dir of ["test/fixtures", "customers", "examples"]) {
      for (const file of yamlFiles(join(ROOT, dir))) {
        try {
          docs.push(parse(readFileSync(file, "utf8").replace(/^\uFEFF/, ""), { schema: "core", merge: false, uniqueKeys: false, maxAliasCount: 20, logLevel: "silent" }));
        } catch {
          continue;
        }
      }
    }
    for (let i = 0; i < 64; i++) docs.push(parse(customerYaml(i)));
    const counts = { pass: 0, fail: 0 };
    docs.forEach((doc, seed) => {
      for (const v of variants(doc, seed)) {
        for (const name of ["customer", "global"] as SchemaName[]) {
          const full = validateAgainstSchema(name, v).length === 0;
          if (passesSchema(name, v) !== full) expect.fail(`${name}: the verdict-only validator says ${!full}, the full one ${full}, on ${JSON.stringify(v)}`);
          counts[full ? "pass" : "fail"]++;
        }
      }
    });
    // both verdicts, many times over (a test that cannot fail is a defect)
    expect(counts.pass).toBeGreaterThan(2000);
    expect(counts.fail).toBeGreaterThan(20000);
  });

  it("are compiled from a schema with the same verdict, without the `anyOf`s ajv builds an error for on every valid value", () => {
    const customer = verdictSchema(JSON.parse(readFileSync(join(ROOT, "schemas/customer.schema.json"), "utf8"))) as Record<string, Record<string, Record<string, unknown>>>;
    expect(customer.properties.notifications.anyOf).toBeUndefined();
    expect(customer.properties.notifications.if).toEqual({ type: "string" });
    expect(JSON.stringify(customer)).not.toContain('"description"');
  });
});
