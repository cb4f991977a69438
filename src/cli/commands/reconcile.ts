import { systemClock } from "../../adapters/clock-system.ts";
import { settleMsFromEnv } from "../settle-env.ts";
import { readRevision } from "../../adapters/git-revision.ts";
import { reconcileCycle, type CycleReport } from "../../apply/reconcile-cycle.ts";
import { withLease } from "../../apply/with-lease.ts";
import { loadConfig, type LoadResult } from "../../config/load.ts";
import { resolveCustomer } from "../../config/resolve.ts";
import { SERVICE_OF } from "../../core/poll-targets.ts";
import type { DetectionService } from "../../ports/detection-source.ts";
import { EMAIL_SECURITY_ENV } from "../email-security-env.ts";
import type { CommandIO } from "../io.ts";
import { renderCycleJson, renderCycleText } from "../render-reconcile.ts";
import { openSources, type ConnectWiseTuning } from "../sources-session.ts";
import { openState, stateDirOf } from "../state-session.ts";
import { targetOf } from "../target.ts";

export interface ReconcileOptions {
  repo: string;
  branch?: string;
  at?: Date;
  dryRun: boolean;
  allowMassRemoval: boolean;
  format: "text" | "json";
  sandbox: boolean;
  strict: boolean;
  /** For benchmarks against the sandbox: ConnectWise limiter settings. */
  connectwise?: ConnectWiseTuning;
}

/**
 * The email-security services to open: those the customers' reports read (only those need
 * credentials), and any whose credentials are all set — a customer kept on its last valid config
 * while its file or `_global.yaml` is broken is not in `load`, and its reports still need their source.
 */
export function detectionServices(load: LoadResult, env: CommandIO["env"] = {}): DetectionService[] {
  const out = new Set<DetectionService>();
  for (const s of ["hes", "tmes"] as const) if (EMAIL_SECURITY_ENV[s].every((k) => env[k]?.trim())) out.add(s);
  for (const c of load.customers) {
    if (!c.config || !load.global) continue;
    for (const r of resolveCustomer(c.config, load.global).reports) if (r.report !== "billing") out.add(SERVICE_OF[r.report]);
  }
  return [...out].sort();
}

/** The exit code of a cycle: 1 when a customer is failing (`--strict`: also invalid or degraded). */
export function cycleExitCode(report: CycleReport, strict: boolean): number {
  const bad = new Set(strict ? ["failing", "invalid", "degraded"] : ["failing"]);
  return [...report.statuses.values()].some((s) => bad.has(s.state)) ? 1 : 0;
}

/** `cwsync reconcile`: one cycle — load the committed revision, observe, plan, apply (or print the plan with --dry-run). */
export async function reconcileCommand(opts: ReconcileOptions, io: CommandIO): Promise<number> {
  const revision = await readRevision(opts.repo, opts.branch, stateDirOf(io), io.cwd);
  const load = loadConfig(revision.files, revision.globalPath);
  // the environment is checked before anything is written
  const now = opts.at ?? new Date(systemClock.now());
  const sources = await openSources({
    sandbox: opts.sandbox, repo: revision.dir, license: true, connectwise: opts.connectwise,
    detections: true, services: detectionServices(load, io.env), now: () => now.getTime(),
  }, io);
  try {
    const state = openState(io, targetOf(opts.sandbox, io.env));
    try {
      const input = { revision: revision.id, load, now, allowMassRemoval: opts.allowMassRemoval, dryRun: opts.dryRun };
      const deps = { cw: sources.cw, license: sources.license!, store: state.store, clock: systemClock, settleMs: settleMsFromEnv(io.env), detections: { tmes: sources.tmes, hes: sources.hes } };
      const report = opts.dryRun
        ? await reconcileCycle(input, deps)
        : await withLease(state.store, systemClock, { stateDir: state.dir }, (token, signal) => {
          state.checkTarget(token);
          return reconcileCycle(input, { ...deps, token, signal });
        });
      io.stdout(opts.format === "json" ? renderCycleJson(report) : renderCycleText(report));
      return cycleExitCode(report, opts.strict);
    } finally {
      state.store.close();
    }
  } finally {
    await sources.close();
  }
}
