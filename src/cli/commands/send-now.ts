import { existsSync, readFileSync } from "node:fs";
import { settleMsFromEnv } from "../settle-env.ts";
import { join, resolve } from "node:path";
import { systemClock } from "../../adapters/clock-system.ts";
import { readConfigFiles } from "../../adapters/config-files.ts";
import { readFilesAt } from "../../adapters/git-source.ts";
import { openStateStore } from "../../adapters/state-sqlite/open-state-store.ts";
import { reconcileCycle, type CycleDeps } from "../../apply/reconcile-cycle.ts";
import { stateMeta } from "../../ports/state-meta.ts";
import type { CustomerFile } from "../../config/model.ts";
import { resolveCustomer } from "../../config/resolve.ts";
import { withLease } from "../../apply/with-lease.ts";
import type { SendResult } from "../../daemon/api-types.ts";
import { loadConfig, type LoadResult, type SourceFile } from "../../config/load.ts";
import type { Desired } from "../../core/desired.ts";
import { textHash } from "../../core/desired.ts";
import { SERVICE_OF } from "../../core/poll-targets.ts";
import { ExitError, UsageError } from "../../errors.ts";
import type { CustomerRecord, ReportName, StateStore } from "../../ports/state-store.ts";
import { askTheDaemon } from "../daemon-lease.ts";
import { daemonTarget } from "../daemon-url.ts";
import type { CommandIO } from "../io.ts";
import { renderSendNow } from "../render-send-now.ts";
import { openSources } from "../sources-session.ts";
import { openState, stateDirOf } from "../state-session.ts";
import { targetOf } from "../target.ts";

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

async function appliedFiles(repo: string, stateDir: string, rev: string): Promise<{ files: SourceFile[]; globalPath: string }> {
  if (rev.startsWith("worktree-")) {
    const g = readConfigFiles(["customers"], repo).groups[0];
    if (!g) throw new UsageError(`no customers/ folder in ${repo}`);
    return { files: g.files, globalPath: g.globalPath };
  }
  // the working copy usually has the commit; a daemon reconciling a URL keeps it in its clone
  for (const dir of [repo, join(stateDir, "repo")]) {
    try {
      return await readFilesAt(dir, rev);
    } catch {
      // try the next place
    }
  }
  throw new ExitError(1, `the applied revision ${rev} is neither in ${repo} nor in ${join(stateDir, "repo")}; fetch it, or run cwsync reconcile`);
}

const ALL_REPORTS: readonly ReportName[] = ["billing", "hostedEmailSecurity", "emailSecurity"];

/** The reports a customer has in its applied config, as the store knows it (every kind when it is unknown yet: the send refuses later). */
export function reportsOf(store: StateStore, customer: string): ReportName[] {
  const record = store.customer(customer);
  const global = stateMeta(store).lastGlobal()?.config;
  if (!record?.config || !global) return [...ALL_REPORTS];
  return resolveCustomer(record.config as CustomerFile, global).reports.map((r) => r.report);
}

function configuredReports(io: CommandIO, customer: string): ReportName[] {
  if (!existsSync(stateDirOf(io))) return [...ALL_REPORTS];
  const store = openStateStore(stateDirOf(io));
  try {
    return reportsOf(store, customer);
  } finally {
    store.close();
  }
}

/** A customer's applied record and the applied revision, or why nothing can be sent (exit 1). */
export function appliedRecord(store: StateStore, customer: string, stateDir: string): { record: CustomerRecord; revision: string } {
  const record = store.customer(customer);
  const revision = stateMeta(store).appliedRevision();
  if (!record || record.removedAt || !record.config || !revision) {
    throw new ExitError(1, `${customer} has no applied config in ${stateDir}${record?.removedAt ? " (its file was removed)" : ""}: commit customers/${customer}.yaml and run cwsync reconcile first`);
  }
  return { record, revision };
}

export function checkCustomerName(customer: string): void {
  if (!/^[a-z0-9-]{1,63}$/.test(customer)) throw new UsageError(`\`${customer}\` is not a customer name ([a-z0-9-], 1–63 characters)`);
}

export interface SendNowRequestInput {
  customer: string;
  /** The report asked for, if one was (for the message when it is not configured). */
  report?: ReportName;
  reports: readonly ReportName[];
  now: Date;
  /** The applied revision and its files: a send goes out from what was applied, never from local edits. */
  revision: string;
  load?: LoadResult;
  /** The revision's desired state, when the caller has it (the daemon): `load` is then not needed. */
  desired?: Desired;
}

/**
 * The send itself, under the lease the caller holds (`deps.token`): one send-now cycle for the
 * customer, as its own ledger entries. Says what happened to each report; `ok` is false when
 * any was not sent. Throws ExitError(1) when the customer has none of the reports configured.
 */
export async function runSendNow(req: SendNowRequestInput, deps: CycleDeps): Promise<{ ok: boolean; sends: SendResult[] }> {
  const report = await reconcileCycle(
    { revision: req.revision, load: req.load, ...(req.desired ? { desired: req.desired } : {}), now: req.now, allowMassRemoval: true, dryRun: false, sendNow: { customer: req.customer, reports: req.reports, at: req.now } },
    deps,
  );
  const forced = report.plan.actions.filter((a) => a.customer === req.customer && a.due === req.now.toISOString());
  if (forced.length === 0) {
    throw new ExitError(1, `${req.customer} has no ${req.report ?? "report"} configured in the applied revision; nothing was sent`);
  }
  const sends = forced.map((a): SendResult => {
    const o = report.outcomes.find((x) => x.key === a.key);
    if (a.kind === "wait") return { report: a.report, periodKey: a.periodKey, result: "not-sent", reason: a.reason, message: a.message };
    if (o?.result === "done") return { report: a.report, periodKey: a.periodKey, result: "sent", ...(o.ticketId ? { ticketId: o.ticketId } : {}), key: a.key };
    return { report: a.report, periodKey: a.periodKey, result: o?.result ?? "not-attempted", key: a.key, ...(o?.message ? { message: o.message } : {}) };
  });
  return { ok: sends.every((s) => s.result === "sent"), sends };
}

/**
 * `cwsync send-now`: the seed's "Send now (save first)". Sends from the applied revision, never
 * from local edits, as its own ledger entry, through the same lease as the reconciler; with
 * `--url`, the running daemon sends under its lease instead.
 */
export async function sendNowCommand(opts: SendNowOptions, io: CommandIO): Promise<number> {
  checkCustomerName(opts.customer);
  const daemon = daemonTarget("send-now", opts.url, opts.given ?? [], io.env);
  if (daemon) return (await import("./send-now-via-daemon.ts")).sendNowViaDaemon({ ...opts, format: opts.format ?? "text" }, daemon, io);
  const repo = resolve(io.cwd, opts.repo);
  const now = opts.at ?? new Date(systemClock.now());
  const wanted: ReportName[] = opts.report ? [opts.report] : configuredReports(io, opts.customer);
  const services = wanted.flatMap((r) => (r === "billing" ? [] : [SERVICE_OF[r]]));
  const sources = await openSources({ sandbox: opts.sandbox, repo, license: wanted.includes("billing"), detections: services.length > 0, services, now: () => now.getTime() }, io);
  try {
    const state = openState(io, targetOf(opts.sandbox, io.env));
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
        throw new ExitError(1, `${file} ${what} (${record.appliedRevision?.slice(0, 12) ?? "?"}) — save first: commit and push it and let cwsync reconcile it, or discard the local edit; nothing was sent`);
      }
      const { files, globalPath } = await appliedFiles(repo, state.dir, rev);
      const load = loadConfig(files, globalPath);
      const result = await withLease(state.store, systemClock, { stateDir: state.dir, heldError: askTheDaemon(state.store, state.dir) }, (token, signal) => {
        state.checkTarget(token);
        return runSendNow(
          { customer: opts.customer, report: opts.report, reports: wanted, now, revision: rev, load },
          { cw: sources.cw, license: sources.license!, store: state.store, clock: systemClock, token, signal, settleMs: settleMsFromEnv(io.env), detections: { tmes: sources.tmes, hes: sources.hes } },
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
