import { InternalError } from "../errors.ts";
import { cronFires } from "./cron.ts";
import {
  daysInMonth,
  describeDstAdjustment,
  formatDate,
  isoWeek,
  isoWeekday,
  localParts,
  zonedToUtc,
} from "./zoned-time.ts";

export type ScheduleSpec =
  | { kind: "monthly-day"; dayOfMonth: number }
  | { kind: "every"; every: "day" | "week" | "month" }
  | { kind: "cron"; expression: string };

/** When one report of one customer is sent. `at` ("HH:MM", local) is ignored for cron. */
export interface ReportSchedule {
  report: "billing" | "hostedEmailSecurity" | "emailSecurity";
  timezone: string;
  at: string;
  spec: ScheduleSpec;
}

/** One due send: when, for which period, and why its time or day differs from the plain rule. */
export interface Send {
  /** UTC instant the send is due. */
  due: Date;
  /** `YYYY-MM`, `YYYY-MM-DD`, `YYYY-Www`, or for cron the fire instant `YYYY-MM-DDTHH:MMZ`. */
  periodKey: string;
  /** Half-open `[start, end)`; local midnights in the customer's zone, or the cron fires. */
  period: { start: Date; end: Date };
  /** E.g. "day 31 falls back to 30 (April 2027 has 30 days)"; absent when nothing special. */
  note?: string;
}

const DEFAULT_LIMIT = 10_000;

const MONTH_NAMES = [
  "January", "February", "March", "April", "May", "June",
  "July", "August", "September", "October", "November", "December",
];

interface LocalDate {
  year: number;
  month: number;
  day: number;
}

/** A send before time-zone conversion: local due date and period bounds. */
interface Occurrence {
  dueDate: LocalDate;
  periodStart: LocalDate;
  periodEnd: LocalDate;
  periodKey: string;
  note?: string;
}

function addDays(d: LocalDate, days: number): LocalDate {
  const t = new Date(Date.UTC(d.year, d.month - 1, d.day + days));
  return { year: t.getUTCFullYear(), month: t.getUTCMonth() + 1, day: t.getUTCDate() };
}

function addMonths(d: LocalDate, months: number): LocalDate {
  const index = d.year * 12 + (d.month - 1) + months;
  return { year: Math.floor(index / 12), month: (index % 12) + 1, day: 1 };
}

const monthKey = (d: LocalDate): string => formatDate(d).slice(0, 7);

function parseAt(at: string): { hour: number; minute: number } {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(at);
  if (!m) throw new InternalError(`schedule time "${at}" is not HH:MM; validation should have rejected it`);
  return { hour: Number(m[1]), minute: Number(m[2]) };
}

/** Occurrences in due order, starting at or a little before the local date `near`. */
function* occurrences(spec: Exclude<ScheduleSpec, { kind: "cron" }>, near: LocalDate): Generator<Occurrence> {
  if (spec.kind === "monthly-day") {
    const wanted = spec.dayOfMonth;
    if (!Number.isInteger(wanted) || wanted < 1 || wanted > 31) {
      throw new InternalError(`dayOfMonth ${wanted} is not 1-31; validation should have rejected it`);
    }
    for (let month = addMonths(near, -1); ; month = addMonths(month, 1)) {
      const days = daysInMonth(month.year, month.month);
      const day = Math.min(wanted, days);
      yield {
        dueDate: { ...month, day },
        periodStart: month,
        periodEnd: addMonths(month, 1),
        periodKey: monthKey(month),
        ...(day < wanted
          ? { note: `day ${wanted} falls back to ${day} (${MONTH_NAMES[month.month - 1]} ${month.year} has ${days} days)` }
          : {}),
      };
    }
  }
  if (spec.every === "day") {
    for (let day = addDays(near, -1); ; day = addDays(day, 1)) {
      const yesterday = addDays(day, -1);
      yield { dueDate: day, periodStart: yesterday, periodEnd: day, periodKey: formatDate(yesterday) };
    }
  }
  if (spec.every === "week") {
    const monday = addDays(near, 1 - isoWeekday(near.year, near.month, near.day));
    for (let day = addDays(monday, -7); ; day = addDays(day, 7)) {
      const lastMonday = addDays(day, -7);
      const { isoYear, week } = isoWeek(lastMonday.year, lastMonday.month, lastMonday.day);
      yield {
        dueDate: day,
        periodStart: lastMonday,
        periodEnd: day,
        periodKey: `${isoYear}-W${String(week).padStart(2, "0")}`,
      };
    }
  }
  for (let month = addMonths(near, -1); ; month = addMonths(month, 1)) {
    const lastMonth = addMonths(month, -1);
    yield { dueDate: month, periodStart: lastMonth, periodEnd: month, periodKey: monthKey(lastMonth) };
  }
}

const midnight = (d: LocalDate, tz: string): Date => zonedToUtc({ ...d, hour: 0, minute: 0 }, tz).instant;

/** `2027-01-04T07:00Z` */
function utcMinuteKey(instant: Date): string {
  return `${instant.toISOString().slice(0, 16)}Z`;
}

/** Every send due at or after `from`, oldest first; endless. */
function* sendsFrom(s: ReportSchedule, from: Date): Generator<Send> {
  const tz = s.timezone;
  if (s.spec.kind === "cron") {
    for (const fire of cronFires(s.spec.expression, tz, from)) {
      yield {
        due: fire.instant,
        periodKey: utcMinuteKey(fire.instant),
        // A cron fire always has a predecessor in practice; an empty period is the honest fallback.
        period: { start: fire.previous ?? fire.instant, end: fire.instant },
        ...(fire.note ? { note: fire.note } : {}),
      };
    }
    return;
  }
  const at = parseAt(s.at);
  for (const occ of occurrences(s.spec, localParts(from, tz))) {
    const local = { ...occ.dueDate, ...at };
    const zoned = zonedToUtc(local, tz);
    if (zoned.instant.getTime() < from.getTime()) continue;
    const notes = [occ.note, describeDstAdjustment(local, zoned, tz)].filter((n) => n !== undefined);
    yield {
      due: zoned.instant,
      periodKey: occ.periodKey,
      period: { start: midnight(occ.periodStart, tz), end: midnight(occ.periodEnd, tz) },
      ...(notes.length > 0 ? { note: notes.join("; ") } : {}),
    };
  }
}

/** The first `count` sends due at or after `from`, oldest first. */
export function nextSends(s: ReportSchedule, from: Date, count: number): Send[] {
  const out: Send[] = [];
  if (count <= 0) return out;
  for (const send of sendsFrom(s, from)) {
    out.push(send);
    if (out.length >= count) break;
  }
  return out;
}

/** Every send with `from <= due < to`, oldest first; at most `limit` of them. */
export function sendsBetween(s: ReportSchedule, from: Date, to: Date, limit = DEFAULT_LIMIT): Send[] {
  const out: Send[] = [];
  if (limit <= 0) return out;
  for (const send of sendsFrom(s, from)) {
    if (send.due.getTime() >= to.getTime()) break;
    out.push(send);
    if (out.length >= limit) break;
  }
  return out;
}
