import { checkCron } from "../core/cron.ts";
import { isValidTimeZone } from "../core/zoned-time.ts";
import type { FileContext } from "./file-context.ts";
import { didYouMean } from "./hints.ts";
import type { PathSegment } from "./locate.ts";

export const asRecord = (v: unknown): Record<string, unknown> | undefined =>
  v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;

let zoneNames: string[] | undefined;

/** Intl accepts `europe/rome`; the name Intl resolves it to, when the two differ only in case. */
const resolvedZones = new Map<string, string>();
function caseFixed(tz: string): string | undefined {
  let resolved = resolvedZones.get(tz);
  if (resolved === undefined) {
    resolved = new Intl.DateTimeFormat("en-US", { timeZone: tz }).resolvedOptions().timeZone;
    resolvedZones.set(tz, resolved);
  }
  return resolved !== tz && resolved.toLowerCase() === tz.toLowerCase() ? resolved : undefined;
}

/** Rules shared by the global block and a custom block: time zone, one schedule per report, cron. */
export function checkNotificationBlock(ctx: FileContext, block: Record<string, unknown>, base: PathSegment[]): void {
  const tz = block.timezone;
  const tzOk = typeof tz === "string" && isValidTimeZone(tz);
  const fixed = tzOk ? caseFixed(tz) : undefined;
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
  for (const report of ["billing", "hostedEmailSecurity", "emailSecurity"] as const) {
    const r = asRecord(block[report]);
    if (!r) continue;
    const path = [...base, report];
    const regular = report === "billing" ? "dayOfMonth" : "every";
    const hasRegular = r[regular] !== undefined;
    const hasCron = r.schedule !== undefined;
    if (hasRegular && hasCron) {
      ctx.report(
        { code: "rule.schedule-conflict", message: `\`${report}\` has both \`${regular}\` and \`schedule\``, hint: `keep one: \`${regular}\` or a cron \`schedule\`` },
        [...path, "schedule"],
        { atKey: true },
      );
    } else if (!hasRegular && !hasCron) {
      ctx.report(
        {
          code: report === "billing" ? "rule.billing-day-required" : "rule.frequency-required",
          message: report === "billing" ? "`billing` needs `dayOfMonth` (1–31) or a cron `schedule`" : `\`${report}\` needs \`every\` (day, week or month) or a cron \`schedule\``,
          hint: report === "billing" ? "add `dayOfMonth: 1`" : "add `every: week`",
        },
        path,
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
        [...path, "seatsFrom"],
      );
    }
    if (typeof r.schedule === "string" && (tzOk || tz === undefined)) {
      const problem = checkCron(r.schedule, tzOk ? (tz as string) : "UTC");
      if (problem) ctx.report({ code: problem.code, message: problem.message, hint: problem.hint, offset: problem.offset }, [...path, "schedule"]);
    }
  }
}
