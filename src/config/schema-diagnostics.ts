import type { ErrorObject } from "ajv";
import type { Document, LineCounter, Node } from "yaml";
import { yamlLib } from "./yaml-lib.ts";
import type { Diagnostic } from "./diagnostic.ts";
import { excerpt } from "./excerpt.ts";
import { didYouMean, displayPath } from "./hints.ts";
import { keyNodeAt, nodeAt, pathToPointer, pointerToPath, positionOf, type PathSegment } from "./locate.ts";

type SchemaLike = { type?: string; const?: unknown; enum?: unknown[]; properties?: Record<string, SchemaLike>; examples?: unknown[] };

/** Values that go into ConnectWise query conditions use this pattern in the schemas. */
const CONDITION_SAFE = "^[^\"'\\\\\\[\\]]+$";
const CONDITION_MESSAGE: [string, string] = [
  "contains a character that cannot go into a ConnectWise query condition (`\" ' \\ [ ]`)",
  "use the name exactly as ConnectWise shows it; names with these characters cannot be looked up safely",
];

/** Agreement types and names: anything printable (they are matched in code, never sent in a condition). */
const PRINTABLE = "^[^\\u0000-\\u001f\\u007f]+$";
const PRINTABLE_MESSAGE: [string, string] = [
  "contains a control character (a tab, a line break …)",
  "use the name exactly as ConnectWise shows it, on one line",
];

const PATTERN_MESSAGES: Record<string, [message: string, hint: string]> = {
  name: ["must be lowercase letters, digits and `-`, 1–63 characters", "use the file name without `.yaml`, e.g. `acme-corp`"],
  at: ["must be a 24-hour time HH:MM", 'write it with two-digit hours and quotes, e.g. `at: "07:00"`'],
  until: ["must be a date YYYY-MM-DD", "e.g. `until: 2027-01-15`"],
  emailDomains: ["is not a domain name", "write the bare domain in lowercase, e.g. `acme.example`"],
  detections: ["must be a number followed by `h` or `d`", "e.g. `detections: 7d`"],
};

/** Type errors where quoting the value is not the fix: the hint says what the value looks like. */
const TYPE_HINTS: Record<string, string> = {
  at: PATTERN_MESSAGES.at[1],
  schedule: 'write a cron expression in quotes, e.g. `schedule: "0 8 * * 1-5"`',
  dayOfMonth: "use a whole number 1–31; 29, 30 and 31 fall back to the last day of shorter months",
};

function typeHint(expected: string, data: unknown, src: string | undefined, last: string | undefined): string | undefined {
  if (expected === "boolean") return "write `true` or `false` (YAML 1.2 reads `yes`, `no`, `on` and `off` as text)";
  if ((expected === "integer" || expected === "number") && typeof data === "string" && data.trim() !== "" && !Number.isNaN(Number(data))) {
    return `remove the quotes: \`${excerpt(data.trim())}\``;
  }
  if (last === "products" && data === "all") return "only the global settings may bill `all`: list the products, e.g. `products: [wfbs-svc]`";
  if (last !== undefined && TYPE_HINTS[last]) return TYPE_HINTS[last];
  if (expected === "string" && src !== undefined) return `quote it: \`"${excerpt(src.replace(/^["']|["']$/g, ""))}"\``;
  return undefined;
}

const describe = (v: unknown): string =>
  v === null ? "null" : Array.isArray(v) ? "a list" : typeof v === "object" ? "a mapping" : `${typeof v} \`${excerpt(String(v))}\``;

function sourceText(node: Node | undefined, text: string): string | undefined {
  const r = node?.range;
  return r ? text.slice(r[0], r[1]).trim() : undefined;
}

function branchLabel(b: SchemaLike): string {
  if (b.const !== undefined) return `\`${String(b.const)}\``;
  return b.type === "object" ? "a mapping" : b.type === "array" ? "a list" : String(b.type);
}

/** anyOf errors: keep only the branch that matches the value's shape, or one summary error. */
function collapseAnyOf(errors: ErrorObject[]): ErrorObject[] {
  const anyOfs = errors.filter((e) => e.keyword === "anyOf");
  // `if`/`then` only wraps the `required` error it explains
  if (anyOfs.length === 0) return errors.filter((e) => e.keyword !== "if");
  const drop = new Set<ErrorObject>();
  for (const a of anyOfs) {
    const branches = a.schema as SchemaLike[];
    const data = a.data;
    const kind = Array.isArray(data) ? "array" : data !== null && typeof data === "object" ? "object" : "scalar";
    const keep = branches.findIndex((b) => b.type === kind);
    for (const e of errors) {
      if (e === a || !e.schemaPath.startsWith(a.schemaPath + "/")) continue;
      if (keep < 0 || !e.schemaPath.startsWith(`${a.schemaPath}/${keep}/`)) drop.add(e);
    }
    if (keep >= 0) drop.add(a);
  }
  return errors.filter((e) => !drop.has(e) && e.keyword !== "if");
}

/** Maps ajv errors to diagnostics at the YAML positions, with messages and hints a person can act on. */
export function schemaDiagnostics(
  errors: ErrorObject[],
  ctx: { file: string; text: string; doc: Document.Parsed; lines: LineCounter },
): Diagnostic[] {
  const { isScalar } = yamlLib();
  const out: Diagnostic[] = [];
  const seen = new Set<string>();
  for (const e of collapseAnyOf(errors)) {
    if (e.propertyName !== undefined) continue; // reported by its propertyNames error
    const path = pointerToPath(e.instancePath);
    let node = nodeAt(ctx.doc, path);
    let at = excerpt(displayPath(path), 200);
    let message: string;
    let hint: string | undefined;
    let diagPath = path;
    const last = path.filter((s) => typeof s === "string").at(-1) as string | undefined;
    switch (e.keyword) {
      case "required": {
        const key = String(e.params.missingProperty);
        const example = (e.parentSchema as SchemaLike | undefined)?.properties?.[key]?.examples?.[0];
        message = `${path.length ? `\`${at}\`` : "the document"} is missing the required key \`${key}\``;
        hint = example !== undefined && typeof example !== "object" ? `add \`${key}: ${JSON.stringify(example)}\`` : `add \`${key}:\``;
        break;
      }
      case "additionalProperties": {
        const key = String(e.params.additionalProperty);
        node = keyNodeAt(ctx.doc, path, key) ?? node;
        diagPath = [...path, key];
        const allowed = Object.keys((e.parentSchema as SchemaLike | undefined)?.properties ?? {});
        message = `unknown key \`${excerpt(key)}\`${path.length ? ` in \`${at}\`` : ""}`;
        hint = key === "<<"
          ? "merge keys (`<<`) are not supported: write the keys out"
          : didYouMean(key, allowed) ?? (allowed.length ? `allowed keys: ${allowed.join(", ")}` : undefined);
        break;
      }
      case "propertyNames": {
        const key = String(e.params.propertyName);
        node = keyNodeAt(ctx.doc, path, key) ?? node;
        diagPath = [...path, key];
        message = `\`${excerpt(key)}\` in \`${at}\` is not a valid product key (lowercase letters, digits and \`-\`)`;
        hint = "use a key of the global `products` catalogue, e.g. `wfbs-svc`";
        break;
      }
      case "type": {
        const expected = String(e.params.type);
        const src = isScalar(node) ? sourceText(node, ctx.text) : undefined;
        const article = expected === "object" ? "a mapping" : expected === "array" ? "a list" : expected === "integer" ? "an integer" : `a ${expected}`;
        message = `${path.length ? `\`${at}\`` : "the document"} must be ${article}, found ${describe(e.data)}`;
        hint = path.length ? typeHint(expected, e.data, src, last) : "a cwsync file is a mapping of keys (`apiVersion: cwsync/v1`, `kind: …`): start from an example in customers/";
        break;
      }
      case "const":
      case "enum": {
        const allowed = e.keyword === "const" ? [e.params.allowedValue] : (e.params.allowedValues as unknown[]);
        message = `\`${at}\` must be ${allowed.map((v) => `\`${String(v)}\``).join(" or ")}, found ${describe(e.data)}`;
        hint = typeof e.data === "string" && e.data.length <= 100 ? didYouMean(e.data, allowed.map(String)) : undefined;
        if (!hint && last === "kind") hint = "`_global.yaml` is `kind: Global`; every customer file is `kind: Customer`";
        break;
      }
      case "anyOf": {
        const branches = (e.schema as SchemaLike[]).map(branchLabel);
        message = `\`${at}\` must be ${branches.join(" or ")}, found ${describe(e.data)}`;
        const consts = (e.schema as SchemaLike[]).filter((b) => b.const !== undefined).map((b) => String(b.const));
        hint = typeof e.data === "string" ? didYouMean(e.data, consts) : undefined;
        break;
      }
      case "pattern": {
        // an empty string fails the pattern too; its minLength error says it better
        if (e.data === "" && errors.some((o) => o.keyword === "minLength" && o.instancePath === e.instancePath)) continue;
        const [m, h] = e.params.pattern === CONDITION_SAFE
          ? CONDITION_MESSAGE
          : e.params.pattern === PRINTABLE
            ? PRINTABLE_MESSAGE
            : (PATTERN_MESSAGES[last ?? ""] ?? [`does not match ${e.params.pattern}`, undefined]);
        message = `\`${at}\` ${m}: found \`${excerpt(String(e.data))}\``;
        hint = h;
        break;
      }
      case "minimum":
      case "maximum":
        message = `\`${at}\` must be ${e.keyword === "minimum" ? "at least" : "at most"} ${e.params.limit}, found ${excerpt(String(e.data))}`;
        hint = last === "dayOfMonth" ? "use 1–31; 29, 30 and 31 fall back to the last day of shorter months" : undefined;
        break;
      case "minItems":
        message = `\`${at}\` must list at least ${e.params.limit} item${e.params.limit === 1 ? "" : "s"}`;
        hint = last === "detections" ? "list the categories to report, or remove the report"
          : last === "products" ? "list the products to bill, or remove `billing`" : undefined;
        break;
      case "uniqueItems":
        // at the repeat: ajv's `j` is the later of the two equal items
        diagPath = [...path, e.params.j as number];
        node = nodeAt(ctx.doc, diagPath) ?? node;
        message = `\`${at}\` lists \`${excerpt(String((e.data as unknown[])[e.params.j as number]))}\` twice`;
        hint = "remove the repeated item";
        break;
      case "minLength":
        message = `\`${at}\` must not be empty`;
        break;
      case "maxLength":
        message = `\`${at}\` is longer than ${e.params.limit} characters`;
        break;
      case "minProperties":
        message = `\`${at}\` must not be empty`;
        break;
      default:
        message = `\`${at}\` ${e.message ?? "is invalid"}`;
    }
    const pos = positionOf(node, ctx.lines);
    const key = `${e.keyword}|${pathToPointer(diagPath)}|${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({
      severity: "error",
      code: `schema.${e.keyword}`,
      file: ctx.file,
      line: pos?.line,
      col: pos?.col,
      endLine: pos?.endLine,
      endCol: pos?.endCol,
      path: pathToPointer(diagPath as PathSegment[]),
      message,
      hint,
    });
  }
  return out;
}
