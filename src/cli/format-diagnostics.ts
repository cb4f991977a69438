import type { Diagnostic } from "../config/diagnostic.ts";

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

function codeFrame(text: string, d: Diagnostic): string[] {
  if (!d.line) return [];
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  const from = Math.max(1, d.line - 1);
  const to = Math.min(lines.length, d.line + 1);
  const width = String(to).length;
  const out: string[] = [];
  for (let n = from; n <= to; n++) {
    const src = (lines[n - 1] ?? "").replace(/\t/g, "→");
    out.push(`${n === d.line ? ">" : " "} ${String(n).padStart(width)} | ${src}`);
    if (n === d.line && d.col) {
      const len = d.endLine === d.line && d.endCol && d.endCol > d.col ? d.endCol - d.col : 1;
      out.push(`  ${" ".repeat(width)} | ${" ".repeat(d.col - 1)}${"^".repeat(Math.min(len, 80))}`);
    }
  }
  return out;
}

export const location = (d: Diagnostic): string => `${d.file}${d.line ? `:${d.line}:${d.col ?? 1}` : ""}`;

/** Human output: `file:line:col severity code message`, a code frame, and the hint. */
export function formatDiagnosticsText(diags: readonly Diagnostic[], texts: ReadonlyMap<string, string>): string {
  const out: string[] = [];
  for (const d of diags) {
    out.push(`${location(d)} ${d.severity} ${d.code}: ${d.message}`);
    const text = texts.get(d.file);
    if (text !== undefined) out.push(...codeFrame(text, d));
    if (d.hint) out.push(`  hint: ${d.hint}`);
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
