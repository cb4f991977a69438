/** Wall-clock fields of an instant in a time zone; `weekday` is ISO (1 = Monday … 7 = Sunday). */
export interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  weekday: number;
}

/** A wall-clock time in some zone; `second` defaults to 0. */
export interface LocalTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second?: number;
}

/** The instant a wall-clock time maps to, and whether DST made it ambiguous or impossible. */
export interface ZonedInstant {
  instant: Date;
  adjusted?: "gap" | "overlap";
}

const DAY_MS = 86_400_000;

// Creating an Intl.DateTimeFormat costs far more than using one, so keep one per zone.
const partsFormatters = new Map<string, Intl.DateTimeFormat>();
const nameFormatters = new Map<string, Intl.DateTimeFormat>();
const validZones = new Map<string, boolean>();

function partsFormatter(tz: string): Intl.DateTimeFormat {
  let f = partsFormatters.get(tz);
  if (f === undefined) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: tz,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    partsFormatters.set(tz, f);
  }
  return f;
}

/** True when `tz` is an IANA zone name Intl knows (e.g. `Europe/Rome`, `UTC`). */
export function isValidTimeZone(tz: string): boolean {
  let ok = validZones.get(tz);
  if (ok === undefined) {
    try {
      new Intl.DateTimeFormat("en-US", { timeZone: tz });
      ok = tz.trim() !== "";
    } catch {
      ok = false;
    }
    validZones.set(tz, ok);
  }
  return ok;
}

/** ISO weekday (1 = Monday … 7 = Sunday) of a calendar date. */
export function isoWeekday(year: number, month: number, day: number): number {
  const sundayZero = new Date(Date.UTC(year, month - 1, day)).getUTCDay();
  return sundayZero === 0 ? 7 : sundayZero;
}

/** The wall-clock fields of `instant` in `tz`. */
// formatToParts costs microseconds; a reconcile of thousands of customers asks for the same
// instants (shared due days, zones) over and over. Bounded: cleared when it grows past the limit.
const partsCache = new Map<string, LocalParts>();
const PARTS_CACHE_LIMIT = 200_000;

export function localParts(instant: Date, tz: string): LocalParts {
  const key = `${tz}\u0000${Math.floor(instant.getTime() / 1000)}`;
  const hit = partsCache.get(key);
  if (hit) return { ...hit };
  const fields = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0 };
  for (const part of partsFormatter(tz).formatToParts(instant)) {
    if (part.type in fields) fields[part.type as keyof typeof fields] = Number(part.value);
  }
  const parts = { ...fields, weekday: isoWeekday(fields.year, fields.month, fields.day) };
  if (partsCache.size >= PARTS_CACHE_LIMIT) partsCache.clear();
  partsCache.set(key, parts);
  return { ...parts };
}

function wallMs(t: LocalTime): number {
  return Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second ?? 0);
}

/** UTC offset of `tz` at `ms`, in milliseconds (wall clock minus UTC). */
export function offsetAt(ms: number, tz: string): number {
  const whole = Math.floor(ms / 1000) * 1000;
  return wallMs(localParts(new Date(whole), tz)) - whole;
}

/** First whole second after `lo` whose offset differs from `lo`'s; `hi` must differ. */
function transitionBetween(lo: number, hi: number, tz: string): number {
  lo = Math.floor(lo / 1000) * 1000;
  hi = Math.ceil(hi / 1000) * 1000;
  const loOffset = offsetAt(lo, tz);
  while (hi - lo > 1000) {
    const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
    if (offsetAt(mid, tz) === loOffset) lo = mid;
    else hi = mid;
  }
  return hi;
}

/**
 * The instant of a wall-clock time in `tz`. A time skipped by a DST change (a gap) maps to
 * the transition instant, the next one that exists; a time that occurs twice (an overlap)
 * maps to the earlier instant, so a schedule fires once.
 */
export function zonedToUtc(local: LocalTime, tz: string): ZonedInstant {
  const wall = wallMs(local);
  // The true instant lies within ±14 h of `wall`; the offsets a day either side cover both
  // sides of any single transition near it.
  const before = offsetAt(wall - DAY_MS, tz);
  const after = offsetAt(wall + DAY_MS, tz);
  const valid = [...new Set([wall - before, wall - after])].filter((c) => c + offsetAt(c, tz) === wall);
  if (valid.length === 2) return { instant: new Date(Math.min(...valid)), adjusted: "overlap" };
  if (valid.length === 1) return { instant: new Date(valid[0]) };
  // Gap: the wall time falls between the clock before and after the jump; find the jump.
  const at = transitionBetween(wall - Math.max(before, after), wall - Math.min(before, after), tz);
  return { instant: new Date(at), adjusted: "gap" };
}

/** A spring-forward jump: at `at` the clocks skip the wall times [`skippedFrom`, `skippedTo`). */
export interface DstGap {
  at: Date;
  skippedFrom: LocalTime;
  skippedTo: LocalTime;
}

function toLocalTime(wall: number): LocalTime {
  const d = new Date(wall);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
  };
}

function gapAt(at: number, tz: string): DstGap {
  return {
    at: new Date(at),
    skippedFrom: toLocalTime(at + offsetAt(at - 1000, tz)),
    skippedTo: toLocalTime(at + offsetAt(at, tz)),
  };
}

const SCAN_STEP_MS = 7 * DAY_MS;

/**
 * The DST gaps whose transition lies in (`after`, `until`]. Samples the offset weekly, so two
 * transitions less than a week apart (no current zone has them) would go unnoticed.
 */
export function dstGapsBetween(after: Date, until: Date, tz: string): DstGap[] {
  const gaps: DstGap[] = [];
  const end = until.getTime();
  let lo = after.getTime();
  let loOffset = offsetAt(lo, tz);
  while (lo < end) {
    const hi = Math.min(lo + SCAN_STEP_MS, end);
    const hiOffset = offsetAt(hi, tz);
    if (hiOffset > loOffset) gaps.push(gapAt(transitionBetween(lo, hi, tz), tz));
    lo = hi;
    loOffset = hiOffset;
  }
  return gaps;
}

/** Days in `month` (1-12) of `year`. */
export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** ISO 8601 week of a calendar date: the week-year may differ from `year` near New Year. */
export function isoWeek(year: number, month: number, day: number): { isoYear: number; week: number } {
  // The ISO week belongs to the year that holds its Thursday.
  const thursday = new Date(Date.UTC(year, month - 1, day + 4 - isoWeekday(year, month, day)));
  const isoYear = thursday.getUTCFullYear();
  const dayOfYear = (thursday.getTime() - Date.UTC(isoYear, 0, 1)) / DAY_MS;
  return { isoYear, week: Math.floor(dayOfYear / 7) + 1 };
}

const pad = (n: number, width = 2): string => String(n).padStart(width, "0");

function zoneName(instant: Date, tz: string, locale: string): string {
  const key = `${locale}|${tz}`;
  let f = nameFormatters.get(key);
  if (f === undefined) {
    f = new Intl.DateTimeFormat(locale, { timeZone: tz, timeZoneName: "short" });
    nameFormatters.set(key, f);
  }
  return f.formatToParts(instant).find((p) => p.type === "timeZoneName")?.value ?? "";
}

const GMT_OFFSET = /^GMT([+-])(\d{1,2})(?::(\d{2}))?$/;

/** The zone's abbreviation at `instant` (`CEST`, `EDT`, `UTC`), else its offset (`UTC+05:30`). */
export function zoneAbbreviation(instant: Date, tz: string): string {
  // en-US knows the American abbreviations (EDT), en-GB the European ones (CEST, BST).
  let name = zoneName(instant, tz, "en-US");
  if (GMT_OFFSET.test(name)) name = zoneName(instant, tz, "en-GB");
  const m = GMT_OFFSET.exec(name);
  return m ? `UTC${m[1]}${pad(Number(m[2]))}:${m[3] ?? "00"}` : name;
}

/** `2027-03-28` */
export function formatDate(t: { year: number; month: number; day: number }): string {
  return `${t.year}-${pad(t.month)}-${pad(t.day)}`;
}

/** `HH:MM` of a wall-clock time. */
export function formatClock(t: { hour: number; minute: number }): string {
  return `${pad(t.hour)}:${pad(t.minute)}`;
}

/** `2027-03-28 03:00 CEST`: local date and time plus the zone's abbreviation or offset. */
export function formatLocal(instant: Date, tz: string): string {
  const p = localParts(instant, tz);
  return `${formatDate(p)} ${formatClock(p)} ${zoneAbbreviation(instant, tz)}`;
}

/** A human note when DST moved or de-duplicated a wall-clock time; undefined otherwise. */
export function describeDstAdjustment(local: LocalTime, zoned: ZonedInstant, tz: string): string | undefined {
  if (zoned.adjusted === undefined) return undefined;
  const sentAt = `${formatClock(localParts(zoned.instant, tz))} ${zoneAbbreviation(zoned.instant, tz)}`;
  if (zoned.adjusted === "overlap") {
    return `${formatClock(local)} occurs twice on ${formatDate(local)} (DST ends), sent once, at the first (${sentAt})`;
  }
  const gap = gapAt(zoned.instant.getTime(), tz);
  return (
    `${formatClock(local)} does not exist on ${formatDate(local)} ` +
    `(DST skips ${formatClock(gap.skippedFrom)}–${formatClock(gap.skippedTo)}), sent at ${sentAt}`
  );
}
