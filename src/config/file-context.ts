import type { Document, LineCounter } from "yaml";
import type { Diagnostic } from "./diagnostic.ts";
import { keyNodeAt, nodeAt, pathToPointer, positionOf, type PathSegment } from "./locate.ts";

/** One parsed file and a way to report a problem at a path inside it. */
export class FileContext {
  readonly diagnostics: Diagnostic[] = [];

  constructor(
    readonly file: string,
    readonly text: string,
    readonly doc: Document.Parsed,
    readonly lines: LineCounter,
  ) {}

  /** Reports at the value at `path`; `{ atKey: true }` reports at the key instead (unknown or forbidden keys). */
  report(
    d: { code: string; message: string; hint?: string; severity?: "error" | "warning"; offset?: number },
    path: readonly PathSegment[],
    opts: { atKey?: boolean } = {},
  ): void {
    const node = opts.atKey && path.length > 0
      ? keyNodeAt(this.doc, path.slice(0, -1), String(path[path.length - 1]))
      : nodeAt(this.doc, path);
    const pos = positionOf(node, this.lines);
    // Inside a plain or quoted scalar, `offset` points at a character of the value (e.g. a cron field).
    const quoted = node?.range && /^["']/.test(this.text.slice(node.range[0], node.range[0] + 1)) ? 1 : 0;
    const col = pos && d.offset !== undefined && pos.line === pos.endLine ? pos.col + quoted + d.offset : pos?.col;
    this.diagnostics.push({
      severity: d.severity ?? "error",
      code: d.code,
      file: this.file,
      line: pos?.line,
      col,
      endLine: pos?.endLine,
      endCol: pos?.endCol,
      path: pathToPointer(path),
      message: d.message,
      hint: d.hint,
    });
  }
}
