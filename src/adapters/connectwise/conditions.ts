/**
 * A typed builder for ConnectWise `conditions`. Values are always quoted by us, and a value we
 * cannot quote safely is refused before any request: ConnectWise documents no escape for `"`,
 * `'` or `\` inside a condition string, and `[`/`]` are SQL LIKE character classes in
 * `contains`/`like`. So nothing from a customer file can change the meaning of a query.
 */

/** The fields cwsync filters on; a typo is a compile error, not a 400 at run time. */
export type ConditionField =
  | "id"
  | "identifier"
  | "name"
  | "summary"
  | "company/id"
  | "product/identifier"
  | "agreementStatus"
  | "deletedFlag"
  | "inactiveFlag"
  | "closedFlag"
  | "lastUpdated";

export class UnsafeConditionValue extends Error {
  constructor(readonly value: string, reason: string) {
    super(`cannot put \`${value}\` into a ConnectWise query condition: ${reason}`);
    this.name = "UnsafeConditionValue";
  }
}

const UNSAFE = /["'\\[\]\u0000-\u001f\u007f]/;

export function quote(value: string): string {
  if (value.length === 0) throw new UnsafeConditionValue(value, "it is empty");
  const bad = UNSAFE.exec(value);
  if (bad) throw new UnsafeConditionValue(value, `it contains ${JSON.stringify(bad[0])} (quotes, backslashes, brackets and control characters cannot be escaped)`);
  return `"${value}"`;
}

function literal(value: string | number | boolean): string {
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) throw new UnsafeConditionValue(String(value), "only whole numbers are used in conditions");
    return String(value);
  }
  return quote(value);
}

export const cond = {
  eq: (field: ConditionField, value: string | number | boolean): string => `${field} = ${literal(value)}`,
  contains: (field: ConditionField, value: string): string => `${field} contains ${quote(value)}`,
  in: (field: ConditionField, values: readonly (string | number)[]): string => {
    if (values.length === 0) throw new UnsafeConditionValue("", "an empty `in ()` list");
    return `${field} in (${values.map(literal).join(",")})`;
  },
  /** `field > [UTC time]`, to the second (ConnectWise's datetime literal). */
  after: (field: "lastUpdated", at: Date): string => {
    if (!Number.isFinite(at.getTime())) throw new UnsafeConditionValue(String(at), "not a valid time");
    return `${field} > [${at.toISOString().slice(0, 19)}Z]`;
  },
  and: (...parts: string[]): string => parts.map((p) => (/ or /i.test(p) ? `(${p})` : p)).join(" and "),
};
