import type { ConfigDiff, CustomerChange, FieldChange } from "../core/config-diff.ts";
import { REPORT_TITLES, type CustomerPreview, type PreviewSend } from "../core/preview.ts";
import { formatLocal } from "../core/zoned-time.ts";
import { location } from "./format-diagnostics.ts";
import { changeCount, type PlanView } from "./plan-model.ts";
import { renderOnlineText } from "./render-online.ts";
import { escapeControls } from "./text-escape.ts";

/** How a user-controlled value goes into a line: escaped for the terminal, or for Markdown. */
export type Escape = (value: string) => string;

export const utc = (d: Date): string => d.toISOString().slice(0, 16) + "Z";

export function sendLine(s: PreviewSend, tz: string, v: Escape = escapeControls): string {
  const extra = v([s.note, s.skipped && `not sent: ${s.skipped}`].filter(Boolean).join("; "));
  return `${formatLocal(s.due, tz)} (${utc(s.due)})  period ${s.periodKey}${extra ? `  — ${extra}` : ""}`;
}

export function agreementsLine(p: CustomerPreview, v: Escape = escapeControls): string {
  const entries = Object.entries(p.customer.agreements);
  if (entries.length === 0) return "none";
  return entries.map(([k, a]) => `${v(k)} → ${a === "default" ? "default" : `${v(a.type)} / ${v(a.name)}`}`).join("; ");
}

export function headline(p: CustomerPreview, v: Escape = escapeControls): string {
  const c = p.customer;
  const state = !c.enabled ? "integration disabled" : c.suspend ? `suspended${c.suspend.until ? ` until ${v(c.suspend.until)}` : ""}: ${v(c.suspend.reason)}` : `company ${v(String(c.companyId))}`;
  return `${v(c.name)} (${v(c.displayName)}) — ${v(c.settings)} settings, ${v(c.timezone)}, at ${v(c.at)}; ${state}`;
}

export function reportLabel(r: CustomerPreview["reports"][number], p: CustomerPreview, v: Escape = escapeControls): string {
  const spec = p.customer.reports.find((x) => x.report === r.report);
  const what = spec?.products?.join(", ") ?? [spec?.edition, spec?.detections?.join(", ")].filter(Boolean).join(": ");
  return `${REPORT_TITLES[r.report]} (${v(what)}) — ${v(r.schedule)}`;
}

function customerText(p: CustomerPreview, indent: string): string[] {
  const out = [`${indent}${headline(p)}`, `${indent}  agreements: ${agreementsLine(p)}`];
  if (p.reports.length === 0) out.push(`${indent}  no reports`);
  for (const r of p.reports) {
    out.push(`${indent}  ${reportLabel(r, p)}`);
    for (const s of r.sends) out.push(`${indent}    ${sendLine(s, p.customer.timezone)}`);
  }
  return out;
}

const fieldLine = (f: FieldChange) => `${f.field}: ${f.before ?? "(none)"} → ${f.after ?? "(none)"}`;

export function moveLine(m: CustomerChange["moves"][number], tz: string | undefined): string {
  const when = (d: Date) => (tz ? formatLocal(d, tz) : utc(d));
  const at = (s: PreviewSend | undefined) => (s ? `${when(s.due)} (${s.periodKey})${s.skipped ? " not sent" : ""}` : "none");
  const title = REPORT_TITLES[m.report as keyof typeof REPORT_TITLES] ?? m.report;
  if (!m.atOnce) return `next ${title}: ${at(m.before)} → ${at(m.after)}`;
  // what the reconcile right after the merge does: the new schedule made these due already
  const outcome = { sent: "sent", skipped: "recorded as skipped", missed: "recorded as missed past the catch-up window" };
  const now = m.atOnce.map((x) => `${x.send.periodKey} ${outcome[x.outcome]} when merged (due ${when(x.send.due)})`).join(", ");
  return `next ${title}: ${at(m.before)} → ${now}; then ${at(m.after)}`;
}

/** The line of a removed customer: its sends stop, or the mass-removal guard keeps it running. */
export function removedLine(c: CustomerChange, diff: ConfigDiff): string {
  if (!c.held || !diff.massRemoval) return "removed — its sends stop";
  const m = diff.massRemoval;
  return `removed — held: this change removes ${m.removed.length} of ${m.of} customers (more than a quarter), so the reconcile keeps running it until one runs with --allow-mass-removal`;
}

/** The plan as plain text: per customer, or with --base the change and its summary line. */
export function renderPlanText(view: PlanView): string {
  const out: string[] = [];
  const byName = new Map(view.previews.map((p) => [p.customer.name, p]));
  if (view.blocked) {
    out.push("✖ _global.yaml is invalid: every customer is held back on its last applied configuration.");
    for (const d of view.blocked) out.push(`  ${location(d)} ${d.code}: ${d.message}`);
  }
  if (!view.diff) {
    out.push(`Plan at ${utc(view.at)}: next sends per customer`, "");
    for (const p of view.previews) out.push(...customerText(p, ""), "");
  } else {
    const d = view.diff;
    out.push(`Plan: ${view.base} → working tree, at ${utc(view.at)}`, "");
    if (d.global.length) out.push("Global settings (_global.yaml):", ...d.global.map((f) => `  ~ ${fieldLine(f)}`), "");
    const grouped = new Set(d.groups.flatMap((g) => g.names));
    for (const g of d.groups) out.push(`The same change to ${g.names.length} customers (${g.names.join(", ")}):`, ...g.fields.map((f) => `  ~ ${fieldLine(f)}`), "");
    for (const c of d.changes) {
      const tz = byName.get(c.name)?.customer.timezone;
      if (c.kind === "removed") out.push(`- ${c.name}: ${removedLine(c, d)}`);
      else if (c.kind === "added") out.push(`+ ${c.name}: added`, ...customerText(byName.get(c.name)!, "    "));
      else if (grouped.has(c.name)) out.push(`~ ${c.name} (the same change as above)`);
      else out.push(`~ ${c.name}`, ...c.fields.map((f) => `    ${fieldLine(f)}`));
      out.push(...c.moves.map((m) => `    ${moveLine(m, tz)}`), "");
    }
    out.push(`Plan: ${count(d.changes, "added")} to add, ${count(d.changes, "changed")} to change, ${count(d.changes, "removed")} to remove, ${d.unchanged} unchanged${d.global.length ? `; ${d.global.length} global settings changed` : ""}.`);
    if (changeCount(d) === 0) out.push("No changes.");
  }
  if (view.online) out.push(...renderOnlineText(view.online));
  if (view.invalid.length) {
    out.push("", `✖ ${view.invalid.length} customer file(s) invalid — each keeps its last valid config (run \`cwsync validate\`):`);
    for (const i of view.invalid) out.push(`  ${i.name}: ${i.errors.length} error(s), first at ${location(i.errors[0])} ${i.errors[0].code}`);
  }
  // names, display names and file paths are the user's: a line break or a bidi control in one is shown escaped
  return out.map(escapeControls).join("\n") + "\n";
}

const count = (changes: CustomerChange[], kind: CustomerChange["kind"]) => changes.filter((c) => c.kind === kind).length;

/** The JSON shape of the plan: stable keys, instants in ISO UTC. */
export function planToJson(view: PlanView) {
  return {
    at: view.at.toISOString(),
    base: view.base ?? null,
    blocked: view.blocked ?? null,
    customers: view.previews.map((p) => ({
      ...p.customer,
      reports: p.reports.map((r) => ({
        report: r.report,
        schedule: r.schedule,
        sends: r.sends.map((s) => ({
          due: s.due.toISOString(),
          local: formatLocal(s.due, p.customer.timezone),
          periodKey: s.periodKey,
          period: { start: s.period.start.toISOString(), end: s.period.end.toISOString() },
          note: s.note ?? null,
          skipped: s.skipped ?? null,
        })),
      })),
    })),
    invalid: view.invalid,
    online: view.online ?? null,
    diff: view.diff
      ? {
          ...view.diff,
          changes: view.diff.changes.map((c) => ({
            ...c,
            moves: c.moves.map((m) => ({
              report: m.report, before: m.before?.due.toISOString() ?? null, after: m.after?.due.toISOString() ?? null,
              atOnce: (m.atOnce ?? []).map((x) => ({ periodKey: x.send.periodKey, due: x.send.due.toISOString(), outcome: x.outcome })),
            })),
          })),
        }
      : null,
  };
}
