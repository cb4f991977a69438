import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fastParse, needsFullParser, NEEDS_FULL_PARSER } from "./fast-path.ts";

const ROOT = join(import.meta.dirname, "../..");
// the benchmark's realistic files (bench/generate.mjs, untyped)
const GENERATE: string = "../../bench/generate.mjs";
const { customerYaml } = (await import(GENERATE)) as { customerYaml: (i: number) => string };

function* yamlFiles(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) yield* yamlFiles(join(dir, e.name));
    else if (e.name.endsWith(".yaml")) yield join(dir, e.name);
  }
}

const SNIPPETS = [
  "a: &x 1", "b: *x", "c: !!str 1", "d: !tag x", "e: [*x]", "f: {k: *x}", "- *x", "g: \"0 9 1,15 * *\"", "h: '* *'", "i: *\"x", "j: &\"x 1",
  "%YAML 1.1", "x\n%TAG", "x\r%TAG", "x\u2028%y", "x\u2029%y", "k: 50%", "\tl: 1", "m:\t1", "__proto__: 1", "n: constructor", "o: prototype",
  "p: 0b101", "q: 10b1", "r: 0b2", "s: -.5", "t: +.5", "u: .5", "v: 1.5", "w: a\rb", "x: a\r\nb", "y: a\r", "z: a!b", "aa: a&b", "ab: 5 * 3", "ac: ,*x",
];

describe("fast path", () => {
  it("needsFullParser gives NEEDS_FULL_PARSER's verdict on every corpus file, generated file and snippet", () => {
    const texts: string[] = [];
    for (const dir of ["test/fixtures", "customers", "examples"]) for (const f of yamlFiles(join(ROOT, dir))) texts.push(readFileSync(f, "utf8"));
    for (let i = 0; i < 200; i++) texts.push(customerYaml(i));
    for (const a of SNIPPETS) {
      texts.push(a, `k: v\n${a}\n`);
      for (const b of SNIPPETS) texts.push(`${a}\n${b}`);
    }
    let full = 0;
    for (const t of texts) {
      const expected = NEEDS_FULL_PARSER.test(t);
      expect(needsFullParser(t), JSON.stringify(t.slice(0, 200))).toBe(expected);
      if (expected) full++;
    }
    expect(full).toBeGreaterThan(100);
    expect(texts.length - full).toBeGreaterThan(100);
  });

  it("a quoted cron schedule ending in `*` stays on the fast path; an anchor named with a quote does not", () => {
    expect(fastParse('a: "0 9 1,15 * *"\n')).toEqual({ a: "0 9 1,15 * *" });
    expect(fastParse("a: &\"x 1\nb: *\"x\n")).toBeUndefined();
    // an alias without its anchor: js-yaml refuses it, the full parser reports it
    expect(fastParse("a: 1\nb: *\"x\n")).toBeUndefined();
  });
});
