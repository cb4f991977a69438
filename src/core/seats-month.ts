import type { EffectiveCustomer, EffectiveReport } from "../config/resolve.ts";
import { localParts } from "./zoned-time.ts";

/** The month (`YYYY-MM`) holding `instant` in the zone `tz`. */
export const monthOf = (instant: Date, tz: string): string => {
  const p = localParts(instant, tz);
  return `${p.year}-${String(p.month).padStart(2, "0")}`;
};

/** The month before `YYYY-MM`. */
export function previousMonth(month: string): string {
  const [y, m] = month.split("-").map(Number);
  return m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, "0")}`;
}

/**
 * The LMP summary report month a billing send due at `due` reads its seats from: the month of the
 * billing day in the customer's zone (DESIGN §8), or the month before it with
 * `billing.seatsFrom: previous-month` (§10). Observe (what to fetch) and plan (what to bill) both ask here.
 */
export function seatsMonthOf(c: Pick<EffectiveCustomer, "timezone">, report: Pick<EffectiveReport, "seatsFrom">, due: Date): string {
  const month = monthOf(due, c.timezone);
  return report.seatsFrom === "previous-month" ? previousMonth(month) : month;
}

/** How the ticket and the plan name it: "2026-11 (previous month)". */
export function seatsMonthLabel(month: string, report: Pick<EffectiveReport, "seatsFrom">): string {
  return `${month} (${report.seatsFrom === "previous-month" ? "previous month" : "current month"})`;
}
