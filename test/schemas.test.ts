import { readFileSync } from "node:fs";
import { Ajv } from "ajv";
import { describe, expect, it } from "vitest";
import { customerSchema, globalSchema } from "../scripts/schema-src.mjs";
import { generateTypes } from "../scripts/gen-types.mjs";

type Schema = Record<string, unknown> & { properties?: Record<string, Schema>; type?: string };

/** Every `properties` entry and every object schema, with its JSON pointer. */
function* walk(s: unknown, at = "#"): Generator<[string, Schema]> {
  if (Array.isArray(s)) {
    for (const [i, x] of s.entries()) yield* walk(x, `${at}/${i}`);
    return;
  }
  if (s === null || typeof s !== "object") return;
  yield [at, s as Schema];
  for (const [k, v] of Object.entries(s)) // `if` only tests a condition (connectwise.enabled) and describes nothing
    if (k !== "examples" && k !== "const" && k !== "enum" && k !== "if") yield* walk(v, `${at}/${k}`);
}

describe("schemas", () => {
  for (const [name, source] of [["customer", customerSchema], ["global", globalSchema]] as const) {
    const committed = JSON.parse(readFileSync(new URL(`../schemas/${name}.schema.json`, import.meta.url), "utf8"));

    it(`${name}.schema.json is generated from scripts/schema-src.mjs (run \`npm run gen\`)`, () => {
      expect(committed).toEqual(source);
    });

    it(`${name}: every property has title, description and examples; every object with properties forbids others`, () => {
      const missing: string[] = [];
      for (const [at, s] of walk(committed)) {
        if (s.properties) {
          if (s.additionalProperties !== false) missing.push(`${at}: additionalProperties is not false`);
          for (const [key, prop] of Object.entries(s.properties)) {
            for (const f of ["title", "description", "examples"]) if (!(f in prop)) missing.push(`${at}/properties/${key}: no ${f}`);
          }
        }
      }
      expect(missing).toEqual([]);
    });
  }

  it("both schemas are valid draft-07 and compile in ajv's strict mode (the loader skips this check at start-up)", () => {
    const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false, strictRequired: false });
    for (const s of [customerSchema, globalSchema]) {
      expect(ajv.validateSchema(s), JSON.stringify(ajv.errors)).toBe(true);
      expect(() => ajv.compile(s)).not.toThrow();
    }
  });

  it("the TypeScript types are generated from the schemas and up to date (run `npm run gen`)", async () => {
    const generated = await generateTypes();
    for (const [file, text] of Object.entries(generated)) {
      expect(readFileSync(new URL(`../src/config/${file}`, import.meta.url), "utf8"), file).toBe(text);
    }
  });

  it("every example file in customers/ names its schema in the editor modeline", () => {
    const dir = new URL("../customers/", import.meta.url);
    const files = ["_global.yaml", "acme-corp.yaml", "bluewater-dental.yaml", "contoso-legal.yaml", "fabrikam-retail.yaml", "fabrikam-retail-legacy.yaml", "northwind-logistics.yaml", "outback-mining.yaml", "sakura-trading.yaml"];
    for (const f of files) {
      const first = readFileSync(new URL(f, dir), "utf8").split("\n")[0];
      expect(first, f).toBe(`# yaml-language-server: $schema=../schemas/${f === "_global.yaml" ? "global" : "customer"}.schema.json`);
    }
    const vscode = JSON.parse(readFileSync(new URL("../.vscode/settings.json", import.meta.url), "utf8"));
    expect(Object.keys(vscode["yaml.schemas"])).toEqual(["./schemas/customer.schema.json", "./schemas/global.schema.json"]);
  });
});
