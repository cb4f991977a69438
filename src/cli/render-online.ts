import type { CustomerChecks } from "../core/connectwise-checks.ts";
import { escapeMarkdown, escapeMarkdownMessage } from "./markdown-escape.ts";
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
