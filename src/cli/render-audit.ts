import type { Audit, AuditLine, DriftItem, HeldItem, UnbilledItem, UnbilledWhy, UnmanagedItem } from "../core/audit.ts";
import { escapeMarkdown } from "./markdown-escape.ts";
import { escapeControls } from "./text-escape.ts";

export interface AuditView {
  audit: Audit;
  /** Where ConnectWise was read, for the heading: never credentials. */
  target: string;
}

type Cell = string | number | undefined;
interface Table { title: string; empty: string; head: string[]; rows: Cell[][]; right: number[] }

const WHY: Record<UnbilledWhy, string> = {
  "no-customer-file": "no customer file",
  "customer-disabled": "customer file disabled",
  "product-not-billed": "product not billed by the file",
  "product-unknown": "product not in _global.yaml",
};

const price = (n: number | undefined) => (n === undefined ? undefined : n.toFixed(2));
const signed = (n: number) => (n > 0 ? `+${n}` : String(n));
const company = (u: UnmanagedItem) => u.companyName ?? u.companyIdentifier ?? (u.companyId !== undefined ? `#${u.companyId}` : undefined);

function tables(a: Audit): Table[] {
  const t = a.totals;
  return [
    {
      title: `Unbilled seats: ${a.unbilled.length} (${t.unbilledSeats} seats, ${t.unbilledValue.toFixed(2)} a month where priced)`,
      empty: "Unbilled seats: none — every seat in the LMP report is billed by a customer file",
      head: ["LMP customer", "Product", "Used", "Provisioned", "Seats", "Unit price", "Monthly", "Why"],
      rows: a.unbilled.map((u: UnbilledItem) => [u.lmpCustomer, u.productName, u.used, u.provisioned, u.seats, price(u.unitPrice), price(u.monthlyValue), `${WHY[u.why]}${u.customer ? ` (${u.customer})` : ""}`]),
      right: [2, 3, 4, 5, 6],
    },
    {
      title: `Drift: ${a.drift.length} addition${a.drift.length === 1 ? "" : "s"} changed in ConnectWise since cwsync set them (${t.driftValue > 0 ? "+" : ""}${t.driftValue.toFixed(2)} a month where priced)`,
      empty: "Drift: none — every addition holds what cwsync last set",
      head: ["Customer", "Product", "Agreement", "Addition", "In ConnectWise", "cwsync set", "Set for", "Difference", "Unit price", "Monthly"],
      rows: a.drift.map((d: DriftItem) => [d.customer, d.productName, d.agreementName, `#${d.additionId}`, d.quantity, d.lastSet, d.lastSetPeriod, signed(d.difference), price(d.unitPrice), price(d.monthlyValue)]),
      right: [4, 5, 7, 8, 9],
    },
    {
      title: `Unmanaged: ${a.unmanaged.length} addition${a.unmanaged.length === 1 ? "" : "s"} on agreements no customer file maps (${t.unmanagedValue.toFixed(2)} a month where priced)`,
      empty: "Unmanaged: none",
      head: ["Company", "Agreement", "Addition", "Item", "Quantity", "Unit price", "Monthly"],
      rows: a.unmanaged.map((u: UnmanagedItem) => [company(u), u.agreementName ?? `#${u.agreementId}`, `#${u.additionId}`, u.catalogItem, u.quantity, price(u.unitPrice), price(u.monthlyValue)]),
      right: [4, 5, 6],
    },
    {
      title: `Held decreases: ${a.held.length} waiting for \`cwsync release\` (${t.heldValue.toFixed(2)} a month billed over the seats where priced)`,
      empty: "Held decreases: none",
      head: ["Customer", "Product", "Addition", "Billed now", "Seats (held)", "Month", "Unit price", "Monthly"],
      rows: a.held.map((h: HeldItem) => [h.customer, h.productName, `#${h.additionId}`, h.quantity, h.heldQuantity, h.periodKey, price(h.unitPrice), price(h.monthlyValue)]),
      right: [3, 4, 6, 7],
    },
  ];
}

const billedSummary = (lines: readonly AuditLine[]) => {
  const billed = lines.filter((l) => l.status === "billed");
  return `Billed by customer files: ${billed.length} of ${lines.length} LMP customer products (every line: --format json or csv).`;
};

/** Columns padded to their widest cell, numbers to the right: a table a billing clerk reads in a terminal. */
export function renderAuditText(v: AuditView): string {
  const out = [`Billing audit for ${v.audit.month} (LMP report ${v.audit.month}; read from ${escapeControls(v.target)})`, ""];
  for (const t of tables(v.audit)) {
    if (t.rows.length === 0) {
      out.push(t.empty, "");
      continue;
    }
    const cells = [t.head, ...t.rows.map((r) => r.map((c) => (c === undefined ? "—" : escapeControls(String(c)))))];
    const widths = t.head.map((_, i) => Math.max(...cells.map((r) => [...r[i]].length)));
    out.push(t.title);
    for (const r of cells) {
      out.push("  " + r.map((c, i) => (t.right.includes(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join("  ").trimEnd());
    }
    out.push("");
  }
  out.push(billedSummary(v.audit.lines));
  for (const n of v.audit.notes) out.push(`note: ${escapeControls(n)}`);
  return out.join("\n") + "\n";
}

/** A number as the tables print it (`5.88`, `+3`): nothing in it starts Markdown inside a cell. */
const NUMBER = /^[+-]?\d+(\.\d+)?$/;

export function renderAuditMarkdown(v: AuditView): string {
  const out = [`## Billing audit for ${v.audit.month}`, "", `LMP report ${v.audit.month}; read from ${escapeMarkdown(v.target)}`, ""];
  for (const t of tables(v.audit)) {
    if (t.rows.length === 0) {
      out.push(`**${escapeMarkdown(t.empty)}**`, "");
      continue;
    }
    out.push(`### ${escapeMarkdown(t.title)}`, "");
    out.push(`| ${t.head.map(escapeMarkdown).join(" | ")} |`, `| ${t.head.map((_, i) => (t.right.includes(i) ? "---:" : "---")).join(" | ")} |`);
    for (const r of t.rows) out.push(`| ${r.map((c) => (c === undefined ? "—" : typeof c === "number" || NUMBER.test(c) ? String(c) : escapeMarkdown(c))).join(" | ")} |`);
    out.push("");
  }
  out.push(escapeMarkdown(billedSummary(v.audit.lines)));
  for (const n of v.audit.notes) out.push("", `> ${escapeMarkdown(n)}`);
  return out.join("\n") + "\n";
}

export function renderAuditJson(v: AuditView): string {
  return JSON.stringify({ target: v.target, ...v.audit }, null, 2) + "\n";
}

const CSV_HEAD = [
  "category", "customer", "lmpCustomer", "product", "productName", "company", "agreementId", "agreement", "additionId",
  "used", "provisioned", "seats", "quantity", "lastSet", "heldQuantity", "difference", "period", "unitPrice", "monthlyValue", "why",
] as const;
type CsvRow = Partial<Record<(typeof CSV_HEAD)[number], string | number>>;

/** RFC 4180 quoting; a text cell that a spreadsheet would run as a formula starts with `'`. */
function csvCell(v: string | number | undefined): string {
  if (v === undefined) return "";
  if (typeof v === "number") return String(v);
  const safe = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** One row per item of every category, then every billed line: a sheet to filter on `category`. */
export function renderAuditCsv(v: AuditView): string {
  const a = v.audit;
  const rows: CsvRow[] = [
    ...a.unbilled.map((u): CsvRow => ({ category: "unbilled", customer: u.customer, lmpCustomer: u.lmpCustomer, product: u.product, productName: u.productName, used: u.used, provisioned: u.provisioned, seats: u.seats, unitPrice: u.unitPrice, monthlyValue: u.monthlyValue, why: u.why })),
    ...a.drift.map((d): CsvRow => ({ category: "drift", customer: d.customer, product: d.product, productName: d.productName, agreementId: d.agreementId, agreement: d.agreementName, additionId: d.additionId, quantity: d.quantity, lastSet: d.lastSet, difference: d.difference, period: d.lastSetPeriod, unitPrice: d.unitPrice, monthlyValue: d.monthlyValue })),
    ...a.unmanaged.map((u): CsvRow => ({ category: "unmanaged", product: u.product, company: company(u), agreementId: u.agreementId, agreement: u.agreementName, additionId: u.additionId, quantity: u.quantity, unitPrice: u.unitPrice, monthlyValue: u.monthlyValue })),
    ...a.held.map((h): CsvRow => ({ category: "held", customer: h.customer, product: h.product, productName: h.productName, agreementId: h.agreementId, additionId: h.additionId, quantity: h.quantity, heldQuantity: h.heldQuantity, difference: h.heldQuantity - h.quantity, period: h.periodKey, unitPrice: h.unitPrice, monthlyValue: h.monthlyValue })),
    ...a.lines.filter((l) => l.status === "billed").map((l): CsvRow => ({ category: "billed", customer: l.customer, lmpCustomer: l.lmpCustomer, product: l.product, productName: l.productName, agreementId: l.agreementId, agreement: l.agreementName, additionId: l.additionId, used: l.used, provisioned: l.provisioned, seats: l.seats, quantity: l.quantity, lastSet: l.lastSet, unitPrice: l.unitPrice, monthlyValue: l.quantity !== undefined && l.unitPrice !== undefined ? Math.round(l.quantity * l.unitPrice * 100) / 100 : undefined })),
  ];
  return [CSV_HEAD.join(","), ...rows.map((r) => CSV_HEAD.map((k) => csvCell(r[k])).join(","))].join("\r\n") + "\r\n";
}
