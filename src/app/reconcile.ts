import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { reconcileCycle, type CycleReport } from "../apply/reconcile-cycle.ts";
import { withLease, type LeaseOptions } from "../apply/with-lease.ts";
import { loadConfig } from "../config/load.ts";
import type { StateStore } from "../ports/state-store.ts";
import type { Deps } from "./deps.ts";
import { NO_NEEDS, sourceNeeds } from "./sources-env.ts";
import { requireCredentials, type ConnectWiseTuning } from "./sources-session.ts";
import { targetOf } from "./target.ts";

export interface ReconcileOnceOptions {
  repo: string;
  branch?: string;
  /** The cycle's `now` (default the clock's). */
  at?: Date;
  dryRun: boolean;
  allowMassRemoval: boolean;
  sandbox: boolean;
  /** `--accept-new-state`: start a new history where the state vanished (refused otherwise). A dry run never does. */
  acceptNewState?: boolean;
  connectwise?: ConnectWiseTuning;
  /** What to say when another cwsync holds the state's lease (the CLI names the daemon to ask). */
  heldError?: (store: StateStore, stateDir: string) => LeaseOptions["heldError"];
  /** One line for something worth knowing that is no customer's state. */
  notice?: (fields: Record<string, unknown>, message: string) => void;
}

/**
 * One reconcile outside the daemon (`cwsync reconcile`): the committed revision, the sources its
 * customers use (checked before anything is written), then one cycle under the state's lease
 * (a dry run takes none and writes nothing).
 */
export async function reconcileOnce(opts: ReconcileOnceOptions, deps: Deps): Promise<CycleReport> {
  // ConnectWise is needed whatever the configuration uses: checked before a URL is cloned to read it
  if (!opts.sandbox && !existsSync(resolve(deps.cwd, opts.repo))) requireCredentials(deps.settings.env, NO_NEEDS);
  const revision = await deps.readRevision({ repo: opts.repo, branch: opts.branch });
  const load = loadConfig(revision.files, revision.globalPath);
  // a source is required only if a customer that sends uses it
  const now = opts.at ?? new Date(deps.clock.now());
  const sources = await deps.openSources({
    sandbox: opts.sandbox, repo: revision.dir, license: true, connectwise: opts.connectwise,
    detections: true, needs: sourceNeeds(load, now), now: () => now.getTime(),
  });
  try {
    const state = deps.openState(targetOf(opts.sandbox, deps.settings.env), { acceptNewState: opts.acceptNewState && !opts.dryRun });
    try {
      const input = { revision: revision.id, load, now, allowMassRemoval: opts.allowMassRemoval, dryRun: opts.dryRun };
      const cycle = {
        cw: sources.cw, license: sources.license!, store: state.store, clock: deps.clock, settleMs: deps.settings.settleMs,
        detections: { tmes: sources.tmes, hes: sources.hes }, ...(opts.notice ? { notice: opts.notice } : {}),
      };
      if (opts.dryRun) return await reconcileCycle(input, cycle);
      return await withLease(state.store, deps.clock, { stateDir: state.dir, heldError: opts.heldError?.(state.store, state.dir) }, (token, signal) => {
        state.checkTarget(token);
        return reconcileCycle(input, { ...cycle, token, signal });
      });
    } finally {
      state.store.close();
    }
  } finally {
    await sources.close();
  }
}
