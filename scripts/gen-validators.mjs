// Compiles schemas/*.schema.json into validator functions at build time (ajv's standalone code), so
// that no command compiles a schema at start-up (~100 ms) or loads ajv at all. Writes two CommonJS
// modules that src/config/schema.ts requires: src/config/pass-validators.generated.cjs (only a
// verdict, for the loader's fast path) and src/config/validators.generated.cjs (every error, for
// diagnostics: required only when a file fails, so that a run over valid files never compiles its
// ~150 KB). Plain JavaScript, not TypeScript: tsc re-printed the one-line code at 1.6 times its size,
// all of it parsed at every start-up. Each is also written to dist/config/ (tsc copies no
// JavaScript). `npm run build` and `npm run gen` run it, and a test fails when a written file
// differs from what this script generates from the schemas.
// Runs on any Node (`npm ci` builds with the system Node); ajv is a runtime dependency.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { _, Ajv } from "ajv";
import standalone from "ajv/dist/standalone/index.js";
import { useFunc } from "ajv/dist/compile/util.js";
import compileValidate from "ajv/dist/compile/validate/index.js";
import ucs2length from "ajv/dist/runtime/ucs2length.js";

const standaloneCode = standalone.default ?? standalone;
const SCHEMAS = ["customer", "global"];
const OUT = new URL("../src/config/validators.generated.cjs", import.meta.url);
const DIST_OUT = new URL("../dist/config/validators.generated.cjs", import.meta.url);
const PASS_OUT = new URL("../src/config/pass-validators.generated.cjs", import.meta.url);
const DIST_PASS_OUT = new URL("../dist/config/pass-validators.generated.cjs", import.meta.url);

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

function readSchemas() {
  return SCHEMAS.map((name) => readFileSync(new URL(`../schemas/${name}.schema.json`, import.meta.url), "utf8"));
}

/** One CommonJS module of ajv's standalone code for both schemas, exporting `customer` and `global`. */
function moduleText(ajv, texts, schemas) {
  SCHEMAS.forEach((name, i) => ajv.addSchema(schemas[i], name));
  const code = inlineRuntime(standaloneCode(ajv, Object.fromEntries(SCHEMAS.map((n) => [n, n]))));
  if (/\brequire\(|\bimport\b/.test(code.replace(/"(?:[^"\\]|\\.)*"/g, '""'))) throw new Error("gen-validators: the generated code still loads a module");
  const hash = createHash("sha256").update(texts.join("\0")).digest("hex").slice(0, 16);
  const ajvVersion = JSON.parse(readFileSync(new URL(import.meta.resolve("ajv/package.json")), "utf8")).version;
  return [
    "// Generated from schemas/*.schema.json by scripts/gen-validators.mjs (`npm run build`, `npm run gen`). Do not edit.",
    `// schemas sha256 ${hash}, ajv ${ajvVersion}`,
    "/* eslint-disable */",
    code,
    "",
  ].join("\n");
}

/** The full validators, every error with its schema (CommonJS: src/config/validators.generated.cjs). */
export function generateValidators() {
  const texts = readSchemas();
  return moduleText(new Ajv({ ...AJV_OPTIONS, code: { source: true, esm: false, lines: false } }), texts, texts.map((t) => JSON.parse(t)));
}

/** Keywords that only annotate (ajv checks nothing with them here: no `useDefaults`): left out of the verdict-only code. */
const ANNOTATIONS = new Set(["title", "description", "examples", "default", "$comment"]);
/** Keywords whose value maps names (of properties, of definitions) to schemas: a name is never taken for a keyword. */
const KEYED = new Set(["properties", "patternProperties", "definitions", "$defs", "dependencies", "dependentSchemas"]);
const typeFamily = (t) => (t === "integer" ? "number" : t);

/**
 * The schema the verdict-only validators are compiled from: the same verdict for every value, in a
 * shape ajv compiles to cheaper code. Annotations are dropped. An `anyOf` whose branches each
 * require one type, no two of the same family (`integer` is a `number`), becomes an if/then/else
 * chain on those types: a value can pass only the branch of its own type, so the verdict is the
 * same, and ajv does not build an error object for every branch a valid value fails (`agreements`'
 * `default` or mapping, `notifications`' `global` or block: most of a valid file's checking time).
 */
export function verdictSchema(schema) {
  if (Array.isArray(schema)) return schema.map(verdictSchema);
  if (schema === null || typeof schema !== "object") return schema;
  const out = {};
  for (const [k, v] of Object.entries(schema)) {
    if (ANNOTATIONS.has(k)) continue;
    if (k === "const" || k === "enum") out[k] = v;
    else if (KEYED.has(k)) out[k] = Object.fromEntries(Object.entries(v).map(([p, sub]) => [p, verdictSchema(sub)]));
    else out[k] = verdictSchema(v);
  }
  const branches = out.anyOf;
  if (!Array.isArray(branches) || branches.length < 2 || "if" in out || "then" in out || "else" in out) return out;
  const types = branches.map((b) => (b !== null && typeof b === "object" && typeof b.type === "string" ? typeFamily(b.type) : undefined));
  if (types.includes(undefined) || new Set(types).size !== types.length) return out;
  const { anyOf: _anyOf, ...rest } = out;
  let chain = branches[branches.length - 1];
  for (let i = branches.length - 2; i >= 0; i--) chain = { if: { type: types[i] }, then: branches[i], else: chain };
  return { ...rest, ...chain };
}

/**
 * `uniqueItems` for the verdict only: ajv's own code, for items of scalar types, records each item
 * as a key of a fresh object, and every new string key (a domain, a product) gives that object a
 * new hidden class: the slowest part of checking a valid file. Here arrays of up to 16 items are
 * compared pair by pair (`===`, and NaN equal to NaN), longer ones through a Set: every duplicate
 * ajv's code finds (items of one scalar type, equal as object keys) is found, and an array this
 * finds none in passes ajv's too. Items of object or array types keep ajv's code (deep equality).
 */
function addVerdictUniqueItems(ajv) {
  const builtin = ajv.getKeyword("uniqueItems");
  ajv.removeKeyword("uniqueItems");
  ajv.addKeyword({
    keyword: "uniqueItems",
    type: "array",
    schemaType: "boolean",
    code(cxt) {
      const { gen, data, schema, parentSchema } = cxt;
      const items = parentSchema.items;
      const itemTypes = items && typeof items === "object" && !Array.isArray(items) ? [items.type].flat().filter((t) => typeof t === "string") : [];
      if (itemTypes.length === 0 || itemTypes.some((t) => t === "object" || t === "array")) return builtin.code(cxt);
      if (!schema) return;
      const n = gen.const("n", _`${data}.length`);
      const dup = gen.let("dup", false);
      gen.if(_`${n} > 16`, () => {
        const seen = gen.const("seen", _`new Set()`);
        gen.for(_`let i = 0; i < ${n}; i++`, () => {
          gen.if(_`${seen}.has(${data}[i])`, () => gen.assign(dup, true).break());
          gen.code(_`${seen}.add(${data}[i])`);
        });
      }, () => {
        const outer = gen.name("outer");
        gen.label(outer).for(_`let i = 1; i < ${n}; i++`, () => {
          const a = gen.const("a", _`${data}[i]`);
          gen.for(_`let j = 0; j < i; j++`, () => {
            const b = gen.const("b", _`${data}[j]`);
            gen.if(_`${a} === ${b} || (${a} !== ${a} && ${b} !== ${b})`, () => gen.assign(dup, true).break(outer));
          });
        });
      });
      cxt.pass(_`!${dup}`);
    },
  });
}

/**
 * `maxLength` and `minLength` for the verdict only: ajv counts a string's code points on every check
 * (its `ucs2length` helper, a loop over the string); a string has at most as many code points as
 * UTF-16 units and at least half as many, so the count is needed only when the length alone cannot
 * decide: the same verdict.
 */
function addVerdictLengthLimits(ajv) {
  const builtin = ajv.getKeyword("maxLength");
  ajv.removeKeyword("maxLength");
  ajv.removeKeyword("minLength");
  ajv.addKeyword({
    keyword: ["maxLength", "minLength"],
    type: "string",
    schemaType: "number",
    code(cxt) {
      const { gen, keyword, data, schema } = cxt;
      if (typeof schema !== "number") return builtin.code(cxt);
      const count = useFunc(gen, ucs2length.default ?? ucs2length);
      if (keyword === "maxLength") cxt.fail(_`${data}.length > ${schema} && ${count}(${data}) > ${schema}`);
      else cxt.fail(_`${data}.length < ${2 * schema} && ${count}(${data}) < ${schema}`);
    },
  });
}

/**
 * The loader's fast path asks only whether a file passes (src/config/schema.ts `passesSchema`): ajv
 * stops at the first error, builds no messages, and compiles `verdictSchema`; every file it fails
 * is then checked by the full validators, which alone give diagnostics. src/config/validators.test.ts
 * checks that both give the same verdict on every file of the corpus and on thousands of variants.
 */
export function generatePassValidators() {
  const texts = readSchemas();
  const ajv = new Ajv({ ...AJV_OPTIONS, allErrors: false, verbose: false, messages: false, code: { source: true, esm: false, lines: false } });
  addVerdictUniqueItems(ajv);
  addVerdictLengthLimits(ajv);
  return withoutErrorObjects(() => moduleText(ajv, texts, texts.map((t) => verdictSchema(JSON.parse(t)))));
}

/**
 * Runs `generate` with ajv compiling every schema as it compiles an `if` (`createErrors: false`):
 * each error is an empty object, still counted (so `anyOf`, `if` and the rest decide as before),
 * never described. Half of the verdict-only code was error objects no one reads; less code is less
 * for V8 to compile at start-up and to optimise in the background. ajv has no option for it: its
 * compiler's call to `validateFunctionCode` is wrapped for the time of `generate` (and the build
 * fails if that function is not where it was).
 */
function withoutErrorObjects(generate) {
  const original = compileValidate.validateFunctionCode;
  if (typeof original !== "function") throw new Error("gen-validators: ajv's validateFunctionCode moved: cannot compile without error objects");
  compileValidate.validateFunctionCode = (it) => {
    it.createErrors = false;
    return original(it);
  };
  try {
    return generate();
  } finally {
    compileValidate.validateFunctionCode = original;
  }
}

/** Writes `text` to `url` when it changed, by rename: others building at the same time never read half a file. */
function writeIfChanged(url, text) {
  let current;
  try {
    current = readFileSync(url, "utf8");
  } catch {
    current = undefined;
  }
  if (current !== text) {
    const tmp = new URL(`${url.href}.${process.pid}.tmp`);
    writeFileSync(tmp, text);
    renameSync(tmp, url);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const full = generateValidators();
  writeIfChanged(OUT, full);
  mkdirSync(new URL(".", DIST_OUT), { recursive: true });
  writeIfChanged(DIST_OUT, full);
  const pass = generatePassValidators();
  writeIfChanged(PASS_OUT, pass);
  writeIfChanged(DIST_PASS_OUT, pass);
}
