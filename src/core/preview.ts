import type { EffectiveCustomer, EffectiveReport } from "../config/resolve.ts";
import { nextSends, type ReportSchedule, type Send } from "./schedule.ts";
import { localParts, zonedToUtc } from "./zoned-time.ts";

export interface PreviewSend extends Send {
  /** Why this send will not go out, when it will not (suspended, integration disabled). */
  skipped?: string;
}

export interface ReportPreview {
  report: EffectiveReport["report"];
  schedule: string;
  sends: PreviewSend[];
}

export interface CustomerPreview {
  customer: EffectiveCustomer;
  reports: ReportPreview[];
}

export const REPORT_TITLES: Record<EffectiveReport["report"], string> = {
  billing: "Billing",
  hostedEmailSecurity: "Hosted Email Security",
  emailSecurity: "Email Security",
};

/** How a schedule reads to a person: "day 31 of every month at 07:00 Europe/Rome". */
export function describeSchedule(r: EffectiveReport, c: Pick<EffectiveCustomer, "at" | "timezone">): string {
  // the default (the billing day's month) goes unsaid, as it always has
  const seats = r.seatsFrom === "previous-month" ? ", seats from the previous month's LMP report" : "";
  return describeWhen(r, c) + seats;
}

function describeWhen(r: EffectiveReport, c: Pick<EffectiveCustomer, "at" | "timezone">): string {
  const spec = r.spec;
  if (spec.kind === "cron") return `cron \`${spec.expression}\` (${c.timezone})`;
  if (spec.kind === "monthly-day") return `day ${spec.dayOfMonth} of every month at ${c.at} ${c.timezone}`;
  const when = { day: "every day", week: "every Monday (last ISO week)", month: "on the 1st (last month)" }[spec.every];
  return `${when} at ${c.at} ${c.timezone}`;
}

export function scheduleOf(r: EffectiveReport, c: Pick<EffectiveCustomer, "at" | "timezone">): ReportSchedule {
  return { report: r.report, timezone: c.timezone, at: c.at, spec: r.spec };
}

/** The end of the `until` day in the customer's zone: suspended through that whole day (DESIGN §6). */
export function suspendedUntil(c: EffectiveCustomer): Date | undefined {
  const until = c.suspend?.until;
  if (!until) return undefined;
  const [year, month, day] = until.split("-").map(Number);
  const next = new Date(Date.UTC(year, month - 1, day + 1));
  return zonedToUtc({ year: next.getUTCFullYear(), month: next.getUTCMonth() + 1, day: next.getUTCDate(), hour: 0, minute: 0 }, c.timezone).instant;
}

function skipReason(c: EffectiveCustomer, due: Date): string | undefined {
  if (!c.enabled) return "integration disabled";
  if (!c.suspend) return undefined;
  const end = suspendedUntil(c);
  if (end === undefined) return "suspended";
  return due < end ? `suspended until ${c.suspend.until}` : undefined;
}

/** Pure: each report's next `count` sends from `now`, marked when they would be skipped. */
export function previewCustomer(c: EffectiveCustomer, now: Date, count = 3): CustomerPreview {
  return {
    customer: c,
    reports: c.reports.map((r) => ({
      report: r.report,
      schedule: describeSchedule(r, c),
      sends: nextSends(scheduleOf(r, c), now, count).map((s) => {
        const skipped = skipReason(c, s.due);
        return skipped ? { ...s, skipped } : s;
      }),
    })),
  };
}

export const localDay = (d: Date, tz: string): string => {
  const p = localParts(d, tz);
  return `${p.year}-${String(p.month).padStart(2, "0")}-${String(p.day).padStart(2, "0")}`;
};
