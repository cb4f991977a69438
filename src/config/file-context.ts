import type { Document, LineCounter } from "yaml";
import type { Diagnostic } from "./diagnostic.ts";
import { keyNodeAt, nodeAt, pathToPointer, positionOf, type PathSegment } from "./locate.ts";

/** One parsed file and a way to report a problem at a path inside it. */
export class FileContext {
  readonly diagnostics: Diagnostic[] = [];

  constructor(
    readonly file: string,
    readonly text: string,
    /** Absent on the loader's fast path, which only needs to know whether anything is wrong. */
    readonly doc?: Document.Parsed,
    readonly lines?: LineCounter,
  ) {}

  /** Reports at the value at `path`; `{ atKey: true }` reports at the key instead (unknown or forbidden keys). */
  report(
    d: { code: string; message: string; hint?: string; severity?: "error" | "warning"; offset?: number },
    path: readonly PathSegment[],
    opts: { atKey?: boolean } = {},
  ): void {
    const doc = this.doc;
    const node = !doc ? undefined : opts.atKey && path.length > 0
      ? keyNodeAt(doc, path.slice(0, -1), String(path[path.length - 1]))
      : nodeAt(doc, path);
    const pos = this.lines ? positionOf(node, this.lines) : undefined;
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
