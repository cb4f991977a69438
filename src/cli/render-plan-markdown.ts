import type { FieldChange } from "../core/config-diff.ts";
import type { CustomerPreview } from "../core/preview.ts";
import { location } from "./format-diagnostics.ts";
import { changeCount, type PlanView } from "./plan-model.ts";
import { codeSpan, escapeMarkdown, escapeMarkdownMessage } from "./markdown-escape.ts";
import { renderOnlineMarkdown, renderPreviewMarkdown } from "./render-online.ts";
import { agreementsLine, headline, moveLine, removedLine, reportLabel, sendLine, utc } from "./render-plan-text.ts";

const capitalized = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** A pull-request comment holds 65,536 characters; leave room for the marker and a warning. */
export const MARKDOWN_LIMIT = 60_000;

// before and after are the user's values (a display name, an owner): inert text, one line
const fieldRow = (f: FieldChange) => `| ${codeSpan(f.field, { table: true })} | ${f.before === undefined ? "—" : escapeMarkdown(f.before)} | ${f.after === undefined ? "—" : escapeMarkdown(f.after)} |`;
const fieldTable = (fs: FieldChange[]) => ["| Setting | Before | After |", "| --- | --- | --- |", ...fs.map(fieldRow)].join("\n");

function customerBlock(p: CustomerPreview): string {
  const lines = [`**${headline(p, escapeMarkdown)}**`, "", `Agreements: ${agreementsLine(p, escapeMarkdown)}`, ""];
  for (const r of p.reports) {
    lines.push(`- ${reportLabel(r, p, escapeMarkdown)}`);
    for (const s of r.sends) lines.push(`  - ${sendLine(s, p.customer.timezone, escapeMarkdown)}`);
  }
  if (p.reports.length === 0) lines.push("- no reports");
  return lines.join("\n");
}

/** Adds sections while they fit in the limit; the rest is summarized in one line. */
function fit(head: string[], sections: { text: string; label: string }[], tail: string[]): string {
  const out = [...head];
  let size = out.join("\n\n").length + tail.join("\n\n").length + 400;
  let shown = 0;
  for (const s of sections) {
    if (size + s.text.length + 2 > MARKDOWN_LIMIT) break;
    out.push(s.text);
    size += s.text.length + 2;
    shown++;
  }
  const left = sections.slice(shown);
  if (left.length) {
    out.push(`> **${left.length} more not shown** to fit a comment: ${left.slice(0, 20).map((s) => escapeMarkdown(s.label)).join(", ")}${left.length > 20 ? ", …" : ""}. Run \`cwsync plan${""} --base …\` locally for the full plan.`);
  }
  return [...out, ...tail].join("\n\n") + "\n";
}

/** The plan as a pull-request comment (≤ 60,000 characters). */
export function renderPlanMarkdown(view: PlanView): string {
  const head = ["<!-- cwsync-plan -->", "## cwsync plan"];
  const tail: string[] = [];
  if (view.blocked) {
    head.push(`> [!CAUTION]\n> \`_global.yaml\` is invalid: **every customer is held back** on its last applied configuration.\n${view.blocked.map((d) => `> - ${codeSpan(location(d))} ${escapeMarkdown(d.code)}: ${escapeMarkdownMessage(d.message)}`).join("\n")}`);
  }
  if (view.invalid.length) {
    tail.push(
      `### ❌ ${view.invalid.length} invalid customer file(s)\nEach keeps its last valid configuration until fixed; see the annotations of \`cwsync validate\`.\n\n` +
        view.invalid.slice(0, 50).map((i) => `- ${codeSpan(location(i.errors[0]))} **${escapeMarkdown(i.name)}**: ${i.errors.length} error(s), first ${codeSpan(i.errors[0].code)}`).join("\n") +
        (view.invalid.length > 50 ? `\n- … and ${view.invalid.length - 50} more` : ""),
    );
  }
  const online = view.online ? renderOnlineMarkdown(view.online) : "_ConnectWise checks not run: this plan is offline._";
  // the billing preview first: what merging this bills next matters more than the sends listed after it
  const sections: { text: string; label: string }[] = view.online ? renderPreviewMarkdown(view.online.preview) : [];
  const d = view.diff;
  if (!d) {
    head.push(`Next sends per customer, computed at ${utc(view.at)} (${view.previews.length} customers).`, online);
    for (const p of view.previews) sections.push({ text: customerBlock(p), label: p.customer.name });
    return fit(head, sections, tail);
  }
  const n = (k: string) => d.changes.filter((c) => c.kind === k).length;
  head.push(
    `Comparing ${codeSpan(view.base ?? "")} with this branch at ${utc(view.at)}: **${n("added")} to add, ${n("changed")} to change, ${n("removed")} to remove**, ${d.unchanged} unchanged${d.global.length ? `, ${d.global.length} global settings changed` : ""}.` +
      (changeCount(d) === 0 ? "\n\nNo changes to customers or global settings." : ""),
    online,
  );
  if (d.global.length) sections.push({ text: `### Global settings (\`_global.yaml\`)\n\n${fieldTable(d.global)}`, label: "global settings" });
  const grouped = new Set<string>();
  for (const g of d.groups) {
    const names = g.names.slice(0, 30).map((x) => codeSpan(x)).join(", ") + (g.names.length > 30 ? `, … (${g.names.length - 30} more)` : "");
    sections.push({ text: `### The same change to ${g.names.length} customers\n\n${names}\n\n${fieldTable(g.fields)}`, label: `${g.names.length} customers with the same change` });
    for (const x of g.names) grouped.add(x);
  }
  const byName = new Map(view.previews.map((p) => [p.customer.name, p]));
  for (const c of d.changes) {
    const tz = byName.get(c.name)?.customer.timezone;
    const moves = c.moves.length ? "\n\n" + c.moves.map((m) => `- ${moveLine(m, tz)}`).join("\n") : "";
    if (c.kind === "added") sections.push({ text: `### ➕ ${escapeMarkdown(c.name)}\n\n${customerBlock(byName.get(c.name)!)}`, label: c.name });
    else if (c.kind === "removed") sections.push({ text: `### ➖ ${escapeMarkdown(c.name)}\n\n${capitalized(removedLine(c, d))}.${moves}`, label: c.name });
    else if (grouped.has(c.name)) {
      if (moves) sections.push({ text: `#### ${escapeMarkdown(c.name)}: next sends${moves}`, label: c.name });
    } else sections.push({ text: `### ✏️ ${escapeMarkdown(c.name)}\n\n${fieldTable(c.fields)}${moves}`, label: c.name });
  }
  return fit(head, sections, tail);
}
