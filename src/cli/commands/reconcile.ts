import { reconcileOnce } from "../../app/reconcile.ts";
import { UsageError } from "../../errors.ts";
import type { ConnectWiseTuning } from "../../app/sources-session.ts";
import type { Deps } from "../../app/deps.ts";
import { askTheDaemon } from "../daemon-lease.ts";
import { daemonTarget } from "../daemon-url.ts";
import { cycleExitCode, renderCycleText, writeCycleJson } from "../render-reconcile.ts";

export interface ReconcileOptions {
  repo: string;
  branch?: string;
  at?: Date;
  dryRun: boolean;
  allowMassRemoval: boolean;
  format: "text" | "json";
  sandbox: boolean;
  strict: boolean;
  /** `--accept-new-state`: start a new history where the state vanished. */
  acceptNewState?: boolean;
  /** For benchmarks against the sandbox: ConnectWise limiter settings. */
  connectwise?: ConnectWiseTuning;
  /** `--url`: ask the running daemon (also `CWSYNC_URL`). */
  url?: string;
  /** The flags given on the command line: those a daemon cannot honour are refused with --url. */
  given?: readonly string[];
}


/** `cwsync reconcile`: one cycle — load the committed revision, observe, plan, apply (or print the plan with --dry-run). */
export async function reconcileCommand(opts: ReconcileOptions, io: Deps): Promise<number> {
  const daemon = daemonTarget("reconcile", opts.url, opts.given ?? [], io.settings.daemonUrl);
  if (daemon && opts.acceptNewState) throw new UsageError(`--accept-new-state cannot be sent to the daemon (${daemon.via}): it opened its state when it started; stop it and run cwsync run --accept-new-state, or leave --url out`);
  if (daemon) return (await import("./reconcile-via-daemon.ts")).reconcileViaDaemon(opts, daemon, io);
  const report = await reconcileOnce({
    ...opts, heldError: askTheDaemon,
    notice: (fields, message) => io.stderr(`cwsync: ${message} ${JSON.stringify(fields)}\n`),
  }, io);
  // the JSON a piece at a time, each once stdout took the last: at 5,000 customers the whole text
  // at once (or queued for a pipe) is ~100 MiB of peak memory
  if (opts.format === "json") await writeCycleJson(report, io.stdout, io.stdoutDrained);
  else io.stdout(renderCycleText(report));
  return cycleExitCode(report, opts.strict);
}
