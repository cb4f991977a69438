import { checkCron } from "../core/cron.ts";
import { isValidTimeZone } from "../core/zoned-time.ts";
import type { FileContext } from "./file-context.ts";
import { didYouMean } from "./hints.ts";
import type { PathSegment } from "./locate.ts";

export const asRecord = (v: unknown): Record<string, unknown> | undefined =>
  v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;

let zoneNames: string[] | undefined;

/** Intl accepts `europe/rome`; the name Intl resolves it to, when the two differ only in case. */
function caseFixed(tz: string): string | undefined {
  const resolved = new Intl.DateTimeFormat("en-US", { timeZone: tz }).resolvedOptions().timeZone;
  return resolved !== tz && resolved.toLowerCase() === tz.toLowerCase() ? resolved : undefined;
}

interface ZoneVerdict {
  ok: boolean;
  /** The spelling Intl resolves a valid zone to, when the given one differs only in case. */
  fixed?: string;
}

/** Zones repeat across files: each is judged once (a bounded cache). */
const zoneVerdicts = new Map<string, ZoneVerdict>();
let listedZones: Set<string> | undefined;

/**
 * Whether `tz` is a time zone, and its spelling. A name Intl lists (`Europe/Rome`) is valid and
 * spelled as Intl spells it, without a DateTimeFormat (the first one costs tens of milliseconds of
 * locale data, a cold `validate`'s largest single cost); other names (aliases, other cases) are
 * asked of DateTimeFormat. notification-rules.test.ts checks that both agree on every listed zone
 * and on `UTC`.
 */
export function zoneVerdict(tz: string): ZoneVerdict {
  let verdict = zoneVerdicts.get(tz);
  if (verdict === undefined) {
    // `UTC` is not listed (Intl lists IANA's canonical zones) but is the most common value of all
    listedZones ??= new Set([...Intl.supportedValuesOf("timeZone"), "UTC"]);
    if (listedZones.has(tz)) verdict = { ok: true };
    else {
      const ok = isValidTimeZone(tz);
      verdict = { ok, fixed: ok ? caseFixed(tz) : undefined };
    }
    if (zoneVerdicts.size < 1024) zoneVerdicts.set(tz, verdict);
  }
  return verdict;
}

const REPORTS = ["billing", "hostedEmailSecurity", "emailSecurity"] as const;

/** Rules shared by the global block and a custom block: time zone, one schedule per report, cron. */
export function checkNotificationBlock(ctx: FileContext, block: Record<string, unknown>, base: PathSegment[]): void {
  const tz = block.timezone;
  const zone = typeof tz === "string" ? zoneVerdict(tz) : undefined;
  const tzOk = zone?.ok === true;
  const fixed = zone?.fixed;
  if (fixed) {
    ctx.report({ code: "rule.timezone", message: `\`${tz}\` is not spelled as in the IANA database`, hint: `write it as \`${fixed}\`` }, [...base, "timezone"]);
  }
  if (typeof tz === "string" && !tzOk) {
    zoneNames ??= Intl.supportedValuesOf("timeZone");
    ctx.report(
      {
        code: "rule.timezone",
        message: `\`${tz}\` is not an IANA time zone`,
        hint: didYouMean(tz, zoneNames) ?? "use a name like `Europe/Rome`, `America/New_York` or `UTC`",
      },
      [...base, "timezone"],
    );
  }
  for (const report of REPORTS) {
    const r = asRecord(block[report]);
    if (!r) continue;
    const regular = report === "billing" ? "dayOfMonth" : "every";
    const hasRegular = r[regular] !== undefined;
    const hasCron = r.schedule !== undefined;
    if (hasRegular && hasCron) {
      ctx.report(
        { code: "rule.schedule-conflict", message: `\`${report}\` has both \`${regular}\` and \`schedule\``, hint: `keep one: \`${regular}\` or a cron \`schedule\`` },
        [...base, report, "schedule"],
        { atKey: true },
      );
    } else if (!hasRegular && !hasCron) {
      ctx.report(
        {
          code: report === "billing" ? "rule.billing-day-required" : "rule.frequency-required",
          message: report === "billing" ? "`billing` needs `dayOfMonth` (1–31) or a cron `schedule`" : `\`${report}\` needs \`every\` (day, week or month) or a cron \`schedule\``,
          hint: report === "billing" ? "add `dayOfMonth: 1`" : "add `every: week`",
        },
        [...base, report],
      );
    }
    // DESIGN §10: on days 1–3 the month's LMP report has barely begun. Said when `current-month` is
    // written out: the default bills as it always has, and a warning on every day-1 file would be noise.
    if (report === "billing" && r.seatsFrom === "current-month" && typeof r.dayOfMonth === "number" && r.dayOfMonth >= 1 && r.dayOfMonth <= 3) {
      ctx.report(
        {
          code: "rule.seats-month-early",
          severity: "warning",
          message: `billing on day ${r.dayOfMonth} reads the seats of the month just begun (\`seatsFrom: current-month\`): that month's LMP report has barely begun`,
          hint: "bill last month's seats with `seatsFrom: previous-month`, or move `dayOfMonth` to the 4th or later",
        },
        [...base, report, "seatsFrom"],
      );
    }
    if (typeof r.schedule === "string" && (tzOk || tz === undefined)) {
      const problem = checkCron(r.schedule, tzOk ? (tz as string) : "UTC");
      if (problem) ctx.report({ code: problem.code, message: problem.message, hint: problem.hint, offset: problem.offset }, [...base, report, "schedule"]);
    }
  }
}
