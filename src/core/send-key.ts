import { createHash } from "node:crypto";
import type { ReportKind } from "../config/model.ts";
import type { ScheduleSpec } from "./schedule.ts";

/** Ticket summaries hold at most 100 characters in ConnectWise. */
export const SUMMARY_LIMIT = 100;

/**
 * The key of one send (customer, report, period): `cws-` and 10 lowercase hex digits. Only
 * `[a-z0-9-]`, because ConnectWise treats `contains` as SQL LIKE (`[` opens a character class), and
 * short enough to leave the summary room for the title, the period and the customer (DESIGN §8).
 */
export function sendKey(customer: string, report: ReportKind, periodKey: string): string {
  return "cws-" + createHash("sha256").update(`${customer}\u0000${report}\u0000${periodKey}`).digest("hex").slice(0, 10);
}

const EVERY: Record<"day" | "week" | "month", string> = { day: "daily", week: "weekly", month: "monthly" };
const NAMES: Record<ReportKind, string> = { billing: "Billing", hostedEmailSecurity: "Hosted Email Security", emailSecurity: "Email Security" };

export function reportTitle(report: ReportKind, spec: ScheduleSpec): string {
  return spec.kind === "every" ? `${NAMES[report]} ${EVERY[spec.every]}` : NAMES[report];
}

/**
 * `Email Security weekly 2027-W03 Acme Corporation cws-3f9a1c02be`: the customer's name is
 * shortened (with `…`) so that the whole summary fits 100 characters; title, period and key never are.
 */
export function ticketSummary(title: string, periodKey: string, customerName: string, key: string): string {
  const fixed = `${title} ${periodKey}  ${key}`.length;
  const room = SUMMARY_LIMIT - fixed;
  const name = customerName.replace(/\s+/g, " ").trim();
  const shown = name.length <= room ? name : room > 1 ? name.slice(0, room - 1).trimEnd() + "…" : "";
  return [title, periodKey, shown, key].filter(Boolean).join(" ");
}
