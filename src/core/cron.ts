import { createRequire } from "node:module";
import type { CronExpression } from "cron-parser";
import { InternalError } from "../errors.ts";
import { isPlainSchedule } from "./cron-plain.ts";
import {
  describeDstAdjustment,
  dstGapsBetween,
  isValidTimeZone,
  localParts,
  zonedToUtc,
} from "./zoned-time.ts";
import type { DstGap, LocalTime } from "./zoned-time.ts";

/** Why a custom `schedule:` cannot be used. `offset` is the 0-based start of the offending field. */
export interface CronProblem {
  code: "rule.cron-invalid" | "rule.cron-never-fires" | "rule.cron-too-frequent";
  message: string;
  hint: string;
  offset?: number;
}

const MACROS: Record<string, string> = {
  "@yearly": "0 0 0 1 1 *",
  "@annually": "0 0 0 1 1 *",
  "@monthly": "0 0 0 1 * *",
  "@weekly": "0 0 0 * * 0",
  "@daily": "0 0 0 * * *",
  "@hourly": "0 0 * * * *",
  "@weekdays": "0 0 0 * * 1-5",
  "@weekends": "0 0 0 * * 0,6",
  "@minutely": "0 * * * * *",
  "@secondly": "* * * * * *",
};

const FIELDS = [
  { name: "second", allowed: "0-59" },
  { name: "minute", allowed: "0-59" },
  { name: "hour", allowed: "0-23" },
  { name: "day-of-month", allowed: "1-31 or L" },
  { name: "month", allowed: "1-12 or jan-dec" },
  { name: "day-of-week", allowed: "0-7 or sun-sat (0 and 7 are Sunday), L and #" },
] as const;

const EXAMPLE = "`0 8 * * 1-5` (08:00 Monday to Friday)";
const SHAPE = "minute hour day-of-month month day-of-week, optionally preceded by seconds";
const NEVER_FIRES_YEARS = 5;
// checkCron takes no clock; a fixed start keeps validation deterministic.
const PROBE_FROM = new Date(Date.UTC(2025, 0, 1));

export interface Field {
  text: string;
  offset?: number;
}

type Split = { fields: Field[] } | { problem: CronProblem };

function invalid(message: string, hint: string, offset?: number): CronProblem {
  return { code: "rule.cron-invalid", message, hint, ...(offset === undefined ? {} : { offset }) };
}

/** The six fields (seconds first) of an expression, with where each one starts. */
function splitFields(expression: string): Split {
  const tokens = [...expression.matchAll(/\S+/g)].map((m) => ({ text: m[0], offset: m.index }));
  const first = tokens[0];
  if (tokens.length === 1 && first.text.startsWith("@")) {
    const expanded = MACROS[first.text];
    if (expanded === undefined) {
      return {
        problem: invalid(
          `unknown macro "${first.text}"`,
          `use @yearly, @monthly, @weekly, @daily, @hourly, @weekdays or @weekends, or five fields (${SHAPE}), e.g. ${EXAMPLE}`,
          first.offset,
        ),
      };
    }
    return { fields: expanded.split(" ").map((text) => ({ text, offset: first.offset })) };
  }
  if (tokens.length !== 5 && tokens.length !== 6) {
    return {
      problem: invalid(
        `expected 5 fields (${SHAPE}) or 6, found ${tokens.length}`,
        `write e.g. ${EXAMPLE}`,
        tokens.length > 6 ? tokens[6].offset : undefined,
      ),
    };
  }
  return { fields: tokens.length === 5 ? [{ text: "0" }, ...tokens] : tokens };
}

let cronParser: typeof import("cron-parser") | undefined;

/**
 * cron-parser (and luxon under it: ~25 ms to load, ~20 ms more of locale set-up at its first date),
 * loaded on first use: a `validate` whose schedules are all plain (see `isPlainSchedule`) never
 * needs it. Loaded synchronously (the checks are synchronous) through its CommonJS build.
 */
function parser(): typeof import("cron-parser") {
  return (cronParser ??= createRequire(import.meta.url)("cron-parser") as typeof import("cron-parser"));
}

function parse(fields: readonly Field[], tz: string, options: { from?: Date; to?: Date } = {}): CronExpression {
  return parser().CronExpressionParser.parse(fields.map((f) => f.text).join(" "), {
    tz,
    currentDate: options.from ?? PROBE_FROM,
    ...(options.to ? { endDate: options.to } : {}),
  });
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** cron-parser's "Constraint error, got value 61 expected range 0-59" → "got value 61, expected range 0-59". */
function readable(message: string): string {
  return message
    .replace(/^(Constraint|Validation) error,\s*/i, "")
    .replace(/ expected range/, ", expected range")
    .replace(/^Invalid characters, got value: (.*)$/, 'invalid characters in "$1"');
}

/** Which single field cron-parser rejects, found by parsing it among wildcards. */
function rejectedField(fields: readonly Field[]): number | undefined {
  for (let i = 0; i < fields.length; i++) {
    const probe = ["0", "*", "*", "*", "*", "*"].map((text, j) => ({ text: j === i ? fields[i].text : text }));
    try {
      parse(probe, "UTC");
    } catch {
      return i;
    }
  }
  return undefined;
}

function fieldLabel(i: number, fields: readonly Field[]): string {
  return `${FIELDS[i].name} field "${fields[i].text}"`;
}

function dayFieldsLabel(fields: readonly Field[]): string {
  return `day-of-month "${fields[3].text}", month "${fields[4].text}" and day-of-week "${fields[5].text}"`;
}

function tooFrequent(expr: CronExpression, fields: readonly Field[]): CronProblem | undefined {
  const seconds = expr.fields.second.values.length;
  if (seconds > 1) {
    return {
      code: "rule.cron-too-frequent",
      message: `fires up to ${seconds} times a minute (${fieldLabel(0, fields)}); a schedule may fire at most hourly`,
      hint: `use a single second or drop the seconds field, e.g. ${EXAMPLE}`,
      ...(fields[0].offset === undefined ? {} : { offset: fields[0].offset }),
    };
  }
  const minutes = expr.fields.minute.values.length;
  if (minutes > 1) {
    return {
      code: "rule.cron-too-frequent",
      message: `fires up to ${minutes} times an hour (${fieldLabel(1, fields)}); a schedule may fire at most hourly`,
      hint: `use a single minute, e.g. ${EXAMPLE}`,
      ...(fields[1].offset === undefined ? {} : { offset: fields[1].offset }),
    };
  }
  return undefined;
}

/**
 * cron-parser already rejects a day-of-month no listed month has (February 30), and every
 * other day form occurs in every month or, for February 29, every few years. Only a fifth
 * weekday (`1#5`) can be missing from every listed month for years, so only it is iterated.
 */
function mayNeverFire(expr: CronExpression): boolean {
  return expr.fields.dayOfWeek.nthDay >= 5;
}

/**
 * Checks a custom cron `schedule:` (5 fields, or 6 with leading seconds, or a macro such as
 * `@daily`) for use in `timezone`. Returns undefined when it is usable, else the first problem.
 * Cheap: parses once, and iterates only for a fifth weekday (`1#5`), the one shape that parses yet may never match.
 */
const checked = new Map<string, CronProblem | undefined>();

/** Memoized: thousands of files share a handful of expressions, and parsing one costs ~100 µs. */
export function checkCron(expression: string, timezone: string): CronProblem | undefined {
  const key = `${timezone}\u0000${expression}`;
  if (checked.has(key)) return checked.get(key);
  const problem = checkCronUncached(expression, timezone);
  if (checked.size < 10_000) checked.set(key, problem);
  return problem;
}

function checkCronUncached(expression: string, timezone: string): CronProblem | undefined {
  const split = splitFields(expression);
  if ("problem" in split) return split.problem;
  if (isPlainSchedule(split.fields)) return undefined;
  return checkFields(split.fields, timezone);
}

/** `checkCron` on split fields, asking cron-parser (exported for cron-plain.test.ts: the verdict `isPlainSchedule` stands for). */
export function checkFields(fields: readonly Field[], timezone: string): CronProblem | undefined {
  // `H` picks a value from a random seed, so the send time would change on every restart.
  for (let i = 0; i < fields.length; i++) {
    const withoutNames = i >= 4 ? fields[i].text.replace(/[a-z]{3}/gi, "") : fields[i].text;
    if (withoutNames.includes("H")) {
      return invalid(
        `${fieldLabel(i, fields)}: "H" (hashed) values are not supported, they pick a random time`,
        `write the exact value, e.g. ${EXAMPLE}`,
        fields[i].offset,
      );
    }
  }
  let expr: CronExpression;
  try {
    expr = parse(fields, "UTC");
  } catch (err) {
    const message = errorMessage(err);
    if (/explicit day of month/i.test(message)) {
      return {
        code: "rule.cron-never-fires",
        message: `never fires: day-of-month "${fields[3].text}" does not exist in month "${fields[4].text}"`,
        hint: "use a day every listed month has (1-28), or `L` for the last day of the month",
        ...(fields[3].offset === undefined ? {} : { offset: fields[3].offset }),
      };
    }
    const i = rejectedField(fields);
    if (i === undefined) return invalid(`invalid cron expression: ${readable(message)}`, `write e.g. ${EXAMPLE}`);
    return invalid(
      `${fieldLabel(i, fields)} is invalid: ${readable(message)}`,
      `the ${FIELDS[i].name} field takes ${FIELDS[i].allowed}, lists (1,15), ranges (1-5) and steps (*/2); e.g. ${EXAMPLE}`,
      fields[i].offset,
    );
  }
  const frequent = tooFrequent(expr, fields);
  if (frequent) return frequent;
  if (mayNeverFire(expr)) {
    const to = new Date(Date.UTC(PROBE_FROM.getUTCFullYear() + NEVER_FIRES_YEARS, 0, 1));
    const tz = isValidTimeZone(timezone) ? timezone : "UTC";
    try {
      parse(fields, tz, { to }).next();
    } catch {
      // cron-parser throws "Out of the time span range" or "loop limit exceeded".
      return {
        code: "rule.cron-never-fires",
        message: `never fires: no date matches ${dayFieldsLabel(fields)} within ${NEVER_FIRES_YEARS} years`,
        hint: "a fifth weekday exists in few months; use `L` for the last one, e.g. `0 8 * * 1L` (the last Monday)",
        ...(fields[5].offset === undefined ? {} : { offset: fields[5].offset }),
      };
    }
  }
  return undefined;
}

/** One fire of a cron schedule, after the DST rules; `previous` is the fire before it. */
export interface CronFire {
  instant: Date;
  previous?: Date;
  note?: string;
}

const RAW_FIRES_BEFORE = 3;

function wallAsUtc(p: LocalTime): Date {
  return new Date(Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second ?? 0));
}

/**
 * Fires of `expression` in `tz` at or after `from`, oldest first, under DESIGN §5's DST rules:
 * a wall time the clocks skip fires once at the transition, a wall time that occurs twice
 * fires once, at its first occurrence. cron-parser alone fires a skipped 02:30 at 03:30 and
 * an hourly schedule twice in a repeated hour, so its raw fires are corrected here.
 */
export function* cronFires(expression: string, tz: string, from: Date): Generator<CronFire> {
  const split = splitFields(expression);
  if ("problem" in split) {
    throw new InternalError(`cron "${expression}": ${split.problem.message}; validation should have rejected it`);
  }
  const raw = parse(split.fields, tz, { from });
  // The same fields evaluated in UTC match wall-clock times, including ones DST skips.
  const wall = parse(split.fields, "UTC");
  // Start a few raw fires back so the first fire at or after `from` knows its predecessor.
  let start = from.getTime() - 1;
  for (let i = 0; i < RAW_FIRES_BEFORE; i++) {
    try {
      start = raw.prev().getTime() - 1;
    } catch {
      break;
    }
  }
  raw.reset(new Date(start));
  let previous: Date | undefined;
  const accept = function* (fire: CronFire): Generator<CronFire> {
    if (previous !== undefined && fire.instant.getTime() <= previous.getTime()) return;
    if (fire.instant.getTime() >= from.getTime()) yield { ...fire, ...(previous ? { previous } : {}) };
    previous = fire.instant;
  };
  let lastRaw = new Date(start);
  for (;;) {
    let t: Date;
    try {
      t = raw.next().toDate();
    } catch {
      return;
    }
    // cron-parser fires a skipped time late (03:30 for 02:30) or, for half-hour jumps, not at
    // all; so look for jumps since the last raw fire and fire at each one the fields match.
    for (const gap of dstGapsBetween(lastRaw, t, tz)) {
      const intended = firstSkippedMatch(wall, gap);
      if (intended === undefined) continue;
      const note = describeDstAdjustment(intended, { instant: gap.at, adjusted: "gap" }, tz);
      yield* accept({ instant: gap.at, ...(note ? { note } : {}) });
    }
    lastRaw = t;
    const p = localParts(t, tz);
    // A late stand-in for a skipped time does not match the fields on the wall clock.
    if (!wall.includesDate(wallAsUtc(p))) continue;
    const first = zonedToUtc(p, tz);
    if (first.instant.getTime() < t.getTime()) continue; // second occurrence of a repeated time
    const note = describeDstAdjustment(p, first, tz);
    yield* accept({ instant: t, ...(note ? { note } : {}) });
  }
}

/** The first wall time skipped by `gap` that the expression matches, if any. */
function firstSkippedMatch(wall: CronExpression, gap: DstGap): LocalTime | undefined {
  wall.reset(new Date(wallAsUtc(gap.skippedFrom).getTime() - 1));
  let next: Date;
  try {
    next = wall.next().toDate();
  } catch {
    return undefined;
  }
  if (next.getTime() >= wallAsUtc(gap.skippedTo).getTime()) return undefined;
  return {
    year: next.getUTCFullYear(),
    month: next.getUTCMonth() + 1,
    day: next.getUTCDate(),
    hour: next.getUTCHours(),
    minute: next.getUTCMinutes(),
    second: next.getUTCSeconds(),
  };
}
