/**
 * A recursive-descent parser for the subset of ConnectWise `conditions` the sandbox accepts:
 *
 *   expr    := and ("or" and)*
 *   and     := primary ("and" primary)*
 *   primary := "(" expr ")" | path cmp value | path ["not"] ("contains" | "like") value
 *            | path ["not"] "in" "(" value ("," value)* ")"
 *   value   := "…" | '…' | number | true | false | null | [datetime]
 *
 * Keywords are case-insensitive; field paths are `a/b`. Anything else is a syntax error, which
 * ConnectWise reports with one fixed message whatever went wrong.
 */

export type Literal =
  | { kind: "string"; value: string }
  | { kind: "number"; value: number }
  | { kind: "boolean"; value: boolean }
  | { kind: "null" }
  | { kind: "datetime"; value: number; text: string };

export type CompareOp = "=" | "!=" | "<" | "<=" | ">" | ">=";

export type Condition =
  | { kind: "and" | "or"; left: Condition; right: Condition }
  | { kind: "compare"; field: string; op: CompareOp; value: Literal }
  | { kind: "match"; field: string; op: "contains" | "like"; negated: boolean; value: Literal }
  | { kind: "in"; field: string; negated: boolean; values: Literal[] };

export const MALFORMED_CONDITION =
  "String values should be enclosed with double or single quotes; DateTime values should be enclosed in square brackets; numbers should consist of only digits, and optionally a decimal point and a negation sign; boolean values should be indicated with the keywords true or false; null values should be indicated by the keyword null.";

export class ConditionSyntaxError extends Error {
  constructor(readonly detail: string) {
    super(MALFORMED_CONDITION);
    this.name = "ConditionSyntaxError";
  }
}

type Token =
  | { t: "word"; v: string }
  | { t: "op"; v: CompareOp }
  | { t: "punct"; v: "(" | ")" | "," }
  | { t: "lit"; v: Literal };

const WORD = /[A-Za-z_][A-Za-z0-9_]*(?:\/[A-Za-z_][A-Za-z0-9_]*)*/y;
const NUMBER = /-?(?:\d+(?:\.\d*)?|\.\d+)(?![A-Za-z0-9_])/y;
const OPERATOR = /!=|<=|>=|=|<|>/y;
const DATETIME = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

function sticky(re: RegExp, text: string, at: number): string | undefined {
  re.lastIndex = at;
  return re.exec(text)?.[0];
}

function parseDatetime(raw: string): Literal {
  const text = raw.trim();
  if (!DATETIME.test(text)) throw new ConditionSyntaxError(`bad datetime [${raw}]`);
  // naive timestamps are UTC, as ConnectWise stores them
  const iso = text.length === 10 ? `${text}T00:00:00Z` : /Z|[+-]\d{2}:?\d{2}$/.test(text) ? text : `${text}Z`;
  const value = Date.parse(iso.replace(" ", "T"));
  if (Number.isNaN(value)) throw new ConditionSyntaxError(`bad datetime [${raw}]`);
  return { kind: "datetime", value, text };
}

export function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) {
      i++;
    } else if (c === "(" || c === ")" || c === ",") {
      out.push({ t: "punct", v: c });
      i++;
    } else if (c === '"' || c === "'") {
      // no escapes: ConnectWise documents none, so a quote always ends the string
      const end = text.indexOf(c, i + 1);
      if (end < 0) throw new ConditionSyntaxError("unterminated string");
      out.push({ t: "lit", v: { kind: "string", value: text.slice(i + 1, end) } });
      i = end + 1;
    } else if (c === "[") {
      const end = text.indexOf("]", i + 1);
      if (end < 0) throw new ConditionSyntaxError("unterminated datetime");
      out.push({ t: "lit", v: parseDatetime(text.slice(i + 1, end)) });
      i = end + 1;
    } else {
      const op = sticky(OPERATOR, text, i);
      const num = op === undefined ? sticky(NUMBER, text, i) : undefined;
      const word = op === undefined && num === undefined ? sticky(WORD, text, i) : undefined;
      if (op !== undefined) out.push({ t: "op", v: op as CompareOp });
      else if (num !== undefined) out.push({ t: "lit", v: { kind: "number", value: Number(num) } });
      else if (word !== undefined) out.push(keywordLiteral(word) ?? { t: "word", v: word });
      else throw new ConditionSyntaxError(`unexpected ${JSON.stringify(c)} at ${i}`);
      i += (op ?? num ?? word ?? "").length;
    }
  }
  return out;
}

function keywordLiteral(word: string): Token | undefined {
  const w = word.toLowerCase();
  if (w === "true" || w === "false") return { t: "lit", v: { kind: "boolean", value: w === "true" } };
  if (w === "null") return { t: "lit", v: { kind: "null" } };
  return undefined;
}

const KEYWORDS = new Set(["and", "or", "not", "contains", "like", "in"]);

class Parser {
  private i = 0;
  constructor(private readonly tokens: Token[]) {}

  parse(): Condition {
    const c = this.or();
    if (this.i < this.tokens.length) throw new ConditionSyntaxError("trailing tokens");
    return c;
  }

  private peekWord(): string | undefined {
    const t = this.tokens[this.i];
    return t?.t === "word" ? t.v.toLowerCase() : undefined;
  }

  private or(): Condition {
    let left = this.and();
    while (this.peekWord() === "or") {
      this.i++;
      left = { kind: "or", left, right: this.and() };
    }
    return left;
  }

  private and(): Condition {
    let left = this.primary();
    while (this.peekWord() === "and") {
      this.i++;
      left = { kind: "and", left, right: this.primary() };
    }
    return left;
  }

  private primary(): Condition {
    const t = this.tokens[this.i++];
    if (t?.t === "punct" && t.v === "(") {
      const inner = this.or();
      this.expectPunct(")");
      return inner;
    }
    if (t?.t !== "word" || KEYWORDS.has(t.v.toLowerCase())) throw new ConditionSyntaxError("expected a field name");
    const field = t.v;
    const next = this.tokens[this.i++];
    if (next?.t === "op") return { kind: "compare", field, op: next.v, value: this.literal() };
    if (next?.t !== "word") throw new ConditionSyntaxError(`expected an operator after ${field}`);
    let word = next.v.toLowerCase();
    const negated = word === "not";
    if (negated) {
      word = this.peekWord() ?? "";
      this.i++;
    }
    if (word === "contains" || word === "like") return { kind: "match", field, op: word, negated, value: this.literal() };
    if (word === "in") return { kind: "in", field, negated, values: this.list() };
    throw new ConditionSyntaxError(`unknown operator ${next.v}`);
  }

  private list(): Literal[] {
    this.expectPunct("(");
    const values = [this.literal()];
    while (this.tokens[this.i]?.t === "punct" && this.tokens[this.i].v === ",") {
      this.i++;
      values.push(this.literal());
    }
    this.expectPunct(")");
    return values;
  }

  private literal(): Literal {
    const t = this.tokens[this.i++];
    if (t?.t !== "lit") throw new ConditionSyntaxError("expected a value");
    return t.v;
  }

  private expectPunct(p: "(" | ")"): void {
    const t = this.tokens[this.i++];
    if (t?.t !== "punct" || t.v !== p) throw new ConditionSyntaxError(`expected ${p}`);
  }
}

/** Parses a `conditions` string; throws `ConditionSyntaxError` on anything malformed. */
export function parseConditions(text: string): Condition {
  const tokens = tokenize(text);
  if (tokens.length === 0) throw new ConditionSyntaxError("empty");
  return new Parser(tokens).parse();
}

/** Every field the condition names, in order of appearance (the first unknown one is reported). */
export function fieldsOf(c: Condition): string[] {
  return "field" in c ? [c.field] : [...fieldsOf(c.left), ...fieldsOf(c.right)];
}
