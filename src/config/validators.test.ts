import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv } from "ajv";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { AJV_OPTIONS, generateValidators } from "../../scripts/gen-validators.mjs";
import { validateAgainstSchema, type SchemaName } from "./schema.ts";

const ROOT = join(import.meta.dirname, "../..");

function* yamlFiles(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) yield* yamlFiles(join(dir, e.name));
    else if (e.name.endsWith(".yaml")) yield join(dir, e.name);
  }
}

describe("validators compiled at build time (ajv standalone)", () => {
  it("src/config/validators.generated.ts is up to date with schemas/*.schema.json (run `npm run build` or `npm run gen`)", () => {
    const committed = readFileSync(join(ROOT, "src/config/validators.generated.ts"), "utf8");
    expect(committed === generateValidators(), "validators.generated.ts is stale: run `npm run gen`").toBe(true);
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
