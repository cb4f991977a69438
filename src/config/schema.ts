import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { ErrorObject } from "ajv";

export type SchemaName = "customer" | "global";

/** ajv's validate function as its standalone code exports it: `errors` holds the last call's errors. */
interface ValidateFunction {
  (data: unknown): boolean;
  errors?: ErrorObject[] | null;
}

let validators: Record<SchemaName, ValidateFunction> | undefined;

/**
 * The two schemas compiled at build time (scripts/gen-validators.mjs, ajv's standalone code with
 * allErrors and verbose): nothing is compiled, and ajv is not loaded, at start-up. Required on first
 * use, synchronously (the loader is synchronous): only a file that fails `passValidators` needs them,
 * and loading them (~150 KB; 240 KB as tsc printed them when they were an ES module) was ~7 ms of
 * every start-up. The schemas are checked against the draft-07 meta-schema by test/schemas.test.ts;
 * src/config/validators.test.ts fails when the generated code is stale.
 */
function fullValidators(): Record<SchemaName, ValidateFunction> {
  return (validators ??= createRequire(import.meta.url)("./validators.generated.cjs") as Record<SchemaName, ValidateFunction>);
}

/**
 * The same schemas compiled for a verdict only (scripts/gen-validators.mjs `generatePassValidators`):
 * no error objects, no messages, the first error ends the check; about a third of the full validators'
 * time on valid files. A file they fail is checked again by `fullValidators`, which alone give
 * diagnostics. Generated as CommonJS too (smaller than tsc's re-printing of it), required at load.
 */
const passValidators = createRequire(import.meta.url)("./pass-validators.generated.cjs") as Record<SchemaName, ValidateFunction>;

function schemaFile(name: SchemaName): URL {
  return new URL(`../../schemas/${name}.schema.json`, import.meta.url);
}

export function loadSchema(name: SchemaName): Record<string, unknown> {
  return JSON.parse(readFileSync(schemaFile(name), "utf8")) as Record<string, unknown>;
}

/** True when `data` passes the schema: the loader's fast path, which needs no errors. */
export function passesSchema(name: SchemaName, data: unknown): boolean {
  return passValidators[name](data);
}

/** Validates plain data against one of the two schemas; returns ajv's raw errors (mapped by schema-diagnostics). */
export function validateAgainstSchema(name: SchemaName, data: unknown): ErrorObject[] {
  const validate = fullValidators()[name];
  return validate(data) ? [] : [...(validate.errors ?? [])];
}
