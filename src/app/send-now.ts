import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { withLease, type LeaseOptions } from "../apply/with-lease.ts";
import { loadConfig } from "../config/load.ts";
import { textHash } from "../core/desired.ts";
import { SERVICE_OF } from "../core/poll-targets.ts";
import { targetOf } from "./target.ts";
import { reconcileCycle, type CycleDeps } from "../apply/reconcile-cycle.ts";
import type { LoadResult, SourceFile } from "../config/load.ts";
import type { Deps } from "./deps.ts";
import type { CustomerFile } from "../config/model.ts";
import { resolveCustomer } from "../config/resolve.ts";
import type { Desired } from "../core/desired.ts";
import { sendKey } from "../core/send-key.ts";
import type { SendResult } from "../daemon/api-types.ts";
import { OperationError, UsageError } from "../errors.ts";
import { stateMeta } from "../ports/state-meta.ts";
import type { CustomerRecord, ReportName, StateStore } from "../ports/state-store.ts";

/** The line `cwsync send-now` prints, and the daemon logs, for one send. */
export function sendLine(s: SendResult): string {
  if (s.result === "not-sent") return `${s.report}: not sent — ${s.message ?? s.reason ?? "unknown reason"}`;
  if (s.result === "sent") return `${s.report} ${s.periodKey}: sent${s.ticketId ? `, ticket #${s.ticketId}` : ""} (key ${s.key})`;
  return `${s.report} ${s.periodKey}: ${s.result === "not-attempted" ? "not attempted" : s.result}${s.message ? ` — ${s.message}` : ""}`;
}

export async function appliedFiles(repo: string, stateDir: string, rev: string, read: Pick<Deps, "readFilesAt" | "readWorkingFiles">): Promise<{ files: SourceFile[]; globalPath: string }> {
  if (rev.startsWith("worktree-")) {
    const g = read.readWorkingFiles(["customers"], repo).groups[0];
    if (!g) throw new UsageError(`no customers/ folder in ${repo}`);
    return { files: g.files, globalPath: g.globalPath };
  }
  // the working copy usually has the commit; a daemon reconciling a URL keeps it in its clone
  for (const dir of [repo, join(stateDir, "repo")]) {
    try {
      return await read.readFilesAt(dir, rev);
    } catch {
      // try the next place
    }
  }
  throw new OperationError(`the applied revision ${rev} is neither in ${repo} nor in ${join(stateDir, "repo")}; fetch it, or run cwsync reconcile`);
}

export const ALL_REPORTS: readonly ReportName[] = ["billing", "hostedEmailSecurity", "emailSecurity"];

/** The reports a customer has in its applied config, as the store knows it (every kind when it is unknown yet: the send refuses later). */
export function reportsOf(store: StateStore, customer: string): ReportName[] {
  const record = store.customer(customer);
  const global = stateMeta(store).lastGlobal()?.config;
  if (!record?.config || !global) return [...ALL_REPORTS];
  return resolveCustomer(record.config as CustomerFile, global).reports.map((r) => r.report);
}

/** A customer's applied record and the applied revision, or why nothing can be sent (exit 1). */
export function appliedRecord(store: StateStore, customer: string, stateDir: string): { record: CustomerRecord; revision: string } {
  const record = store.customer(customer);
  const revision = stateMeta(store).appliedRevision();
  if (!record || record.removedAt || !record.config || !revision) {
    throw new OperationError(`${customer} has no applied config in ${stateDir}${record?.removedAt ? " (its file was removed)" : ""}: commit customers/${customer}.yaml and run cwsync reconcile first`);
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
 * any was not sent. Throws an OperationError when the customer has none of the reports configured.
 */
export async function runSendNow(req: SendNowRequestInput, deps: CycleDeps): Promise<{ ok: boolean; sends: SendResult[] }> {
  const report = await reconcileCycle(
    { revision: req.revision, load: req.load, ...(req.desired ? { desired: req.desired } : {}), now: req.now, allowMassRemoval: true, dryRun: false, sendNow: { customer: req.customer, reports: req.reports, at: req.now } },
    deps,
  );
  // a send-now's entries have keys of their own (the period is `now@<instant>`): found by key, never by time
  const keys = new Set(req.reports.map((r) => sendKey(req.customer, r, `now@${req.now.toISOString()}`)));
  const forced = report.plan.actions.filter((a) => keys.has(a.key));
  if (forced.length === 0) {
    throw new OperationError(`${req.customer} has no ${req.report ?? "report"} configured in the applied revision; nothing was sent`);
  }
  const sends = forced.map((a): SendResult => {
    const o = report.outcomes.find((x) => x.key === a.key);
    if (a.kind === "wait") return { report: a.report, periodKey: a.periodKey, result: "not-sent", reason: a.reason, message: a.message };
    if (o?.result === "done") return { report: a.report, periodKey: a.periodKey, result: "sent", ...(o.ticketId ? { ticketId: o.ticketId } : {}), key: a.key };
    return { report: a.report, periodKey: a.periodKey, result: o?.result ?? "not-attempted", key: a.key, ...(o?.message ? { message: o.message } : {}) };
  });
  return { ok: sends.every((s) => s.result === "sent"), sends };
}


/** The reports a customer has in the applied config the state holds (every kind before the first reconcile). */
function configuredReports(deps: Deps, customer: string, acceptNewState?: boolean): ReportName[] {
  if (!existsSync(deps.settings.stateDir)) return [...ALL_REPORTS];
  const { store } = deps.openState(undefined, { acceptNewState });
  try {
    return reportsOf(store, customer);
  } finally {
    store.close();
  }
}

export interface SendNowOnceOptions {
  customer: string;
  report?: ReportName;
  repo: string;
  /** The instant the send is asked for. */
  now: Date;
  sandbox: boolean;
  /** `--accept-new-state`: start a new history where the state vanished (refused otherwise). */
  acceptNewState?: boolean;
  /** What to say when another cwsync holds the state's lease (the CLI names the daemon to ask). */
  heldError?: (store: StateStore, stateDir: string) => LeaseOptions["heldError"];
}

/**
 * `send-now` outside the daemon: "save first" (the working copy's file must be the applied one),
 * then the send from the applied revision, as its own ledger entries, under the state's lease.
 */
export async function sendNowOnce(opts: SendNowOnceOptions, deps: Deps): Promise<{ ok: boolean; sends: SendResult[]; revision: string }> {
  const repo = resolve(deps.cwd, opts.repo);
  const { now } = opts;
  const wanted: ReportName[] = opts.report ? [opts.report] : configuredReports(deps, opts.customer, opts.acceptNewState);
  const services = wanted.flatMap((r) => (r === "billing" ? [] : [SERVICE_OF[r]]));
  const sources = await deps.openSources({ sandbox: opts.sandbox, repo, license: wanted.includes("billing"), detections: services.length > 0, services, now: () => now.getTime() });
  try {
    const state = deps.openState(targetOf(opts.sandbox, deps.settings.env), { acceptNewState: opts.acceptNewState });
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
      const { files, globalPath } = await appliedFiles(repo, state.dir, rev, deps);
      const load = loadConfig(files, globalPath);
      const result = await withLease(state.store, deps.clock, { stateDir: state.dir, heldError: opts.heldError?.(state.store, state.dir) }, (token, signal) => {
        state.checkTarget(token);
        return runSendNow(
          { customer: opts.customer, report: opts.report, reports: wanted, now, revision: rev, load },
          { cw: sources.cw, license: sources.license!, store: state.store, clock: deps.clock, token, signal, settleMs: deps.settings.settleMs, detections: { tmes: sources.tmes, hes: sources.hes } },
        );
      });
      return { ...result, revision: rev };
    } finally {
      state.store.close();
    }
  } finally {
    await sources.close();
  }
}
