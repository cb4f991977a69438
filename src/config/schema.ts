import { readFileSync } from "node:fs";
import type { ErrorObject } from "ajv";
import { customer as customerValidator, global as globalValidator } from "./validators.generated.ts";

export type SchemaName = "customer" | "global";

/** ajv's validate function as its standalone code exports it: `errors` holds the last call's errors. */
interface ValidateFunction {
  (data: unknown): boolean;
  errors?: ErrorObject[] | null;
}

/**
 * The two schemas compiled at build time (scripts/gen-validators.mjs, ajv's standalone code with
 * allErrors and verbose): nothing is compiled, and ajv is not loaded, at start-up. The schemas are
 * checked against the draft-07 meta-schema by test/schemas.test.ts; src/config/validators.test.ts
 * fails when the generated code is stale.
 */
const validators: Record<SchemaName, ValidateFunction> = { customer: customerValidator, global: globalValidator };

function schemaFile(name: SchemaName): URL {
  return new URL(`../../schemas/${name}.schema.json`, import.meta.url);
}

export function loadSchema(name: SchemaName): Record<string, unknown> {
  return JSON.parse(readFileSync(schemaFile(name), "utf8")) as Record<string, unknown>;
}

/** True when `data` passes the schema: the loader's fast path, which needs no errors. */
export function passesSchema(name: SchemaName, data: unknown): boolean {
  return validators[name](data);
}

/** Validates plain data against one of the two schemas; returns ajv's raw errors (mapped by schema-diagnostics). */
export function validateAgainstSchema(name: SchemaName, data: unknown): ErrorObject[] {
  const validate = validators[name];
  return validate(data) ? [] : [...(validate.errors ?? [])];
}
