// Compiles schemas/*.schema.json into validator functions at build time (ajv's standalone code), so
// that no command compiles a schema at start-up (~100 ms) or loads ajv at all. Writes
// src/config/validators.generated.ts; `npm run build` and `npm run gen` run it, and a test fails
// when the written file differs from what this script generates from the schemas.
// Runs on any Node (`npm ci` builds with the system Node); ajv is a runtime dependency.
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { Ajv } from "ajv";
import standalone from "ajv/dist/standalone/index.js";

const standaloneCode = standalone.default ?? standalone;
const SCHEMAS = ["customer", "global"];
const OUT = new URL("../src/config/validators.generated.ts", import.meta.url);

/**
 * The options src/config/schema.ts compiled with before (keep them in step): allErrors, every
 * problem in one run; verbose, errors carry `schema`, `parentSchema` and `data` (the hints of
 * schema-diagnostics.ts read them). The meta-schema check is test/schemas.test.ts's.
 */
export const AJV_OPTIONS = { allErrors: true, verbose: true, strict: true, strictTypes: false, strictRequired: false, validateSchema: false, meta: false };

/**
 * ajv's standalone code `require`s its runtime helpers even as ESM (ajv-validator/ajv#2209): each
 * one is inlined instead (they are small, self-contained functions), so the generated module
 * imports nothing.
 */
function inlineRuntime(code) {
  return code.replace(/require\("ajv\/dist\/runtime\/([a-z0-9]+)"\)\.default/gi, (_, name) => {
    const mod = readFileSync(new URL(import.meta.resolve(`ajv/dist/runtime/${name}.js`)), "utf8");
    const m = /^function ([A-Za-z0-9_]+)\([\s\S]*?^}$/m.exec(mod);
    if (!m || /\brequire\(/.test(m[0])) throw new Error(`gen-validators: cannot inline ajv's runtime helper ${name}`);
    return `(${m[0].replace(/^\s*\/\/.*$/gm, "").replace(/\n\s*\n/g, "\n")})`;
  });
}

export function generateValidators() {
  const texts = SCHEMAS.map((name) => readFileSync(new URL(`../schemas/${name}.schema.json`, import.meta.url), "utf8"));
  const ajv = new Ajv({ ...AJV_OPTIONS, code: { source: true, esm: true, lines: false } });
  SCHEMAS.forEach((name, i) => ajv.addSchema(JSON.parse(texts[i]), name));
  const code = inlineRuntime(standaloneCode(ajv, Object.fromEntries(SCHEMAS.map((n) => [n, n]))));
  if (/\brequire\(|\bimport\b/.test(code.replace(/"(?:[^"\\]|\\.)*"/g, '""'))) throw new Error("gen-validators: the generated code still loads a module");
  const hash = createHash("sha256").update(texts.join("\0")).digest("hex").slice(0, 16);
  const ajvVersion = JSON.parse(readFileSync(new URL(import.meta.resolve("ajv/package.json")), "utf8")).version;
  return [
    "// Generated from schemas/*.schema.json by scripts/gen-validators.mjs (`npm run build`, `npm run gen`). Do not edit.",
    `// schemas sha256 ${hash}, ajv ${ajvVersion}`,
    "// @ts-nocheck",
    "/* eslint-disable */",
    code,
    "",
  ].join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const text = generateValidators();
  let current;
  try {
    current = readFileSync(OUT, "utf8");
  } catch {
    current = undefined;
  }
  // written only when it changed, and by rename: others building at the same time never read half a file
  if (current !== text) {
    const tmp = new URL(`${OUT.href}.${process.pid}.tmp`);
    writeFileSync(tmp, text);
    renameSync(tmp, OUT);
  }
}
