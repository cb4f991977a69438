import { appendFile } from "node:fs/promises";
import type { Diagnostic } from "../config/diagnostic.ts";
import { location } from "./annotations.ts";
import { escapeMarkdown, escapeMarkdownMessage } from "../cli/markdown-escape.ts";

/** GitHub rejects a step summary over 1 MiB ("supports content up to a size of 1024k"). */
export const STEP_SUMMARY_LIMIT = 1_048_576;
const CELL_LIMIT = 2_000;

export interface StepSummaryOptions {
  title: string;
  filesChecked: number;
  /** Byte budget for the whole Markdown (UTF-8); defaults to GitHub's 1 MiB. */
  maxBytes?: number;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? "" : "s"}`;

/**
 * One Markdown table cell. Backtick code spans stay code spans (hints like "did you mean
 * `companyId`?" read as intended); everything else is escaped (mentions, links, images, HTML), and
 * `|` everywhere, which GFM honours even inside code spans.
 */
export function escapeCell(text: string): string {
  return escapeMarkdownMessage(text.length > CELL_LIMIT ? `${text.slice(0, CELL_LIMIT)}…` : text, { table: true });
}

function verdict(diags: readonly Diagnostic[], filesChecked: number): string {
  const errors = diags.filter((d) => d.severity === "error").length;
  const warnings = diags.length - errors;
  const files = new Set(diags.map((d) => d.file)).size;
  const found = `${plural(errors, "error")} and ${plural(warnings, "warning")} in ${plural(files, "file")}`;
  if (errors > 0) return `❌ ${found} (${plural(filesChecked, "file")} checked)`;
  if (warnings > 0) return `⚠️ ${found}; no errors (${plural(filesChecked, "file")} checked)`;
  return `✅ All ${plural(filesChecked, "file")} valid`;
}

const row = (d: Diagnostic): string =>
  `| ${escapeCell(location(d))} | ${d.severity} | ${escapeCell(d.code)} | ${escapeCell(d.message)} | ${escapeCell(d.hint ?? "")} |\n`;

const leftOut = (n: number, total: number): string =>
  `\n_${plural(n, "more diagnostic")} of ${total} left out to keep this summary under GitHub's 1 MiB limit; every diagnostic is in the job log._\n`;

/**
 * The job-summary Markdown: heading, one-line verdict, and a table of every diagnostic.
 * Rows are dropped from the end (and the count said) when the result would exceed 1 MiB.
 */
export function renderStepSummary(diags: readonly Diagnostic[], options: StepSummaryOptions): string {
  const maxBytes = options.maxBytes ?? STEP_SUMMARY_LIMIT;
  let out = `## ${escapeMarkdown(options.title)}\n\n${verdict(diags, options.filesChecked)}\n`;
  if (diags.length === 0) return out;
  out += "\n| File:line:col | Severity | Code | Message | Hint |\n| --- | --- | --- | --- | --- |\n";
  const rows = diags.map(row);
  const bytes = (s: string) => Buffer.byteLength(s, "utf8");
  let size = bytes(out);
  const full = rows.reduce((n, r) => n + bytes(r), size);
  if (full <= maxBytes) return out + rows.join("");
  const reserve = bytes(leftOut(diags.length, diags.length));
  let kept = 0;
  for (const r of rows) {
    const b = bytes(r);
    if (size + b + reserve > maxBytes) break;
    size += b;
    kept += 1;
  }
  return out + rows.slice(0, kept).join("") + leftOut(diags.length - kept, diags.length);
}

/**
 * Appends Markdown to the file named by `GITHUB_STEP_SUMMARY`; does nothing outside
 * GitHub Actions. Returns whether it wrote.
 */
export async function appendStepSummary(
  markdown: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<boolean> {
  const file = env.GITHUB_STEP_SUMMARY;
  if (!file) return false;
  await appendFile(file, markdown.endsWith("\n") ? markdown : `${markdown}\n`, "utf8");
  return true;
}
