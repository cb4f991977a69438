import type { LicenseRow } from "../../ports/license-source.ts";

/** Why a 200 body is not the documented `{summary: [...]}`, or the rows it carries. */
export type ParsedSummary = { rows: LicenseRow[] } | { problem: string };

function optionalString(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

// counts arrive as JSON numbers in the documented sample; a numeric string is read the same rather than failing a billing run
function count(v: unknown): number | undefined {
  const n = typeof v === "string" && /^\s*\d+\s*$/.test(v) ? Number(v) : v;
  return typeof n === "number" && Number.isInteger(n) && n >= 0 ? n : undefined;
}

/**
 * Reads the Customer Summary report. A row without a customer, a product or whole-number counts
 * fails the whole report: billing from a partly readable report would silently skip customers.
 */
export function parseSummary(body: unknown): ParsedSummary {
  const summary = body && typeof body === "object" && !Array.isArray(body) ? (body as { summary?: unknown }).summary : undefined;
  if (!Array.isArray(summary)) return { problem: "the response has no `summary` array" };
  const rows: LicenseRow[] = [];
  for (const [i, raw] of summary.entries()) {
    if (!raw || typeof raw !== "object") return { problem: `summary[${i}] is not an object` };
    const r = raw as Record<string, unknown>;
    const customerName = optionalString(r.customer);
    const productName = optionalString(r.product_name);
    const provisioned = count(r.provisioned);
    const used = count(r.used);
    if (!customerName) return { problem: `summary[${i}] has no \`customer\`` };
    if (!productName) return { problem: `summary[${i}] (${customerName}) has no \`product_name\`` };
    if (provisioned === undefined || used === undefined) {
      return { problem: `summary[${i}] (${customerName}, ${productName}) has no whole-number \`provisioned\`/\`used\`` };
    }
    const row: LicenseRow = { customerName, productName, provisioned, used };
    const extra: [keyof LicenseRow, unknown][] = [
      ["servicePlan", r.service_plan], ["unit", r.unit], ["city", r.city], ["state", r.state],
      ["ownedByVendor", r.owned_by_vendor], ["createdByVendor", r.created_by_vendor],
    ];
    for (const [k, v] of extra) if (typeof v === "string") (row as unknown as Record<string, string>)[k] = v;
    rows.push(row);
  }
  return { rows };
}
