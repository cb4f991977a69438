import jsyaml from "js-yaml";

/**
 * Text that only the full `yaml` parser judges correctly: anchors and aliases (alias bombs), tags,
 * directives, tabs, prototype keys, and number forms the two parsers read differently. A `*` before
 * a quote is not taken for an alias: it closes a quoted cron schedule (`"0 9 1,15 * *"`); an alias
 * named so would need an anchor `&"…`, which sends the file to the full parser, and js-yaml refuses
 * an alias without its anchor.
 */
export const NEEDS_FULL_PARSER = /(^|[\s[{,:-])([&!][^\s,[\]{}]|\*[^\s,[\]{}"'])|^%|\t|__proto__|constructor|prototype|\b0b[01]|[-+]\.\d|\r(?!\n)/m;

// NEEDS_FULL_PARSER, one alternative at a time, each tried only when a plain search finds the
// characters it needs (a rare one first: `%` before `\n%`, `-.` rather than `.`, which every file
// has): the same verdict (fast-path.test.ts), in a fraction of the time on every file
const ANCHOR_OR_TAG = /(^|[\s[{,:-])([&!][^\s,[\]{}]|\*[^\s,[\]{}"'])/m;
const BINARY = /\b0b[01]/;
const SIGNED_FRACTION = /[-+]\.\d/;
const LONE_CR = /\r(?!\n)/;

export function needsFullParser(text: string): boolean {
  return (
    ((text.includes("&") || text.includes("*") || text.includes("!")) && ANCHOR_OR_TAG.test(text)) ||
    (text.includes("%") && (text.startsWith("%") || text.includes("\n%") || text.includes("\r%") || text.includes("\u2028%") || text.includes("\u2029%"))) ||
    text.includes("\t") ||
    text.includes("__proto__") || text.includes("constructor") || text.includes("prototype") ||
    (text.includes("0b") && BINARY.test(text)) ||
    ((text.includes("-.") || text.includes("+.")) && SIGNED_FRACTION.test(text)) ||
    (text.includes("\r") && LONE_CR.test(text))
  );
}

/**
 * The fast path of the loader: a clean, simple file is read with js-yaml (about 8× faster) and,
 * when schema and rules find nothing, never needs positions. Anything unusual, and every file with
 * a problem, goes through the full parser, which alone reports diagnostics. Returns undefined when
 * the fast path does not apply.
 */
export function fastParse(text: string): unknown {
  if (needsFullParser(text)) return undefined;
  try {
    const docs = jsyaml.loadAll(text, undefined, { schema: jsyaml.CORE_SCHEMA, json: false });
    return docs.length === 1 && docs[0] !== null && docs[0] !== undefined ? docs[0] : undefined;
  } catch {
    return undefined;
  }
}
