import type { CycleReport } from "../apply/reconcile-cycle.ts";

/** What the renderers read of a cycle: its report, or one rebuilt from its JSON (a daemon's answer to `reconcile --url`). */
export type CycleView = Pick<CycleReport, "revision" | "now" | "dryRun" | "outcomes" | "statuses" | "unclaimedLmp"> & {
  desired: Pick<CycleReport["desired"], "globalProblem" | "massRemoval">;
  plan: Pick<CycleReport["plan"], "actions">;
};

/** `reconcile --format json`'s object; also what the daemon answers for a reconcile it was asked for. */
export function cycleJson(r: CycleView) {
  const lazy = cycleJsonLazy(r);
  return { ...lazy, customers: [...lazy.customers] };
}

/**
 * The same object with its customers as a lazy sequence, for a writer that streams it: at 5,000
 * customers the whole object and its text at once cost ~100 MiB of peak memory (issue 16).
 */
export function cycleJsonLazy(r: CycleView) {
  return {
    revision: r.revision,
    at: r.now.toISOString(),
    dryRun: r.dryRun,
    globalProblem: r.desired.globalProblem ?? null,
    massRemoval: r.desired.massRemoval ?? null,
    unclaimedLmp: r.unclaimedLmp,
    customers: customerEntries(r.statuses),
    actions: r.plan.actions,
    outcomes: r.outcomes,
  };
}

function* customerEntries(statuses: CycleView["statuses"]) {
  for (const [name, s] of statuses) yield { name, ...s };
}

export type CycleJson = ReturnType<typeof cycleJson>;

/** A cycle from its JSON (a daemon's answer), for the text renderer and the exit code. */
export function cycleFromJson(j: CycleJson): CycleView {
  return {
    revision: j.revision, now: new Date(j.at), dryRun: j.dryRun, unclaimedLmp: j.unclaimedLmp, outcomes: j.outcomes,
    statuses: new Map(j.customers.map(({ name, ...status }) => [name, status])),
    desired: { globalProblem: j.globalProblem ?? undefined, massRemoval: j.massRemoval ?? undefined },
    plan: { actions: j.actions },
  };
}
