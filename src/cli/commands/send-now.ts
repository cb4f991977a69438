import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { withLease } from "../../apply/with-lease.ts";
import { ALL_REPORTS, appliedFiles, appliedRecord, checkCustomerName, reportsOf, runSendNow } from "../../app/send-now.ts";
import { loadConfig } from "../../config/load.ts";
import { textHash } from "../../core/desired.ts";
import { SERVICE_OF } from "../../core/poll-targets.ts";
import { OperationError } from "../../errors.ts";
import type { ReportName } from "../../ports/state-store.ts";
import { askTheDaemon } from "../daemon-lease.ts";
import { daemonTarget } from "../daemon-url.ts";
import type { Deps } from "../../app/deps.ts";
import { renderSendNow } from "../render-send-now.ts";
import { targetOf } from "../../app/target.ts";

export interface SendNowOptions {
  customer: string;
  report?: ReportName;
  repo: string;
  at?: Date;
  sandbox: boolean;
  format?: "text" | "json";
  /** `--url`: ask the running daemon (also `CWSYNC_URL`). */
  url?: string;
  /** `--idempotency-key` (with --url). */
  idempotencyKey?: string;
  /** The flags given on the command line: those a daemon cannot honour are refused with --url. */
  given?: readonly string[];
}

function configuredReports(io: Deps, customer: string): ReportName[] {
  if (!existsSync(io.settings.stateDir)) return [...ALL_REPORTS];
  const { store } = io.openState();
  try {
    return reportsOf(store, customer);
  } finally {
    store.close();
  }
}

/**
 * `cwsync send-now`: the seed's "Send now (save first)". Sends from the applied revision, never
 * from local edits, as its own ledger entry, through the same lease as the reconciler; with
 * `--url`, the running daemon sends under its lease instead.
 */
export async function sendNowCommand(opts: SendNowOptions, io: Deps): Promise<number> {
  checkCustomerName(opts.customer);
  const daemon = daemonTarget("send-now", opts.url, opts.given ?? [], io.settings.daemonUrl);
  if (daemon) return (await import("./send-now-via-daemon.ts")).sendNowViaDaemon({ ...opts, format: opts.format ?? "text" }, daemon, io);
  const repo = resolve(io.cwd, opts.repo);
  const now = opts.at ?? new Date(io.clock.now());
  const wanted: ReportName[] = opts.report ? [opts.report] : configuredReports(io, opts.customer);
  const services = wanted.flatMap((r) => (r === "billing" ? [] : [SERVICE_OF[r]]));
  const sources = await io.openSources({ sandbox: opts.sandbox, repo, license: wanted.includes("billing"), detections: services.length > 0, services, now: () => now.getTime() });
  try {
    const state = io.openState(targetOf(opts.sandbox, io.settings.env));
    try {
      const { record, revision: rev } = appliedRecord(state.store, opts.customer, state.dir);
      const file = join("customers", `${opts.customer}.yaml`);
      let text: string | undefined;
      try {
        text = readFileSync(join(repo, file), "utf8");
      } catch {
        text = undefined;
      }
      if (text === undefined || textHash(text) !== record.configHash) {
        const what = text === undefined ? "is missing from the working copy" : "has changes that are not in the applied revision";
        throw new OperationError(`${file} ${what} (${record.appliedRevision?.slice(0, 12) ?? "?"}) — save first: commit and push it and let cwsync reconcile it, or discard the local edit; nothing was sent`);
      }
      const { files, globalPath } = await appliedFiles(repo, state.dir, rev, io);
      const load = loadConfig(files, globalPath);
      const result = await withLease(state.store, io.clock, { stateDir: state.dir, heldError: askTheDaemon(state.store, state.dir) }, (token, signal) => {
        state.checkTarget(token);
        return runSendNow(
          { customer: opts.customer, report: opts.report, reports: wanted, now, revision: rev, load },
          { cw: sources.cw, license: sources.license!, store: state.store, clock: io.clock, token, signal, settleMs: io.settings.settleMs, detections: { tmes: sources.tmes, hes: sources.hes } },
        );
      });
      io.stdout(renderSendNow({ customer: opts.customer, ok: result.ok, at: now.toISOString(), revision: rev, sends: result.sends }, opts.format ?? "text"));
      return result.ok ? 0 : 1;
    } finally {
      state.store.close();
    }
  } finally {
    await sources.close();
  }
}
