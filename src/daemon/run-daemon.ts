import { hostname } from "node:os";
import { withLease } from "../apply/with-lease.ts";
import type { Deps } from "../app/deps.ts";
import type { ConnectWiseTuning } from "../app/sources-session.ts";
import { targetOf } from "../app/target.ts";
import { OperationError } from "../errors.ts";
import type { Clock } from "../ports/clock.ts";
import { shrinkHeapOnlyWhenAsked } from "./collect-garbage.ts";
import { recordDaemonAddress } from "./daemon-address.ts";
import { DaemonLoop } from "./daemon-loop.ts";
import { GitSync } from "./git-sync.ts";
import { startHttpServer, type DaemonControl } from "./http-server.ts";
import type { Logger } from "./logger.ts";
import type { Metrics } from "./metrics.ts";
import { stateMeta } from "../ports/state-meta.ts";

export interface DaemonOptions {
  /** A folder, a local git repository or a git URL (both cloned into `<stateDir>/repo`). */
  repo: string;
  branch?: string;
  /** Between reconciles (±10 % jitter); also the git sync's backoff base. */
  intervalMs: number;
  /** Between polls of the email-security sources. */
  pollIntervalMs: number;
  listen: { host: string; port: number };
  /** `--metrics-public`: /metrics open without the token beyond loopback. */
  metricsPublic?: boolean;
  allowMassRemoval: boolean;
  /** Start the embedded fakes for the daemon's lifetime. */
  sandbox: boolean;
  requireSigned?: { allowedSignersFile: string };
  /** Act as if the clock read this instant at start; it then advances in real time (demos, tests). */
  at?: Date;
  webhookSecret?: string;
  apiToken?: string;
  connectwise?: Omit<ConnectWiseTuning, "onEvent">;
  /** Every customer is verified in full at least once in this many intervals (default FULL_VERIFY_INTERVALS). */
  fullVerifyIntervals?: number;
  /** See ApplyDeps.settleMs (`CWSYNC_SETTLE_SECONDS`). */
  settleMs?: number;
  /** `--accept-new-state`: start a new history where the state vanished (refused otherwise). */
  acceptNewState?: boolean;
}

export interface DaemonDeps {
  io: Deps;
  log: Logger;
  metrics: Metrics;
  clock: Clock;
  random?: () => number;
  /** Aborted to stop (SIGTERM, SIGINT): no new work, the in-flight cycle aborted, the lease released. */
  stop: AbortSignal;
  /** Called once the HTTP server listens; resolves when whoever took over the terminal is done with it. */
  onListening?: (daemon: { url: string; control: DaemonControl }) => void;
}

/**
 * The daemon's lease: renewed at its steps (at most every 30 s) and by a timer 80 s after the last
 * renewal, so that an idle daemon at the shipped 60 s interval (±10 %) is never woken only to renew
 * it, and two renewals may still fail before it expires. Another cwsync of this host takes the lease
 * of a daemon that no longer runs at once (lease-rules.ts); only one elsewhere waits for the expiry.
 */
export const DAEMON_LEASE_TTL_MS = 240_000;

/**
 * `cwsync run`: holds the single-writer lease for its whole life (a second daemon exits with who
 * holds it), serves HTTP, and reconciles every interval, on a webhook or API request and on a
 * new revision, until `deps.stop` aborts. Resolves to the exit code: 0 after a clean stop, 1 when
 * the lease was lost to another writer.
 */
export async function runDaemon(opts: DaemonOptions, deps: DaemonDeps): Promise<number> {
  const { io, log, clock } = deps;
  shrinkHeapOnlyWhenAsked();
  const state = io.openState(targetOf(opts.sandbox, io.settings.env), { acceptNewState: opts.acceptNewState });
  try {
    const sync = new GitSync({
      source: opts.repo, branch: opts.branch, stateDir: state.dir, cwd: io.cwd, requireSigned: opts.requireSigned, clock, random: deps.random,
      backoff: { baseMs: opts.intervalMs, maxMs: Math.max(opts.intervalMs, 15 * 60_000) }, env: io.settings.env, lastApplied: stateMeta(state.store).appliedRevision(),
    });
    const holder = `${process.pid}@${hostname()}`;
    // a renewal that fails (a full disk) makes the state unavailable; it does not end the daemon
    let renewFailed = (e: unknown) => log.warn({ error: e instanceof Error ? e.message : String(e) }, "renewing the state lease failed; tried again");
    return await withLease(state.store, clock, { stateDir: state.dir, holder, ttlMs: DAEMON_LEASE_TTL_MS, onRenewError: (e) => renewFailed(e) }, async (token, leaseSignal, renewLease) => {
      state.checkTarget(token);
      const loop = new DaemonLoop(opts, { ...deps, store: state.store, stateDir: state.dir, token, leaseSignal, renewLease, sync });
      renewFailed = (e) => loop.renewFailed(e);
      let http: Awaited<ReturnType<typeof startHttpServer>>;
      try {
        // a credential the configuration needs is checked before the port is bound (for a URL, right after the clone)
        await loop.start();
        http = await startHttpServer({ listen: opts.listen, token: opts.apiToken, metricsPublic: opts.metricsPublic, webhookSecret: opts.webhookSecret, control: loop.control, metrics: deps.metrics, log });
      } catch (e) {
        // the sources start() opened (the sandbox's fakes) would keep the process alive
        await loop.close();
        throw e;
      }
      // a CLI that finds the lease held names this address (`--url`)
      recordDaemonAddress(state.store, token, { url: http.url, holder, since: new Date(clock.now()).toISOString() });
      log.info({ url: http.url, repo: sync.source, branch: opts.branch, intervalMs: opts.intervalMs, pollIntervalMs: opts.pollIntervalMs, stateDir: state.dir }, "daemon started");
      try {
        deps.onListening?.({ url: http.url, control: loop.control });
        await loop.run();
      } finally {
        await http.close().catch((e: unknown) => log.warn({ err: e }, "http server did not close cleanly"));
        await loop.close();
      }
      if (leaseSignal.aborted) {
        throw new OperationError(`the state lease in ${state.dir} was taken over by another cwsync; this daemon stopped (run one daemon per state directory)`);
      }
      log.info({}, "daemon stopped");
      return 0;
    });
  } finally {
    state.store.close();
  }
}
