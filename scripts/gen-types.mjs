// Generates the TypeScript types of the two file formats from the schemas (the source of truth
// for editors, CI and the loader). `npm run gen` rewrites schemas and types; a test fails when a
// committed file is stale, so the types cannot drift from the schemas.
import { writeFileSync } from "node:fs";
import { compile } from "json-schema-to-typescript";
import { customerSchema, globalSchema } from "./schema-src.mjs";

const HEADER = "// Generated from schemas/*.json by `npm run gen`. Do not edit.\n\n";
const OPTS = { bannerComment: "", additionalProperties: false, format: true };

export async function generateTypes() {
  return {
    "customer-file.generated.ts": HEADER + (await compile(structuredClone(customerSchema), "CustomerFile", OPTS)),
    "global-file.generated.ts": HEADER + (await compile(structuredClone(globalSchema), "GlobalFile", OPTS)),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const [name, text] of Object.entries(await generateTypes())) {
    writeFileSync(new URL(`../src/config/${name}`, import.meta.url), text);
  }
}
