import type { EffectiveCustomer, EffectiveReport } from "../config/resolve.ts";
import type { DetectionCount, PollGap } from "../ports/state-store.ts";
import { formatLocal } from "./zoned-time.ts";

/** What the counters hold for one report's period. */
export interface DetectionData {
  counts: readonly DetectionCount[];
  gaps: readonly PollGap[];
  /** The oldest cursor among the customer's poll targets of this service; absent when never polled. */
  polledUntil?: string;
  /** Why polling failed in this cycle, if it did. */
  errors: readonly string[];
}

export interface ReportTable {
  domains: string[];
  /** Per selected category: the count per domain (same order) and the total. */
  rows: { category: string; perDomain: number[]; total: number }[];
  total: number;
  /** Event types or subtypes the vocabulary does not know, with their counts. */
  unknown: { label: string; count: number }[];
  /** Events of an unknown type, per event kind (`other:threat`), with their counts. */
  other: { category: string; count: number }[];
}

export const PRODUCT_NAMES = {
  hostedEmailSecurity: () => "Hosted Email Security",
  emailSecurity: (edition?: string) => `Trend Micro Email Security ${edition === "advanced" ? "Advanced" : "Standard"}`,
} as const;

/** Pure: the counts of the selected categories, per domain, with totals. */
export function reportTable(c: EffectiveCustomer, r: EffectiveReport, counts: readonly DetectionCount[]): ReportTable {
  const domains = [...c.emailDomains];
  const sum = (pred: (x: DetectionCount) => boolean) => counts.filter(pred).reduce((n, x) => n + x.count, 0);
  const rows = (r.detections ?? []).map((category) => {
    const perDomain = domains.map((d) => sum((x) => x.domain === d && x.category === category));
    return { category, perDomain, total: perDomain.reduce((a, b) => a + b, 0) };
  });
  const group = (prefix: string) => {
    const m = new Map<string, number>();
    for (const x of counts) if (x.category.startsWith(prefix)) m.set(x.category, (m.get(x.category) ?? 0) + x.count);
    return [...m].sort(([a], [b]) => a.localeCompare(b));
  };
  return {
    domains, rows, total: rows.reduce((n, x) => n + x.total, 0),
    unknown: group("unknown:").map(([k, count]) => ({ label: k.slice("unknown:".length), count })),
    other: group("other:").map(([category, count]) => ({ category, count })),
  };
}

/** Why the period's data is incomplete, or undefined: gaps in polling that overlap it. */
export function incompleteNote(gaps: readonly PollGap[], start: Date, end: Date, tz: string): string | undefined {
  const inside = gaps.filter((g) => Date.parse(g.start) < end.getTime() && Date.parse(g.end) > start.getTime());
  if (inside.length === 0) return undefined;
  const from = new Date(Math.max(start.getTime(), Math.min(...inside.map((g) => Date.parse(g.start)))));
  const to = new Date(Math.min(end.getTime(), Math.max(...inside.map((g) => Date.parse(g.end)))));
  return `Data incomplete: no events could be read from ${formatLocal(from, tz)} to ${formatLocal(to, tz)} (no poll read them before the service's 72-hour retention passed: polling was stopped or failing).`;
}

/** The ticket text: customer, product, the period in the customer's zone, the table, the total and any note. */
export function reportDescription(
  c: EffectiveCustomer, r: EffectiveReport, periodKey: string, start: Date, end: Date, table: ReportTable, note?: string, partial?: boolean,
): string {
  const product = r.report === "emailSecurity" ? PRODUCT_NAMES.emailSecurity(r.edition) : PRODUCT_NAMES.hostedEmailSecurity();
  const width = Math.max(8, ...table.rows.map((x) => x.category.length), ...table.other.map((x) => x.category.length));
  const cols = [...table.domains, "total"];
  const line = (name: string, values: number[]) => `${name.padEnd(width)}  ${values.map((v, i) => String(v).padStart(Math.max(5, cols[i].length))).join("  ")}`;
  return [
    `${product} detections for ${c.displayName}`,
    `Period ${periodKey}${partial ? " (so far)" : ""}: ${formatLocal(start, c.timezone)} to ${formatLocal(end, c.timezone)} (${c.timezone})`,
    "",
    `${"category".padEnd(width)}  ${cols.map((d) => d.padStart(Math.max(5, d.length))).join("  ")}`,
    ...table.rows.map((x) => line(x.category, [...x.perDomain, x.total])),
    line("total", [...table.domains.map((_, i) => table.rows.reduce((n, x) => n + x.perDomain[i], 0)), table.total]),
    ...(table.other.length ? ["", ...table.other.map((o) => `Events of a type cwsync does not know (${o.category.slice("other:".length)}): ${o.count}`)] : []),
    ...(table.unknown.length ? ["", `Event types or subtypes cwsync does not know (counted under their event type): ${table.unknown.map((u) => `${u.label} (${u.count})`).join(", ")}`] : []),
    ...(note ? ["", note] : []),
    "",
    "Sent by cwsync.",
  ].join("\n");
}
