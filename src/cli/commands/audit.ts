import { auditOnce, parseMonth } from "../../app/audit.ts";
import type { Deps } from "../../app/deps.ts";
import { targetOf } from "../../app/target.ts";
import { AUDIT_CATEGORIES, failingCategories, type AuditCategory } from "../../core/audit.ts";
import { UsageError } from "../../errors.ts";
import { renderAuditCsv, renderAuditJson, renderAuditMarkdown, renderAuditText, type AuditView } from "../render-audit.ts";

export type AuditFormat = "text" | "json" | "csv" | "markdown";

export interface AuditOptions {
  repo: string;
  month?: string;
  at?: Date;
  format: AuditFormat;
  /** `--fail-on unbilled,drift`: as given. */
  failOn?: string;
  sandbox: boolean;
}

/** `--fail-on`: a comma-separated list of categories. */
export function parseFailOn(value: string | undefined): AuditCategory[] {
  if (value === undefined) return [];
  const names = value.split(",").map((s) => s.trim()).filter((s) => s !== "");
  const bad = names.filter((n) => !(AUDIT_CATEGORIES as readonly string[]).includes(n));
  if (names.length === 0 || bad.length > 0) {
    throw new UsageError(`--fail-on: ${bad.length > 0 ? `unknown categor${bad.length === 1 ? "y" : "ies"} ${bad.map((b) => `\`${b}\``).join(", ")}` : "no category given"}; use a comma-separated list of ${AUDIT_CATEGORIES.join(", ")}`);
  }
  return [...new Set(names)] as AuditCategory[];
}

const RENDER: Record<AuditFormat, (v: AuditView) => string> = { text: renderAuditText, json: renderAuditJson, csv: renderAuditCsv, markdown: renderAuditMarkdown };

/** `cwsync audit`: read-only. Exit 0, or 1 when a category named in --fail-on has something in it (printed in full first). */
export async function auditCommand(opts: AuditOptions, io: Deps): Promise<number> {
  const failOn = parseFailOn(opts.failOn);
  const month = opts.month === undefined ? undefined : parseMonth(opts.month);
  const audit = await auditOnce({ repo: opts.repo, sandbox: opts.sandbox, ...(month ? { month } : {}), ...(opts.at ? { at: opts.at } : {}) }, io);
  io.stdout(RENDER[opts.format]({ audit, target: targetOf(opts.sandbox, io.settings.env) }));
  const failing = failingCategories(audit, failOn);
  if (failing.length === 0) return 0;
  io.stderr(`cwsync audit: ${failing.map((c) => `${c} (${audit[c].length})`).join(", ")} not empty (--fail-on ${failOn.join(",")})\n`);
  return 1;
}
