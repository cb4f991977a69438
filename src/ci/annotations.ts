import type { Diagnostic } from "../config/diagnostic.ts";

// GitHub workflow-command escaping, as @actions/core 3 does it.
const escapeData = (s: string): string =>
  s.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
const escapeProperty = (s: string): string =>
  escapeData(s).replace(/:/g, "%3A").replace(/,/g, "%2C");

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? "" : "s"}`;

/** `file:line:col`, leaving out the parts that are unknown. */
export function location(d: Diagnostic): string {
  if (d.line === undefined) return d.file;
  return d.col === undefined ? `${d.file}:${d.line}` : `${d.file}:${d.line}:${d.col}`;
}

const withHint = (d: Diagnostic): string => (d.hint ? `${d.message} — ${d.hint}` : d.message);

/** One `::error …::message` or `::warning …::message` workflow command. */
export function annotation(d: Diagnostic): string {
  const props = [`file=${escapeProperty(d.file)}`];
  if (d.line !== undefined) props.push(`line=${d.line}`);
  if (d.col !== undefined) props.push(`col=${d.col}`);
  if (d.endLine !== undefined) props.push(`endLine=${d.endLine}`);
  if (d.endCol !== undefined) props.push(`endColumn=${d.endCol}`);
  props.push(`title=${escapeProperty(d.code)}`);
  return `::${d.severity} ${props.join(",")}::${escapeData(withHint(d))}`;
}

// A log line must stay one line, and must not start a workflow command of its own.
const logLine = (d: Diagnostic): string =>
  `${location(d)} ${d.severity} ${d.code} ${withHint(d)}`.replace(/\r?\n|\r/g, " ⏎ ");

/**
 * Diagnostics as GitHub Actions workflow commands for stdout: at most `limit` error and
 * `limit` warning annotations (GitHub silently drops the rest of a step's), then every
 * diagnostic in a collapsed log group, then a notice when annotations were left out.
 * Returns `""` when there is nothing to report; otherwise newline-terminated lines.
 */
export function formatAnnotations(diags: readonly Diagnostic[], limit = 10): string {
  if (diags.length === 0) return "";
  const lines: string[] = [];
  const shown = { error: 0, warning: 0 };
  const cut = { error: 0, warning: 0 };
  for (const d of diags) {
    if (shown[d.severity] < limit) {
      shown[d.severity] += 1;
      lines.push(annotation(d));
    } else {
      cut[d.severity] += 1;
    }
  }
  lines.push(`::group::${escapeData(`All ${plural(diags.length, "diagnostic")}`)}`);
  for (const d of diags) lines.push(logLine(d));
  lines.push("::endgroup::");
  if (cut.error + cut.warning > 0) {
    const parts = [cut.error && plural(cut.error, "more error"), cut.warning && plural(cut.warning, "more warning")]
      .filter(Boolean)
      .join(" and ");
    const all = `All ${plural(diags.length, "diagnostic")}`;
    lines.push(
      `::notice::${escapeData(
        `${parts} not shown as annotations (GitHub keeps ${limit} of each per step). ${all} are in the job summary and in the log group "${all}".`,
      )}`,
    );
  }
  return `${lines.join("\n")}\n`;
}
