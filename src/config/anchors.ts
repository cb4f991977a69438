import type { Document, LineCounter } from "yaml";
import type { Diagnostic } from "./diagnostic.ts";
import type { LoadedFile } from "./load.ts";
import { nodeAt, positionOf } from "./locate.ts";
import { parseYaml } from "./yaml.ts";

export type Anchors = Partial<Record<"name" | "companyId", Pick<Diagnostic, "line" | "col" | "endLine" | "endCol">>>;

export function anchorsIn(doc: Document.Parsed, lines: LineCounter): Anchors {
  return {
    name: positionOf(nodeAt(doc, ["name"]), lines),
    companyId: positionOf(nodeAt(doc, ["connectwise", "companyId"]), lines),
  };
}

/** Positions of `name` and `companyId`, parsed on first use: files loaded on the fast path have none yet. */
export function anchorsOf(f: LoadedFile<unknown>): Anchors {
  if (f.anchors) return f.anchors;
  const parsed = f.source?.text !== undefined ? parseYaml(f.file, f.source.text) : undefined;
  f.anchors = parsed?.doc ? anchorsIn(parsed.doc, parsed.lines) : {};
  return f.anchors;
}
