import type { Diagnostic } from "../config/diagnostic.ts";
import { escapeControls } from "./text-escape.ts";

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** The most of the offending line a code frame shows. */
const FRAME_WIDTH = 200;

/** The offending line alone (never its neighbours), at most {@link FRAME_WIDTH} characters around the column, with a caret. */
function codeFrame(text: string, d: Diagnostic): string[] {
  if (!d.line) return [];
  const line = lineAt(text.replace(/^\uFEFF/, ""), d.line);
  if (line === undefined) return [];
  const col = d.col ?? 1;
  const start = line.length > FRAME_WIDTH ? Math.max(0, Math.min(col - 1 - FRAME_WIDTH / 2, line.length - FRAME_WIDTH)) : 0;
  const shown = (start > 0 ? "…" : "") + line.slice(start, start + FRAME_WIDTH) + (start + FRAME_WIDTH < line.length ? "…" : "");
  const src = escapeControls(shown.replace(/\t/g, "→"));
  const gutter = String(d.line);
  const out = [`> ${gutter} | ${src}`];
  if (d.col) {
    const len = d.endLine === d.line && d.endCol && d.endCol > d.col ? d.endCol - d.col : 1;
    const before = escapeControls((start > 0 ? "…" : "") + line.slice(start, col - 1).replace(/\t/g, "→")).length;
    out.push(`  ${" ".repeat(gutter.length)} | ${" ".repeat(before)}${"^".repeat(Math.max(1, Math.min(len, 80, FRAME_WIDTH - (col - 1 - start))))}`);
  }
  return out;
}

/** One line of a text without splitting all of it (a file can be a single 256 KiB line, or 10,000 short ones). */
function lineAt(text: string, n: number): string | undefined {
  let from = 0;
  for (let i = 1; i < n; i++) {
    const nl = text.indexOf("\n", from);
    if (nl < 0) return undefined;
    from = nl + 1;
  }
  const end = text.indexOf("\n", from);
  return text.slice(from, end < 0 ? text.length : end).replace(/\r$/, "");
}

export const location = (d: Diagnostic): string => `${d.file}${d.line ? `:${d.line}:${d.col ?? 1}` : ""}`;

/** Human output: `file:line:col severity code message`, a code frame, and the hint. */
export function formatDiagnosticsText(diags: readonly Diagnostic[], texts: ReadonlyMap<string, string>): string {
  const out: string[] = [];
  for (const d of diags) {
    out.push(escapeControls(`${location(d)} ${d.severity} ${d.code}: ${d.message}`));
    const text = texts.get(d.file);
    if (text !== undefined) out.push(...codeFrame(text, d));
    if (d.hint) out.push(escapeControls(`  hint: ${d.hint}`));
    out.push("");
  }
  return out.join("\n");
}

export function summaryLine(diags: readonly Diagnostic[], filesChecked: number): string {
  const errors = diags.filter((d) => d.severity === "error");
  const warnings = diags.length - errors.length;
  const files = new Set(diags.map((d) => d.file)).size;
  if (diags.length === 0) return `✔ ${plural(filesChecked, "file")} valid`;
  const verdict = errors.length ? "✖" : "⚠";
  return `${verdict} ${plural(errors.length, "error")}, ${plural(warnings, "warning")} in ${files} of ${plural(filesChecked, "file")}`;
}
