import { isScalar, LineCounter, parseDocument, visit, type Document, type YAMLError } from "yaml";
import type { Diagnostic } from "./diagnostic.ts";

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
};

/**
 * Parses one file with YAML 1.2's core schema and the safety rules of DESIGN §2: one document,
 * no duplicate keys, no tab indentation, no unknown tags, no `%YAML 1.1`, aliases capped.
 */
export function parseYaml(file: string, text: string): ParsedYaml {
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
    const firstLine = e.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
    return at(`yaml.${e.code}`, e.pos[0], firstLine, HINTS[e.code]);
  };
  diagnostics.push(...doc.errors.map(yamlDiag));
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
    return { doc, lines, diagnostics: [at("yaml.EMPTY", 0, "the file is empty", "start from an example file in customers/")] };
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

