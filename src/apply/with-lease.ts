import { setMaxListeners } from "node:events";
import { hostname } from "node:os";
import { OperationError, StateError } from "../errors.ts";
import type { Clock } from "../ports/clock.ts";
import type { StateStore } from "../ports/state-store.ts";

export interface LeaseOptions {
  /** Where the state lives, for the message. */
  stateDir: string;
  ttlMs?: number;
  /** How long to wait for another writer to finish; 0 exits at once. */
  waitMs?: number;
  holder?: string;
  /** The error when another writer holds the lease, for a caller that can say more than who it is; undefined keeps the default. */
  heldError?: (held: { holder: string; acquiredAt: string; expiresAt: string }) => OperationError | undefined;
  /**
   * A renewal that failed (the state cannot be written: a full disk, say), for a caller that
   * outlives it (the daemon): the lease stays, renewal goes on, and the caller stops its own work.
   * Undefined: the work under the lease is aborted and `withLease` throws that error.
   */
  onRenewError?: (e: unknown) => void;
}

export const DEFAULT_LEASE_TTL_MS = 30_000;

/**
 * Renewing from the work's own wake-ups (`renew`): at most this often, as a share of the TTL. The
 * timer renews a third of the TTL after the last renewal whatever the work does, so two renewals
 * may fail before the lease expires.
 */
const RENEW_AT_MOST_EVERY = 1 / 8;

/**
 * Runs `fn` holding the single-writer lease: renewed while it runs, released after. The signal
 * aborts when the lease is lost (another writer took over), and every write then fails on its
 * fencing token anyway. A second writer waits up to `waitMs`, then exits with who holds the lease.
 * `renew`, for work that wakes up anyway (the daemon's steps): renews then, when the last renewal is
 * at least an eighth of the TTL old, and so puts the timer's off — a daemon whose steps come more
 * often than a third of the TTL is never woken by the lease.
 */
export async function withLease<T>(store: StateStore, clock: Clock, opts: LeaseOptions, fn: (token: number, signal: AbortSignal, renew: () => void) => Promise<T>): Promise<T> {
  const ttl = opts.ttlMs ?? DEFAULT_LEASE_TTL_MS;
  const holder = opts.holder ?? `${process.pid}@${hostname()}`;
  const deadline = clock.now() + (opts.waitMs ?? 0);
  let got = store.acquireLease(holder, ttl, clock.now());
  while (!got.ok && clock.now() < deadline) {
    await clock.sleep(Math.min(500, Math.max(1, deadline - clock.now())));
    got = store.acquireLease(holder, ttl, clock.now());
  }
  if (!got.ok) {
    throw opts.heldError?.(got) ?? new OperationError(`another cwsync is writing to the state in ${opts.stateDir} (${got.holder}, since ${got.acquiredAt}, lease until ${got.expiresAt}); wait for it to finish, or stop it — its lease expires by itself if it died`);
  }
  const token = got.token;
  const controller = new AbortController();
  // every request of the run listens on this one signal: more than Node's default of 10 at once is expected, not a leak
  setMaxListeners(0, controller.signal);
  let renewFailure: unknown;
  let timer: NodeJS.Timeout | undefined;
  let renewedAt = clock.now();
  let over = false;
  const schedule = () => {
    clearTimeout(timer);
    if (over) return;
    timer = setTimeout(renewNow, Math.max(50, Math.floor(ttl / 3)));
    timer.unref();
  };
  function renewNow(): void {
    // an exception here would be uncaught and end the process (a daemon on a full disk)
    try {
      const now = clock.now();
      if (!store.renewLease(token, ttl, now)) {
        over = true;
        controller.abort(new Error("the state lease was lost"));
        return;
      }
      renewedAt = now;
    } catch (e) {
      if (opts.onRenewError) {
        opts.onRenewError(e);
        return schedule();
      }
      over = true;
      renewFailure = e;
      // nothing further is sent: the in-flight work ends here
      controller.abort(e);
      return;
    }
    schedule();
  }
  const renew = () => {
    if (!over && clock.now() - renewedAt >= ttl * RENEW_AT_MOST_EVERY) renewNow();
  };
  schedule();
  let failed = false;
  try {
    const result = await fn(token, controller.signal, renew);
    if (renewFailure !== undefined) throw renewFailure;
    return result;
  } catch (e) {
    failed = true;
    // the work's own state error names the failing write; otherwise the renewal's is why it stopped
    throw e instanceof StateError || renewFailure === undefined ? e : renewFailure;
  } finally {
    over = true;
    clearTimeout(timer);
    try {
      store.releaseLease(token);
    } catch (e) {
      // the error that ended the work is the one to show; an unreleased lease expires by itself
      if (!failed) throw e;
    }
  }
}
