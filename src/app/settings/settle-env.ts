import { UsageError } from "../../errors.ts";

/**
 * `CWSYNC_SETTLE_SECONDS`: how long after a ConnectWise write whose outcome was unknown (a
 * timeout, a reset, a 5xx) cwsync waits before looking for what it made and, if it finds nothing,
 * making it again — ConnectWise may still commit a request its client gave up on. Default 120.
 */
export function settleMsFromEnv(env: Readonly<Record<string, string | undefined>>): number | undefined {
  const text = env.CWSYNC_SETTLE_SECONDS?.trim();
  if (!text) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0 || n > 86_400) throw new UsageError(`CWSYNC_SETTLE_SECONDS: \`${text}\` is not a number of seconds from 0 to 86400 (default 120)`);
  return n * 1000;
}
