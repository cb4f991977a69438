import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { loadConfig } from "../../config/load.ts";
import { splitCredentials } from "../../adapters/git-credentials.ts";
import { isLoopback, type DaemonControl } from "../../daemon/http-server.ts";
import { parseListen } from "../listen-flag.ts";
import { createLogger } from "../../daemon/logger.ts";
import { createMetrics } from "../../daemon/metrics.ts";
import { runDaemon } from "../../daemon/run-daemon.ts";
import { UsageError } from "../../errors.ts";
import type { ReportName } from "../../ports/state-store.ts";
import type { Deps } from "../../app/deps.ts";
import { osUser } from "../../app/release.ts";
import { durationMs } from "../../app/settings/duration.ts";
import { NO_NEEDS, sourceNeeds } from "../../app/sources-env.ts";
import { requireCredentials, type ConnectWiseTuning } from "../../app/sources-session.ts";

export interface RunOptions {
  repo: string;
  branch?: string;
  interval: string;
  pollInterval: string;
  listen: string;
  /** `--metrics-public`: /metrics without the token on an address beyond loopback. */
  metricsPublic?: boolean;
  /** false with `--no-tui`. */
  tui: boolean;
  sandbox: boolean;
  allowMassRemoval: boolean;
  requireSigned?: string;
  /** `--accept-new-state`: start a new history where the state vanished. */
  acceptNewState?: boolean;
  at?: Date;
  connectwise?: Omit<ConnectWiseTuning, "onEvent">;
}

/** `30s`, `5m`, `1h`, `1.5h`, `500ms` → milliseconds, or a usage error naming the flag. */
export function parseDuration(flag: string, text: string, minMs = 1000): number {
  const ms = durationMs(text);
  if (ms === undefined) throw new UsageError(`${flag}: \`${text}\` is not a duration; use e.g. 30s, 5m or 1h`);
  if (ms < minMs) throw new UsageError(`${flag}: ${text} is too short; the minimum is ${minMs / 1000}s`);
  return ms;
}

/** The Ink dashboard inside the daemon: reads its snapshot every second; `q` stops the daemon. */
async function showDashboard(control: DaemonControl, stop: AbortController, logFile: string, env: Deps["env"]): Promise<void> {
  const { createStatusStore } = await import("../../ui/status-store.ts");
  const { runDashboard } = await import("../../ui/run-dashboard.tsx");
  const store = createStatusStore(control.snapshot());
  const timer = setInterval(() => store.set(control.snapshot()), 1000);
  try {
    await runDashboard({
      store,
      actions: {
        reconcile: async (customer) => (control.requestReconcile("dashboard", customer) ? `reconcile of ${customer ?? "every customer"} requested` : "the daemon is stopping"),
        sendNow: (customer, report) => sendNowForDashboard(control, customer, report),
        release: (customer) => releaseForDashboard(control, customer, osUser(env)),
        quit: () => undefined,
      },
    });
  } finally {
    clearInterval(timer);
    process.stderr.write(`cwsync: stopping; the log is in ${logFile}\n`);
    stop.abort(new Error("quit from the dashboard"));
  }
}

/**
 * The dashboard's `s` inside the daemon: a send that did not go out rejects with the daemon's
 * per-report lines, so the dashboard shows it as the failure it is (as `cwsync dashboard` does on a 409).
 */
export async function sendNowForDashboard(control: Pick<DaemonControl, "requestSendNow">, customer: string, report?: string): Promise<string> {
  const result = await control.requestSendNow(customer, report as ReportName | undefined);
  if (!result.ok) throw new Error(result.message);
  return result.message;
}

/** The dashboard's `d` inside the daemon: a release that could not be made rejects with the daemon's reason. */
export async function releaseForDashboard(control: Pick<DaemonControl, "requestRelease">, customer: string, by: string): Promise<string> {
  const result = await control.requestRelease({ customer, by });
  if (!result.ok) throw new Error(result.message);
  return result.message;
}

/**
 * The credentials, before the daemon binds its port or clones anything: ConnectWise's always, and
 * for a repository on this machine those its configuration uses, read in place. A URL has to be
 * cloned to know; the daemon checks those right after the clone, still before it listens.
 */
async function checkCredentials(opts: RunOptions, io: Deps): Promise<void> {
  let needs = NO_NEEDS;
  if (existsSync(resolve(io.cwd, opts.repo))) {
    try {
      const revision = await io.readRevision({ repo: opts.repo, branch: opts.branch });
      needs = sourceNeeds(loadConfig(revision.files, revision.globalPath), opts.at ?? new Date(io.clock.now()));
    } catch {
      // a repository that cannot be read is the daemon's to report and retry, as it would later
    }
  }
  requireCredentials(io.settings.env, needs);
}

/**
 * `cwsync run`: the reconciler daemon, until SIGTERM or SIGINT. Logs are JSON lines on stderr;
 * secrets (the environment's and a URL's password) are scrubbed from them.
 */
export async function runCommand(opts: RunOptions, io: Deps): Promise<number> {
  const intervalMs = parseDuration("--interval", opts.interval);
  const pollIntervalMs = parseDuration("--poll-interval", opts.pollInterval);
  const listen = parseListen(opts.listen);
  if (!isLoopback(listen.host) && !io.settings.apiToken) {
    throw new UsageError(
      `--listen ${opts.listen} is beyond loopback and CWSYNC_API_TOKEN is not set: there every route but /healthz needs a bearer token; set CWSYNC_API_TOKEN (add --metrics-public to leave /metrics open) or listen on 127.0.0.1`,
    );
  }
  const signers = opts.requireSigned && resolve(io.cwd, opts.requireSigned);
  if (signers && !existsSync(signers)) throw new UsageError(`--require-signed: ${signers} does not exist; it is an ssh allowed-signers file (see git's gpg.ssh.allowedSignersFile)`);
  if (!opts.sandbox) await checkCredentials(opts, io);
  // the dashboard on a terminal (not with --no-tui, not under CI); the JSON log then goes to a file
  const tui = opts.tui && process.stdout.isTTY === true && process.stdin.isTTY === true && !io.settings.ci;
  const logFile = join(io.settings.stateDir, "cwsync.log");
  const log = createLogger({
    destination: tui ? { file: logFile } : "stderr",
    secrets: [...io.settings.secrets, ...splitCredentials(opts.repo).secrets],
    level: io.settings.logLevel,
  });
  const stop = new AbortController();
  const onListening = tui
    ? (daemon: { control: DaemonControl }) => void showDashboard(daemon.control, stop, logFile, io.env).catch((e: unknown) => {
      log.error({ err: e }, "dashboard failed");
      stop.abort(e);
    })
    : undefined;

  const onSignal = (signal: NodeJS.Signals) => {
    log.info({ signal }, "stopping");
    stop.abort(new Error(`received ${signal}`));
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  try {
    return await runDaemon(
      {
        repo: opts.repo, branch: opts.branch, intervalMs, pollIntervalMs, listen, metricsPublic: opts.metricsPublic === true, allowMassRemoval: opts.allowMassRemoval, sandbox: opts.sandbox,
        ...(signers ? { requireSigned: { allowedSignersFile: signers } } : {}),
        at: opts.at, acceptNewState: opts.acceptNewState, webhookSecret: io.settings.webhookSecret, apiToken: io.settings.apiToken,
        connectwise: opts.connectwise, fullVerifyIntervals: io.settings.fullVerifyIntervals, settleMs: io.settings.settleMs,
      },
      { io, log, metrics: createMetrics(), clock: io.clock, stop: stop.signal, onListening },
    );
  } finally {
    process.off("SIGTERM", onSignal);
    process.off("SIGINT", onSignal);
  }
}
