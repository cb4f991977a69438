export interface LeaseRow {
  holder: string | null;
  token: number;
  acquired_at: string | null;
  expires_at: string | null;
}

/**
 * Whether `holder` may take the lease now: it is free, expired, already this holder's, or held
 * by a process of the same host that no longer runs (a crashed cwsync should not block the next
 * one until its lease expires). A pid that cannot be checked counts as running.
 */
export function mayTakeLease(row: LeaseRow, holder: string, nowMs: number, pidRuns: (pid: number) => boolean = processRuns): boolean {
  if (row.holder === null || row.holder === holder) return true;
  const expiresMs = row.expires_at === null ? Number.NaN : Date.parse(row.expires_at);
  // An unreadable expiry would otherwise hold the lease forever.
  if (Number.isNaN(expiresMs) || expiresMs <= nowMs) return true;
  const held = parseHolder(row.holder);
  const mine = parseHolder(holder);
  return held !== undefined && mine !== undefined && held.host === mine.host && !pidRuns(held.pid);
}

/** `pid@host`; undefined when the text is not of that form. */
export function parseHolder(holder: string): { pid: number; host: string } | undefined {
  const at = holder.indexOf("@");
  if (at < 1) return undefined;
  const pidText = holder.slice(0, at);
  const pid = Number(pidText);
  // pid 0 and negative pids would make process.kill signal a whole process group.
  if (!/^\d+$/.test(pidText) || !Number.isSafeInteger(pid) || pid <= 0) return undefined;
  return { pid, host: holder.slice(at + 1) };
}

export function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it runs under another user. Only ESRCH proves it is gone.
    return (e as NodeJS.ErrnoException).code !== "ESRCH";
  }
}
