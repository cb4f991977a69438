import type { Alias, Document, LineCounter, Node, YAMLError } from "yaml";
import type { Diagnostic } from "./diagnostic.ts";
import { yamlLib } from "./yaml-lib.ts";

export const MAX_FILE_BYTES = 256 * 1024;
const MAX_ALIASES = 20;
const FORBIDDEN_KEYS = new Set(["__proto__", "constructor", "prototype"]);

export interface ParsedYaml {
  doc?: Document.Parsed;
  lines: LineCounter;
  /** The document as plain data; undefined when the YAML itself is broken. */
  data?: unknown;
  diagnostics: Diagnostic[];
}

const HINTS: Record<string, string> = {
  DUPLICATE_KEY: "remove one of the two keys; YAML keeps only one of them",
  TAB_AS_INDENT: "indent with spaces; tabs are not allowed as indentation",
  MULTIPLE_DOCS: "keep one document per file: remove the `---` line and split the rest into its own file",
  BAD_INDENT: "align the key with its siblings",
  MISSING_CHAR: "close the quote or bracket that was opened",
  BLOCK_AS_IMPLICIT_KEY: "check the indentation and the `:` after each key",
  MULTILINE_IMPLICIT_KEY: "a key must fit on one line: check the indentation of the line after it",
};

/** The parser's words where they speak of its API rather than of the file. */
const MESSAGES: Record<string, string> = {
  MULTIPLE_DOCS: "the file holds more than one YAML document",
};

/** An unclosed flow collection: the parser notices it only at the next line that is not indented enough. */
const UNCLOSED_FLOW = /must be sufficiently indented and end with a ([\]}])/;

/**
 * Where an unclosed quote or bracket was opened: the parser reports where it ran out (often the
 * end of the file), but the node it was reading ends there and starts at the opening character.
 */
function openedAt(doc: Document.Parsed, e: YAMLError): number | undefined {
  if (e.code !== "MISSING_CHAR" && !(e.code === "BAD_INDENT" && UNCLOSED_FLOW.test(e.message))) return undefined;
  const { isCollection, isScalar, visit } = yamlLib();
  let start: number | undefined;
  visit(doc, {
    Node(_, node) {
      const quoted = isScalar(node) && (node.type === "QUOTE_DOUBLE" || node.type === "QUOTE_SINGLE");
      const flow = isCollection(node) && node.flow === true;
      if ((quoted || flow) && node.range?.[1] === e.pos[0]) {
        start = node.range[0];
        return visit.BREAK;
      }
    },
  });
  return start;
}

/**
 * The alias at which `toJS` gives up, found by counting expansions the way it does (it says neither
 * which alias nor where): one without an anchor before it, or the first past the cap.
 */
function aliasProblem(doc: Document.Parsed): { alias: Alias; unresolved: boolean } | undefined {
  const { isAlias, isCollection, isPair, visit } = yamlLib();
  const anchors = new Map<string, Node>();
  const sourceOf = new Map<Alias, Node>();
  const count = new Map<Node, number>();
  const weight = new Map<Node, number>();
  const weightOf = (n: unknown): number => {
    if (isAlias(n)) {
      const source = sourceOf.get(n);
      return source ? (count.get(source) ?? 0) * (weight.get(source) ?? 0) : 0;
    }
    if (isPair(n)) return Math.max(weightOf(n.key), weightOf(n.value));
    if (isCollection(n)) return Math.max(0, ...n.items.map(weightOf));
    return 1;
  };
  let problem: { alias: Alias; unresolved: boolean } | undefined;
  visit(doc, {
    Node(_, node) {
      if (!isAlias(node)) {
        if (node.anchor) anchors.set(node.anchor, node);
        return;
      }
      const source = anchors.get(node.source);
      if (!source) {
        problem = { alias: node, unresolved: true };
        return visit.BREAK;
      }
      sourceOf.set(node, source);
      count.set(source, (count.get(source) ?? 0) + 1);
      if (!weight.get(source)) weight.set(source, weightOf(source));
      if ((count.get(source) ?? 0) * (weight.get(source) ?? 0) > MAX_ALIASES) {
        problem = { alias: node, unresolved: false };
        return visit.BREAK;
      }
    },
  });
  return problem;
}

/**
 * Parses one file with YAML 1.2's core schema and the safety rules of DESIGN §2: one document,
 * no duplicate keys, no tab indentation, no unknown tags, no `%YAML 1.1`, aliases capped.
 */
export function parseYaml(file: string, text: string): ParsedYaml {
  const { isScalar, LineCounter, parseDocument, visit } = yamlLib();
  const lines = new LineCounter();
  const diagnostics: Diagnostic[] = [];
  const at = (code: string, offset: number, message: string, hint?: string, path = ""): Diagnostic => {
    const pos = lines.linePos(offset);
    return { severity: "error", code, file, line: pos.line, col: pos.col, path, message, hint };
  };
  const src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const doc = parseDocument(src, {
    lineCounter: lines,
    schema: "core",
    merge: false,
    strict: true,
    uniqueKeys: true,
    prettyErrors: false,
    resolveKnownTags: false,
    keepSourceTokens: false,
  });
  const yamlDiag = (e: YAMLError) => {
    const firstLine = MESSAGES[e.code] ?? e.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
    const unclosed = UNCLOSED_FLOW.exec(e.message);
    const hint = unclosed ? `close it with \`${unclosed[1]}\`` : HINTS[e.code];
    return at(`yaml.${e.code}`, openedAt(doc, e) ?? e.pos[0], firstLine, hint);
  };
  // one syntax error per line: the rest are the parser losing its footing after the first; and a tab
  // used as indentation throws off the indentation of every line after it, so tabs are reported alone
  const tabs = doc.errors.filter((e) => e.code === "TAB_AS_INDENT");
  const errorLines = new Set<number>();
  for (const d of (tabs.length > 0 ? tabs : doc.errors).map(yamlDiag)) {
    if (errorLines.has(d.line ?? 0)) continue;
    errorLines.add(d.line ?? 0);
    diagnostics.push(d);
  }
  for (const w of doc.warnings) {
    if (w.code === "TAG_RESOLVE_FAILED") {
      diagnostics.push(at("yaml.UNKNOWN_TAG", w.pos[0], "unknown or unsupported tag", "remove the `!tag`; only plain YAML values are allowed"));
    } else {
      diagnostics.push({ ...yamlDiag(w), severity: "error" });
    }
  }
  if (doc.directives?.yaml.explicit && doc.directives.yaml.version !== "1.2") {
    const offset = src.indexOf("%YAML");
    diagnostics.push(
      at("yaml.UNSUPPORTED_VERSION", Math.max(offset, 0), `YAML ${doc.directives.yaml.version} is not supported; files are read as YAML 1.2`,
        "remove the `%YAML` line (and a `---` right after it); in YAML 1.1 `yes`/`no` and `0777` mean other things"),
    );
  }
  visit(doc, {
    Pair(_, pair) {
      if (isScalar(pair.key) && typeof pair.key.value === "string" && FORBIDDEN_KEYS.has(pair.key.value)) {
        diagnostics.push(at("yaml.FORBIDDEN_KEY", pair.key.range?.[0] ?? 0, `the key \`${pair.key.value}\` is not allowed`, "remove it"));
      }
    },
  });
  if (diagnostics.length > 0) return { doc, lines, diagnostics };
  if (doc.contents === null) {
    const message = src.trim() === "" ? "the file is empty" : "the file holds only comments";
    return { doc, lines, diagnostics: [at("yaml.EMPTY", 0, message, "start from an example file in customers/")] };
  }
  const alias = src.includes("*") ? aliasProblem(doc) : undefined;
  if (alias) {
    const { alias: node, unresolved } = alias;
    const d = unresolved
      ? at("yaml.UNRESOLVED_ALIAS", node.range?.[0] ?? 0, `the alias \`*${node.source}\` has no anchor \`&${node.source}\` before it`, "define the anchor above the alias, or write the value out")
      : at("yaml.ALIAS_LIMIT", node.range?.[0] ?? 0, `too many alias expansions (more than ${MAX_ALIASES})`, "write the values out instead of using `*alias` references");
    return { doc, lines, diagnostics: [d] };
  }
  try {
    const data = doc.toJS({ maxAliasCount: MAX_ALIASES });
    return { doc, lines, data, diagnostics };
  } catch (e) {
    const message = e instanceof Error && /alias/i.test(e.message)
      ? `too many alias expansions (more than ${MAX_ALIASES})`
      : `cannot read the document: ${e instanceof Error ? e.message : String(e)}`;
    return { doc, lines, diagnostics: [at("yaml.ALIAS_LIMIT", 0, message, "write the values out instead of using `*alias` references")] };
  }
}

