import { readFileSync } from "node:fs";
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";

export type SchemaName = "customer" | "global";

let validators: Record<SchemaName, ValidateFunction> | undefined;

function schemaFile(name: SchemaName): URL {
  return new URL(`../../schemas/${name}.schema.json`, import.meta.url);
}

export function loadSchema(name: SchemaName): Record<string, unknown> {
  return JSON.parse(readFileSync(schemaFile(name), "utf8")) as Record<string, unknown>;
}

function compile(): Record<SchemaName, ValidateFunction> {
  // allErrors: report every problem in one run; verbose: errors carry their schema for hints.
  // The schemas are checked against the draft-07 meta-schema by test/schemas.test.ts, not on every start (~80 ms).
  const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, strictTypes: false, strictRequired: false, validateSchema: false, meta: false });
  return { customer: ajv.compile(loadSchema("customer")), global: ajv.compile(loadSchema("global")) };
}

/** Validates plain data against one of the two schemas; returns ajv's raw errors (mapped by schema-diagnostics). */
export function validateAgainstSchema(name: SchemaName, data: unknown): ErrorObject[] {
  validators ??= compile();
  const validate = validators[name];
  return validate(data) ? [] : [...(validate.errors ?? [])];
}
