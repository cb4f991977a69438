import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { reconcileCycle } from "../../apply/reconcile-cycle.ts";
import { withLease } from "../../apply/with-lease.ts";
import { askTheDaemon } from "../daemon-lease.ts";
import { daemonTarget } from "../daemon-url.ts";
import { loadConfig } from "../../config/load.ts";
import type { Deps } from "../../app/deps.ts";
import { cycleExitCode, renderCycleJson, renderCycleText } from "../render-reconcile.ts";
import { NO_NEEDS, sourceNeeds } from "../../app/sources-env.ts";
import { requireCredentials, type ConnectWiseTuning } from "../../app/sources-session.ts";
import { targetOf } from "../../app/target.ts";

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
  /** `--url`: ask the running daemon (also `CWSYNC_URL`). */
  url?: string;
  /** The flags given on the command line: those a daemon cannot honour are refused with --url. */
  given?: readonly string[];
}


/** `cwsync reconcile`: one cycle — load the committed revision, observe, plan, apply (or print the plan with --dry-run). */
export async function reconcileCommand(opts: ReconcileOptions, io: Deps): Promise<number> {
  const daemon = daemonTarget("reconcile", opts.url, opts.given ?? [], io.settings.daemonUrl);
  if (daemon) return (await import("./reconcile-via-daemon.ts")).reconcileViaDaemon(opts, daemon, io);
  // ConnectWise is needed whatever the configuration uses: checked before a URL is cloned to read it
  if (!opts.sandbox && !existsSync(resolve(io.cwd, opts.repo))) requireCredentials(io.settings.env, NO_NEEDS);
  const revision = await io.readRevision({ repo: opts.repo, branch: opts.branch });
  const load = loadConfig(revision.files, revision.globalPath);
  // the environment is checked before anything is written; a source is required only if a customer that sends uses it
  const now = opts.at ?? new Date(io.clock.now());
  const sources = await io.openSources({
    sandbox: opts.sandbox, repo: revision.dir, license: true, connectwise: opts.connectwise,
    detections: true, needs: sourceNeeds(load, now), now: () => now.getTime(),
  });
  try {
    const state = io.openState(targetOf(opts.sandbox, io.settings.env));
    try {
      const input = { revision: revision.id, load, now, allowMassRemoval: opts.allowMassRemoval, dryRun: opts.dryRun };
      const deps = { cw: sources.cw, license: sources.license!, store: state.store, clock: io.clock, settleMs: io.settings.settleMs, detections: { tmes: sources.tmes, hes: sources.hes },
        notice: (fields: Record<string, unknown>, message: string) => io.stderr(`cwsync: ${message} ${JSON.stringify(fields)}\n`),
      };
      const report = opts.dryRun
        ? await reconcileCycle(input, deps)
        : await withLease(state.store, io.clock, { stateDir: state.dir, heldError: askTheDaemon(state.store, state.dir) }, (token, signal) => {
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
