import { ApiError } from "../../errors.ts";

/**
 * What a good answer of each endpoint we read looks like: the fields we use, with their types.
 * One place decides; anything else a 2xx carries is `connectwise.unreadable`, never an empty
 * list or a default (an HTML page read as "no additions" once created them all again).
 */
type FieldType = "number" | "string" | "boolean" | "string?" | "boolean?" | "ref" | "ref?" | "product" | "nullable-string?";

export type Shape = Readonly<Record<string, FieldType>>;

export const SHAPES = {
  company: { id: "number", identifier: "string", name: "string", status: "ref?", deletedFlag: "boolean?" },
  companyStatus: { id: "number", name: "string", inactiveFlag: "boolean?" },
  agreement: { id: "number", name: "string", type: "ref", company: "ref", agreementStatus: "string?", cancelledFlag: "boolean?" },
  agreementChange: { id: "number", company: "ref" },
  agreementType: { id: "number", name: "string", inactiveFlag: "boolean?" },
  catalogItem: { id: "number", identifier: "string", inactiveFlag: "boolean?" },
  addition: { id: "number", product: "product", quantity: "number", cancelledDate: "nullable-string?", effectiveDate: "string?" },
  ticket: { id: "number", summary: "string", company: "ref?" },
  ticketNote: { id: "number" },
} satisfies Record<string, Shape>;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

type BaseType = "number" | "string" | "boolean" | "nullable-string" | "ref" | "product";

function fieldProblem(v: unknown, base: BaseType, optional: boolean): string | undefined {
  if (v === undefined) return optional ? undefined : "missing";
  switch (base) {
    case "number": return typeof v === "number" && Number.isFinite(v) ? undefined : `not a number (${JSON.stringify(v)?.slice(0, 40)})`;
    case "string": return typeof v === "string" ? undefined : "not a string";
    case "boolean": return typeof v === "boolean" ? undefined : "not true/false";
    case "nullable-string": return v === null || typeof v === "string" ? undefined : "not a string";
    case "ref": return isObject(v) && typeof v.id === "number" ? undefined : "not a reference with an id";
    case "product": return isObject(v) && typeof v.identifier === "string" ? undefined : "not a product with an identifier";
  }
  return undefined;
}

type Field = { name: string; base: BaseType; optional: boolean };

/** Each shape's fields, read once: every row of every answer is checked against them (no entries or strings made per row). */
const compiled = new WeakMap<Shape, readonly Field[]>();

function fieldsOf(shape: Shape): readonly Field[] {
  let fields = compiled.get(shape);
  if (!fields) {
    fields = Object.entries(shape).map(([name, t]) => ({ name, base: t.replace(/\?$/, "") as BaseType, optional: t.endsWith("?") }));
    compiled.set(shape, fields);
  }
  return fields;
}

/** The first problem of a record against its shape, or undefined when it is good. */
export function shapeProblem(record: unknown, shape: Shape): string | undefined {
  if (!isObject(record)) return `expected an object, found ${describe(record)}`;
  for (const f of fieldsOf(shape)) {
    const p = fieldProblem(record[f.name], f.base, f.optional);
    if (p) return `field \`${f.name}\` is ${p}`;
  }
  return undefined;
}

export function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "string") return v.trim() === "" ? "an empty body" : `text (${JSON.stringify(v.trim().replace(/\s+/g, " ").slice(0, 60))}…)`;
  return typeof v === "object" ? "an object" : String(typeof v);
}

export function unreadable(method: string, path: string, status: number, what: string): ApiError {
  return new ApiError({
    method, path, status, retryable: true, code: "connectwise.unreadable",
    apiMessage: `${what}; nothing was concluded from this answer — retried on the next reconcile`,
  });
}

/** A list answer: an array whose every row fits the shape. `scrub` cleans what the message quotes of the body (it may echo a credential). */
export function readList<T>(body: unknown, shape: Shape, method: string, path: string, status: number, scrub: (text: string) => string = (t) => t): T[] {
  if (!Array.isArray(body)) throw unreadable(method, path, status, scrub(`expected a JSON list, found ${describe(body)}`));
  for (let i = 0; i < body.length; i++) {
    const p = shapeProblem(body[i], shape);
    if (p) throw unreadable(method, path, status, scrub(`row ${i + 1}: ${p}`));
  }
  return body as T[];
}

/** A single-record answer that fits the shape. */
export function readOne<T>(body: unknown, shape: Shape, method: string, path: string, status: number, scrub: (text: string) => string = (t) => t): T {
  const p = shapeProblem(body, shape);
  if (p) throw unreadable(method, path, status, scrub(p));
  return body as T;
}

/** A `/count` answer: exactly `{"count": <non-negative whole number>}`; anything else (a list, a string, `-1`, `1.5`, a missing count) is unreadable, never zero. */
export function readCount(body: unknown, method: string, path: string, status: number, scrub: (text: string) => string = (t) => t): number {
  if (!isObject(body)) throw unreadable(method, path, status, scrub(`expected {"count": n}, found ${describe(body)}`));
  const n = body.count;
  if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 0) {
    throw unreadable(method, path, status, scrub(`field \`count\` is not a non-negative whole number (${JSON.stringify(n)?.slice(0, 40)})`));
  }
  return n;
}
