import { randomUUID } from "node:crypto";
import { OperationError } from "../../errors.ts";
import type { ReportName } from "../../ports/state-store.ts";
import { createDaemonApi } from "../daemon-api.ts";
import type { DaemonTarget } from "../daemon-url.ts";
import type { Deps } from "../../app/deps.ts";
import { renderSendNow } from "../render-send-now.ts";

export interface SendNowViaDaemonOptions {
  customer: string;
  report?: ReportName;
  format: "text" | "json";
  /** `--idempotency-key`: a script that retries passes its own; otherwise one per invocation. */
  idempotencyKey?: string;
}

/**
 * `send-now --url`: the running daemon sends, under its lease, from the revision it applied, and
 * answers with each send's result; printed as a local send-now prints it. Exit 1 when one was not sent.
 */
export async function sendNowViaDaemon(opts: SendNowViaDaemonOptions, daemon: DaemonTarget, io: Deps): Promise<number> {
  const api = createDaemonApi(daemon.url, { token: io.settings.apiToken });
  const result = await api.sendNow(opts.customer, opts.report, opts.idempotencyKey ?? randomUUID());
  // refused before any send was planned (no applied config, no such report): the daemon's words
  if (result.sends.length === 0) throw new OperationError(result.message);
  io.stdout(renderSendNow(result, opts.format));
  return result.ok ? 0 : 1;
}
