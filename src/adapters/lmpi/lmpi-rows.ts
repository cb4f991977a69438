import { MAX_SEATS, type LicenseRow } from "../../ports/license-source.ts";

/** Why a 200 body is not the documented `{summary: [...]}`, or the rows it carries. */
export type ParsedSummary = { rows: LicenseRow[] } | { problem: string };

function optionalString(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

/** A count as read: a number of seats, absent (`null` or no field), or why it cannot be billed. */
type Count = { seats: number } | { absent: true } | { invalid: string };

const shown = (v: unknown) => (typeof v === "string" ? JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v) : String(v));

// counts arrive as JSON numbers in the documented sample; a numeric string is read the same rather than failing a billing run
function count(v: unknown): Count {
  if (v === null || v === undefined) return { absent: true };
  const n = typeof v === "string" && /^\s*\d+\s*$/.test(v) ? Number(v) : v;
  if (typeof n !== "number") return { invalid: `${shown(v)}, not a number` };
  // 1e308 is an integer to JavaScript: the bound, not Number.isInteger, keeps it from becoming a quantity
  if (!Number.isFinite(n) || !Number.isInteger(n) || n < 0 || n > MAX_SEATS) {
    return { invalid: `${shown(v)}, not a whole number of seats from 0 to ${MAX_SEATS.toLocaleString("en-US")}` };
  }
  return { seats: n };
}

/**
 * Reads one `summary[]` row. Uneven rows are normal (DESIGN §4): a row without `used` is kept
 * without it, and a row whose counts cannot be read is kept, marked `invalid`, so that it fails
 * only the customer and product it belongs to, never another customer's billing.
 */
function readRow(raw: unknown, i: number): LicenseRow {
  const r = raw && typeof raw === "object" && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
  const customerName = optionalString(r.customer) ?? "";
  const productName = optionalString(r.product_name) ?? "";
  const row: LicenseRow = { customerName, productName, provisioned: 0 };
  const extra: [keyof LicenseRow, unknown][] = [
    ["servicePlan", r.service_plan], ["unit", r.unit], ["city", r.city], ["state", r.state],
    ["ownedByVendor", r.owned_by_vendor], ["createdByVendor", r.created_by_vendor],
  ];
  for (const [k, v] of extra) if (typeof v === "string") (row as unknown as Record<string, string>)[k] = v;
  if (r !== raw) return { ...row, invalid: `summary[${i}] is not an object` };
  if (!customerName || !productName) return { ...row, invalid: `summary[${i}] has no \`customer\` or \`product_name\`` };
  const provisioned = count(r.provisioned);
  const used = count(r.used);
  if ("invalid" in provisioned) return { ...row, invalid: `\`provisioned\` is ${provisioned.invalid}` };
  if ("absent" in provisioned) return { ...row, invalid: "it has no `provisioned` count" };
  if ("invalid" in used) return { ...row, invalid: `\`used\` is ${used.invalid}` };
  return { ...row, provisioned: provisioned.seats, ...("seats" in used ? { used: used.seats } : {}) };
}

/**
 * Reads the Customer Summary report. Only a body that is not the report shape fails it as a whole
 * (`problem`); an empty `summary` is returned as no rows, for the caller to tell from a month with none.
 */
export function parseSummary(body: unknown): ParsedSummary {
  const summary = body && typeof body === "object" && !Array.isArray(body) ? (body as { summary?: unknown }).summary : undefined;
  if (!Array.isArray(summary)) {
    return { problem: body && typeof body === "object" ? "the JSON has no `summary` array" : "the body is not a JSON object" };
  }
  return { rows: summary.map(readRow) };
}

/**
 * Reads a 2xx answer strictly: anything but a JSON body holding the report (an HTML page from a
 * proxy, a body cut off in transit, another content type) is a `problem`, never an empty report.
 */
export function parseReport(contentType: string, text: string): ParsedSummary {
  if (!/\bjson\b/i.test(contentType)) {
    const html = /^\s*</.test(text) ? " (an HTML page: a proxy or sign-in page in front of LMPI?)" : "";
    return { problem: `the answer is ${contentType ? `\`${contentType}\`` : "without a content type"}, not the JSON report${html}` };
  }
  if (text.trim() === "") return { problem: "the body is empty" };
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { problem: `the body is not valid JSON (${Buffer.byteLength(text)} bytes; cut off in transit?)` };
  }
  return parseSummary(body);
}
