import { checkCustomerName, sendNowOnce } from "../../app/send-now.ts";
import { UsageError } from "../../errors.ts";
import type { Deps } from "../../app/deps.ts";
import type { ReportName } from "../../ports/state-store.ts";
import { askTheDaemon } from "../daemon-lease.ts";
import { daemonTarget } from "../daemon-url.ts";
import { renderSendNow } from "../render-send-now.ts";

export interface SendNowOptions {
  customer: string;
  report?: ReportName;
  repo: string;
  at?: Date;
  sandbox: boolean;
  format?: "text" | "json";
  /** `--accept-new-state`: start a new history where the state vanished. */
  acceptNewState?: boolean;
  /** `--url`: ask the running daemon (also `CWSYNC_URL`). */
  url?: string;
  /** `--idempotency-key` (with --url). */
  idempotencyKey?: string;
  /** The flags given on the command line: those a daemon cannot honour are refused with --url. */
  given?: readonly string[];
}

/**
 * `cwsync send-now`: the seed's "Send now (save first)". Sends from the applied revision, never
 * from local edits, as its own ledger entry, through the same lease as the reconciler; with
 * `--url`, the running daemon sends under its lease instead.
 */
export async function sendNowCommand(opts: SendNowOptions, io: Deps): Promise<number> {
  checkCustomerName(opts.customer);
  const daemon = daemonTarget("send-now", opts.url, opts.given ?? [], io.settings.daemonUrl);
  if (daemon && opts.acceptNewState) throw new UsageError(`--accept-new-state cannot be sent to the daemon (${daemon.via}): it opened its state when it started; stop it and run cwsync run --accept-new-state, or leave --url out`);
  if (daemon) return (await import("./send-now-via-daemon.ts")).sendNowViaDaemon({ ...opts, format: opts.format ?? "text" }, daemon, io);
  const now = opts.at ?? new Date(io.clock.now());
  const result = await sendNowOnce({ ...opts, now, heldError: askTheDaemon }, io);
  io.stdout(renderSendNow({ customer: opts.customer, ok: result.ok, at: now.toISOString(), revision: result.revision, sends: result.sends }, opts.format ?? "text"));
  return result.ok ? 0 : 1;
}
