import type { CompareOp, Condition, Literal } from "./condition-parser.ts";

/**
 * Evaluates a parsed condition the way ConnectWise's SQL Server does: strings compare
 * case-insensitively (and accent-sensitively) ignoring trailing spaces, a comparison with a NULL
 * field is never true, and `contains`/`like` are SQL LIKE, where `%`, `_` and `[…]` are
 * wildcards; `like` also takes `*` (the Developer Guide's wildcard).
 */

const collator = new Intl.Collator("en", { sensitivity: "accent" });

type Getter = (row: unknown, field: string) => unknown;

function compareStrings(a: string, b: string): number {
  // SQL Server pads with spaces before comparing: "abc" = "abc  "
  return collator.compare(a.trimEnd(), b.trimEnd());
}

/** -1/0/1, or undefined when the two cannot be compared (SQL would say UNKNOWN: not a match). */
function order(field: unknown, lit: Literal): number | undefined {
  if (lit.kind === "null") return undefined;
  if (lit.kind === "datetime") {
    const t = typeof field === "string" ? Date.parse(field) : NaN;
    return Number.isNaN(t) ? undefined : Math.sign(t - lit.value);
  }
  if (lit.kind === "number") {
    const n = typeof field === "number" ? field : typeof field === "string" && field.trim() !== "" ? Number(field) : NaN;
    return Number.isNaN(n) ? undefined : Math.sign(n - lit.value);
  }
  if (lit.kind === "boolean") {
    return typeof field === "boolean" ? Number(field) - Number(lit.value) : undefined;
  }
  if (typeof field === "string") return compareStrings(field, lit.value);
  if (typeof field === "number") {
    const n = Number(lit.value);
    return lit.value.trim() === "" || Number.isNaN(n) ? undefined : Math.sign(field - n);
  }
  if (typeof field === "boolean") {
    const v = lit.value.trim().toLowerCase();
    return v === "true" || v === "false" ? Number(field) - Number(v === "true") : undefined;
  }
  return undefined;
}

/** Equality under the collation: case-insensitive, accent-sensitive, trailing spaces ignored. */
const fold = (s: string) => s.trimEnd().toLowerCase();

function compare(field: unknown, op: CompareOp, lit: Literal): boolean {
  if (lit.kind === "null") {
    // `x = null` is ConnectWise's IS NULL
    if (op === "=") return field === null || field === undefined;
    if (op === "!=") return field !== null && field !== undefined;
    return false;
  }
  if (field === null || field === undefined) return false;
  if ((op === "=" || op === "!=") && typeof field === "string" && lit.kind === "string") return (fold(field) === fold(lit.value)) === (op === "=");
  const o = order(field, lit);
  if (o === undefined) return false;
  switch (op) {
    case "=": return o === 0;
    case "!=": return o !== 0;
    case "<": return o < 0;
    case "<=": return o <= 0;
    case ">": return o > 0;
    case ">=": return o >= 0;
  }
}

const REGEX_SPECIAL = /[\\^$.*+?()[\]{}|/]/g;

/** SQL LIKE → RegExp. An unclosed `[` matches nothing, as in SQL Server. */
export function likeToRegExp(pattern: string, starIsWildcard: boolean): RegExp {
  let out = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "%" || (starIsWildcard && c === "*")) out += "[\\s\\S]*";
    else if (c === "_") out += "[\\s\\S]";
    else if (c === "[") {
      const end = pattern.indexOf("]", i + 1);
      if (end < 0) return /(?!)/;
      let body = pattern.slice(i + 1, end);
      const negate = body.startsWith("^");
      if (negate) body = body.slice(1);
      // keep ranges (a-z), escape everything else
      const cls = body.replace(/[\\\]^[]/g, (m) => `\\${m}`);
      out += cls === "" ? (negate ? "[\\s\\S]" : "(?!)") : `[${negate ? "^" : ""}${cls}]`;
      i = end;
    } else out += c.replace(REGEX_SPECIAL, (m) => `\\${m}`);
  }
  return new RegExp(`^${out}$`, "iu");
}

const compiled = new WeakMap<object, RegExp>();

interface InList {
  strings: Set<string>;
  numbers: Set<number>;
  /** Literals of the other kind, compared one by one (e.g. an unquoted number against a string field). */
  forStrings: Literal[];
  forNumbers: Literal[];
}

const lists = new WeakMap<object, InList>();

/** `in` lists hold up to 100 identifiers matched against thousands of rows: hash them once. */
function inList(c: Extract<Condition, { kind: "in" }>): InList {
  let l = lists.get(c);
  if (!l) {
    l = { strings: new Set(), numbers: new Set(), forStrings: [], forNumbers: [] };
    for (const lit of c.values) {
      if (lit.kind === "string") l.strings.add(fold(lit.value));
      else l.forStrings.push(lit);
      if (lit.kind === "number") l.numbers.add(lit.value);
      else l.forNumbers.push(lit);
    }
    lists.set(c, l);
  }
  return l;
}

function matcher(c: Extract<Condition, { kind: "match" }>): RegExp | undefined {
  const lit = c.value;
  if (lit.kind !== "string" && lit.kind !== "number") return undefined;
  let re = compiled.get(c);
  if (!re) {
    const text = String(lit.value);
    re = c.op === "contains" ? likeToRegExp(`%${text}%`, false) : likeToRegExp(text, true);
    compiled.set(c, re);
  }
  return re;
}

export function evaluate(c: Condition, row: unknown, get: Getter): boolean {
  switch (c.kind) {
    case "and": return evaluate(c.left, row, get) && evaluate(c.right, row, get);
    case "or": return evaluate(c.left, row, get) || evaluate(c.right, row, get);
    case "compare": return compare(get(row, c.field), c.op, c.value);
    case "in": {
      const v = get(row, c.field);
      if (v === null || v === undefined) return false;
      const l = inList(c);
      const hit = typeof v === "string"
        ? l.strings.has(fold(v)) || l.forStrings.some((lit) => compare(v, "=", lit))
        : typeof v === "number"
          ? l.numbers.has(v) || l.forNumbers.some((lit) => compare(v, "=", lit))
          : c.values.some((lit) => compare(v, "=", lit));
      return c.negated ? !hit : hit;
    }
    case "match": {
      const v = get(row, c.field);
      const re = matcher(c);
      if (re === undefined || v === null || v === undefined || typeof v === "object") return false;
      const hit = re.test(String(v));
      return c.negated ? !hit : hit;
    }
  }
}
