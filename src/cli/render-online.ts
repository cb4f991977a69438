import type { BillingPreview, PreviewLine } from "../core/billing-preview.ts";
import type { CustomerChecks } from "../core/connectwise-checks.ts";
import { formatLocal } from "../core/zoned-time.ts";
import { codeSpan, escapeMarkdown, escapeMarkdownMessage } from "./markdown-escape.ts";
import type { PlanView } from "./plan-model.ts";
import { escapeControls } from "./text-escape.ts";

/** One customer's ConnectWise checks as lines: a verdict, then every problem (and each resolved agreement). */
export function onlineLines(c: CustomerChecks): { ok: boolean; head: string; details: string[] } {
  const details: string[] = [];
  let ok = true;
  const co = c.company;
  let head: string;
  if (co.state === "found") head = `company #${co.company.id} “${co.company.name}” (${co.company.status?.name ?? "Active"})`;
  else {
    ok = false;
    head = co.state === "not-found" ? `company \`${co.identifier}\` not found` : `company #${co.company.id} “${co.company.name}” is ${co.state}`;
  }
  for (const m of c.mappings) {
    if (m.state === "resolved") details.push(`✔ ${m.product} → ${m.message}`);
    else {
      ok = false;
      details.push(`✖ ${m.product}: ${m.state} — ${m.message}`);
    }
  }
  for (const item of c.catalog) {
    if (item.state !== "present") {
      ok = false;
      details.push(`✖ ${item.product}: catalogue item \`${item.catalogItem}\` ${item.state === "missing" ? "not found" : "is inactive"}`);
    }
  }
  return { ok, head, details };
}

export function onlineSummary(online: NonNullable<PlanView["online"]>): string {
  const bad = online.checks.filter((c) => !onlineLines(c).ok).length;
  return `ConnectWise checks against ${online.target}: ${online.checks.length - bad} of ${online.checks.length} customers OK` +
    (online.unknownDefaultTypes.length ? `; default agreement types not in ConnectWise: ${online.unknownDefaultTypes.join(", ")}` : "");
}

export function renderOnlineText(online: NonNullable<PlanView["online"]>): string[] {
  const out = ["", onlineSummary(online)];
  for (const c of online.checks) {
    const { ok, head, details } = onlineLines(c);
    out.push(`  ${ok ? "✔" : "✖"} ${c.name}: ${head}`, ...details.map((d) => `      ${d}`));
  }
  for (const name of online.skipped) out.push(`  – ${name}: integration disabled, not checked`);
  out.push(...renderPreviewText(online.preview));
  // company names come from ConnectWise, customer names from files: escaped, one line each
  return out.map(escapeControls);
}

export function renderOnlineMarkdown(online: NonNullable<PlanView["online"]>): string {
  const rows = online.checks.flatMap((c) => {
    const { ok, head, details } = onlineLines(c);
    // the head and details quote names in code spans; everything else in them is escaped
    const problems = details.filter((d) => d.startsWith("✖")).map((d) => escapeMarkdownMessage(d, { table: true })).join("<br>");
    return ok ? [] : [`| **${escapeMarkdown(c.name)}** | ${escapeMarkdownMessage(head, { table: true })} | ${problems} |`];
  });
  const table = rows.length ? `\n\n| Customer | Company | Problems |\n| --- | --- | --- |\n${rows.slice(0, 200).join("\n")}` : "";
  return `### ConnectWise\n\n${escapeMarkdownMessage(onlineSummary(online))}.${table}`;
}

const signed = (n: number, digits = 0) => `${n > 0 ? "+" : n < 0 ? "−" : "±"}${Math.abs(n).toFixed(digits)}`;

/** The billing's due instant as the customer reads it. */
export const dueLabel = (p: BillingPreview): string => (p.due ? formatLocal(p.due, p.timezone) : "");

/** One product at the next billing: `wfbs-svc 40 → 42 (+2, +12.00 a month)`, decreases flagged ▼. */
export function previewLineText(l: PreviewLine): string {
  const from = l.previous === undefined ? "none" : String(l.previous);
  const to = l.quantity === undefined ? "?" : String(l.quantity);
  const amounts = [l.change !== undefined && l.change !== 0 ? signed(l.change) : undefined, l.money !== undefined && l.money !== 0 ? `${signed(l.money, 2)} a month` : undefined].filter(Boolean);
  const change = amounts.length ? ` (${amounts.join(", ")})` : "";
  const note = {
    set: l.decrease ? ": decrease" : "",
    create: ": addition created",
    unchanged: ": unchanged",
    held: ": decrease held (decreases: hold)",
    refused: ` — not billed: ${l.reason ?? ""}${l.message ? ` (${l.message})` : ""}`,
  }[l.op];
  if (l.op === "refused" && l.quantity === undefined) return `${l.product}: not billed: ${l.reason ?? ""}${l.message ? ` (${l.message})` : ""}`;
  return `${l.product} ${from} → ${to}${change}${note}`;
}

/** A customer's next billing: `billing 2026-12 (due 2026-12-01 06:00 UTC, LMP 2026-12)`. */
export function previewHead(p: BillingPreview): string {
  return p.periodKey ? `billing ${p.periodKey} (due ${dueLabel(p)}, seats from the LMP report for ${p.seatsMonth})` : "next billing";
}

export function renderPreviewText(preview: readonly BillingPreview[]): string[] {
  if (preview.length === 0) return [];
  const out = ["", "Billing preview: each addition's quantity now → the LMP seats now, at each customer's next billing (nothing is written)"];
  for (const p of preview) {
    if (p.state === "none") out.push(`  – ${p.customer}: ${previewHead(p)}: no preview — ${p.reason}: ${p.message}`);
    else out.push(`  ${p.customer}: ${previewHead(p)}`, ...p.lines.map((l) => `      ${l.decrease ? "▼" : "·"} ${previewLineText(l)}`));
  }
  return out.map(escapeControls);
}

/** Customers per table: each table is one section of the comment, so the comment's size logic can cut between them. */
const PREVIEW_CHUNK = 40;

/** The billing preview as Markdown tables, one section per chunk of customers (values escaped: names come from files and ConnectWise). */
export function renderPreviewMarkdown(preview: readonly BillingPreview[]): { text: string; label: string }[] {
  const cell = (s: string) => escapeMarkdown(s);
  const rows = (p: BillingPreview): string[] => {
    const who = `**${cell(p.customer)}**`;
    const when = p.periodKey ? `${cell(p.periodKey)} (due ${cell(dueLabel(p))}; LMP ${cell(p.seatsMonth ?? "")})` : "—";
    if (p.state === "none") return [`| ${who} | ${when} | — | no preview: ${codeSpan(p.reason, { table: true })} ${cell(p.message)} |`];
    if (p.lines.length === 0) return [`| ${who} | ${when} | — | no billed products |`];
    // the customer and its billing once, on its first row
    return p.lines.map((l, i) => `| ${i ? "" : who} | ${i ? "" : when} | ${cell(l.productName)} | ${l.decrease ? "▼ " : ""}${cell(previewLineText(l))} |`);
  };
  // the LMP not configured or down for everyone: one line, not a row per customer saying the same
  if (preview.length > 0 && preview.every((p) => p.state === "none" && p.reason === "license.unavailable")) {
    const first = preview[0].state === "none" ? preview[0].message : "";
    return [{ text: `### Billing preview

_Not available for any of ${preview.length} customers: ${escapeMarkdownMessage(first)}_`, label: "billing preview" }];
  }
  const sections: { text: string; label: string }[] = [];
  for (let i = 0; i < preview.length; i += PREVIEW_CHUNK) {
    const chunk = preview.slice(i, i + PREVIEW_CHUNK);
    const title = i === 0 ? "### Billing preview\n\nEach addition's quantity now → the LMP seats now, at each customer's next billing (▼ a decrease).\n\n" : "";
    sections.push({
      text: `${title}| Customer | Next billing | Product | Now → seats |\n| --- | --- | --- | --- |\n${chunk.flatMap(rows).join("\n")}`,
      label: `billing preview of ${chunk.length} customer(s) from ${chunk[0].customer}`,
    });
  }
  return sections;
}
