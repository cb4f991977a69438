import { UsageError } from "../../errors.ts";
import { durationMs } from "./duration.ts";

/**
 * `CWSYNC_POLL_LAG`: how late Email Security events may reach the log API. A poll reads up to now
 * but moves its cursor only to now − lag, so the next poll reads that span again (de-duplicated)
 * and counts what arrived late; a report waits until its period's end is that far behind. A
 * duration `90s`, `10m`, `1h`, or `0` (off); default 10 minutes, at most 24 hours.
 */
export function pollLagMsFromEnv(env: Readonly<Record<string, string | undefined>>): number | undefined {
  const text = env.CWSYNC_POLL_LAG?.trim();
  if (!text) return undefined;
  if (text === "0") return 0;
  const ms = durationMs(text, { whole: true });
  if (ms === undefined || ms > 24 * 3_600_000) {
    throw new UsageError(`CWSYNC_POLL_LAG: \`${text}\` is not a duration such as 90s, 10m or 1h (0 turns it off; at most 24h; default 10m)`);
  }
  return ms;
}
