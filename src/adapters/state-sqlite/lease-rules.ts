import { readFileSync } from "node:fs";
import { uptime } from "node:os";

export interface LeaseRow {
  holder: string | null;
  token: number;
  acquired_at: string | null;
  expires_at: string | null;
}

/** What this host can tell of a process; `undefined` where it cannot tell (no /proc). */
export interface HostProbe {
  /** false only when the pid is proven gone: no such process, or a zombie waiting to be reaped. */
  pidRuns(pid: number): boolean;
  /** When this machine booted, epoch ms. */
  bootedAt(): number | undefined;
}

/**
 * Why `holder` may take the lease now, or undefined when it may not. `free`, `own` and `expired`
 * are the ordinary cases; the `holder-*` ones take a live lease from a process of this host that no
 * longer runs (a crashed cwsync should not block the next one until its lease expires): it exited,
 * it is a zombie nobody reaped, or it held the lease before this machine booted (its pid now names
 * another process). A pid that cannot be checked counts as running.
 */
export type LeaseTakeover = "free" | "own" | "expired" | "holder-exited" | "holder-zombie" | "holder-before-boot";

export function leaseTakeover(row: LeaseRow, holder: string, nowMs: number, probe: HostProbe = thisHost): LeaseTakeover | undefined {
  if (row.holder === null) return "free";
  if (row.holder === holder) return "own";
  const expiresMs = row.expires_at === null ? Number.NaN : Date.parse(row.expires_at);
  // An unreadable expiry would otherwise hold the lease forever.
  if (Number.isNaN(expiresMs) || expiresMs <= nowMs) return "expired";
  const held = parseHolder(row.holder);
  const mine = parseHolder(holder);
  if (held === undefined || mine === undefined || held.host !== mine.host) return undefined;
  const bootMs = probe.bootedAt();
  const acquiredMs = row.acquired_at === null ? Number.NaN : Date.parse(row.acquired_at);
  // Compared only on this machine's real clock (`now` after the boot): a test's clock set in the past says nothing of boots.
  if (bootMs !== undefined && nowMs >= bootMs && acquiredMs < bootMs) return "holder-before-boot";
  if (!probe.pidRuns(held.pid)) return isZombie(held.pid) ? "holder-zombie" : "holder-exited";
  return undefined;
}

/** Whether `holder` may take the lease now (see leaseTakeover). */
export function mayTakeLease(row: LeaseRow, holder: string, nowMs: number, probe: HostProbe = thisHost): boolean {
  return leaseTakeover(row, holder, nowMs, probe) !== undefined;
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
  } catch (e) {
    // EPERM: it runs under another user. Only ESRCH proves it is gone.
    return (e as NodeJS.ErrnoException).code !== "ESRCH";
  }
  // `kill -0` succeeds on a zombie: a SIGKILLed cwsync whose parent does not reap it
  return !isZombie(pid);
}

/** Whether /proc says the pid is a zombie (or dead); false where there is no /proc. */
export function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // `pid (comm) S …`: comm may hold spaces and parentheses, the state follows the last `)`
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state === "Z" || state === "X";
  } catch {
    return false;
  }
}

/**
 * This machine's boot time, epoch ms: /proc/stat's `btime`, or on Linux without it (the unit's
 * ProcSubset=pid hides it) the uptime (CLOCK_BOOTTIME); undefined elsewhere, where the pid alone decides.
 */
export function bootedAt(): number | undefined {
  try {
    const m = /^btime (\d+)$/m.exec(readFileSync("/proc/stat", "utf8"));
    if (m) return Number(m[1]) * 1000;
  } catch {
    // hidden or absent: below
  }
  return process.platform === "linux" ? Date.now() - Math.ceil(uptime()) * 1000 : undefined;
}

const thisHost: HostProbe = { pidRuns: processRuns, bootedAt };
