import { existsSync } from "node:fs";
import { setFlagsFromString } from "node:v8";
import { resolve } from "node:path";
import { desiredOf, reconcileCycle, type CycleInput, type CycleReport } from "../apply/reconcile-cycle.ts";
import type { LoadResult } from "../config/load.ts";
import type { Revision } from "../ports/git-source.ts";
import { withLease, type LeaseOptions } from "../apply/with-lease.ts";
import { noConfigCache } from "../adapters/config-cache.ts";
import { favourMemory } from "../adapters/v8-memory.ts";
import type { StateStore } from "../ports/state-store.ts";
import type { Deps } from "./deps.ts";
import { NO_NEEDS, sourceNeeds } from "./sources-env.ts";
import { isVerificationHint, prefetchVerification } from "./connectwise-session.ts";
import { earlyConnectWise, requireCredentials, type ConnectWiseTuning } from "./sources-session.ts";
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
  keepHeapSmall();
  // ConnectWise is needed whatever the configuration uses: checked before a URL is cloned to read it
  if (!opts.sandbox && !existsSync(resolve(deps.cwd, opts.repo))) requireCredentials(deps.settings.env, NO_NEEDS);
  const cache = deps.openConfigCache?.() ?? noConfigCache();
  // the verification's reads start now, with what the last run asked for, and overlap reading and
  // loading the files and the state (issue 16); the verification takes their answers if it asks the same
  const early = opts.sandbox ? undefined : earlyConnectWise(deps.settings.env, opts.connectwise);
  const hint = cache.hint(VERIFICATION_HINT);
  const prefetch = early && prefetchVerification(early.cw, isVerificationHint(hint) ? hint : undefined);
  try {
    let revision: Revision | undefined = await deps.readRevision({ repo: opts.repo, branch: opts.branch });
    const { id, dir } = revision;
    // unchanged files come validated from the cache
    let load: LoadResult | undefined = cache.load(revision);
    // a source is required only if a customer that sends uses it
    const now = opts.at ?? new Date(deps.clock.now());
    const sources = await deps.openSources({
      sandbox: opts.sandbox, repo: dir, license: true, connectwise: opts.connectwise,
      detections: true, needs: sourceNeeds(load, now), now: () => now.getTime(), ...(early ? { early } : {}),
    });
    try {
      const state = deps.openState(targetOf(opts.sandbox, deps.settings.env), { acceptNewState: opts.acceptNewState && !opts.dryRun });
      try {
        const base = { revision: id, now, allowMassRemoval: opts.allowMassRemoval, dryRun: opts.dryRun };
        // the files and what was loaded from them are let go once the desired state is made of them:
        // held through a month-end's sends, at 5,000 customers they were ~10 MiB of its peak (issue 16)
        const inputOf = (store: StateStore): CycleInput => {
          const desired = desiredOf({ ...base, load: load! }, store);
          load = undefined;
          revision = undefined;
          return { ...base, desired };
        };
        const cw = prefetch && sources.cw === early?.cw ? prefetch.cw : sources.cw;
        const cycle = {
          cw, license: sources.license!, store: state.store, clock: deps.clock, settleMs: deps.settings.settleMs,
          detections: { tmes: sources.tmes, hes: sources.hes }, ...(opts.notice ? { notice: opts.notice } : {}),
        };
        if (opts.dryRun) return await reconcileCycle(inputOf(state.store), cycle);
        const report = await withLease(state.store, deps.clock, { stateDir: state.dir, heldError: opts.heldError?.(state.store, state.dir) }, (token, signal) => {
          state.checkTarget(token);
          return reconcileCycle(inputOf(state.store), { ...cycle, token, signal });
        });
        // a dry run writes nothing, not even the cache; a no-op writes nothing new to it either
        const asked = prefetch?.asked();
        if (asked) cache.setHint(VERIFICATION_HINT, asked);
        cache.flush();
        return report;
      } finally {
        state.store.close();
      }
    } finally {
      await sources.close();
    }
  } finally {
    prefetch?.stop();
    cache.close();
  }
}

/**
 * A reconcile builds its thousands of customers' objects in one go, and V8 answers such a burst by
 * growing its young generation to its ceiling (3 × 32 MiB on Node 24), ~100 MiB of resident memory
 * the process then keeps to its end: at 5,000 customers a no-op peaked at ~300 MiB, ~195 MiB
 * without the growth, in about the same CPU time (issue 16, measured in bench/reconcile.mjs).
 * Likewise the old generation: V8 lets it grow to twice or more what survived the last full
 * collection before collecting again, and a month-end billing run's garbage (answers read, records
 * and tickets written, the report) filled that room: 15 % more than what survived keeps the peak
 * ~30 MiB lower (issue 16). Both flags are read when V8 sizes a generation, so setting them here,
 * before the files load, takes effect; and the collections favour memory (`favourMemory`).
 */
function keepHeapSmall(): void {
  setFlagsFromString("--semi-space-growth-factor=1");
  setFlagsFromString("--heap-growing-percent=15");
  favourMemory();
}

/** The name of the last verification's inputs in the config cache. */
const VERIFICATION_HINT = "connectwise-verification";
