import type { Document, LineCounter, Node } from "yaml";
import { yamlLib } from "./yaml-lib.ts";

export interface Position {
  line: number;
  col: number;
  endLine: number;
  endCol: number;
}

export type PathSegment = string | number;

export function pointerToPath(pointer: string): PathSegment[] {
  if (pointer === "") return [];
  return pointer
    .split("/")
    .slice(1)
    .map((s) => s.replaceAll("~1", "/").replaceAll("~0", "~"))
    .map((s) => (/^(0|[1-9][0-9]*)$/.test(s) ? Number(s) : s));
}

export function pathToPointer(path: readonly PathSegment[]): string {
  return path.map((s) => "/" + String(s).replaceAll("~", "~0").replaceAll("/", "~1")).join("");
}

/** The YAML node at `path` (a value), or the nearest ancestor that exists. */
export function nodeAt(doc: Document.Parsed, path: readonly PathSegment[]): Node | undefined {
  for (let n = path.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
    if (node && typeof node === "object" && "range" in node) return node as Node;
  }
  return undefined;
}

/** The key node of `key` inside the mapping at `path`: an unknown key is reported at the key. */
export function keyNodeAt(doc: Document.Parsed, path: readonly PathSegment[], key: string): Node | undefined {
  const { isMap, isScalar } = yamlLib();
  const map = path.length === 0 ? doc.contents : doc.getIn(path, true);
  if (!isMap(map)) return undefined;
  const pair = map.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
  return pair && isScalar(pair.key) ? pair.key : undefined;
}

export function positionOf(node: Node | undefined, lines: LineCounter): Position | undefined {
  const range = node?.range;
  if (!range) return undefined;
  const start = lines.linePos(range[0]);
  const end = lines.linePos(range[1]);
  return { line: start.line, col: start.col, endLine: end.line, endCol: end.col };
}
