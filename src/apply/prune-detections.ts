import { stateMeta } from "../ports/state-meta.ts";
import type { GlobalFile } from "../config/model.ts";
import { parseCatchUp } from "../core/plan.ts";
import type { StateStore } from "../ports/state-store.ts";

/** When detection counters were last pruned (the cycle's `now`, ISO). */
const DAY_MS = 24 * 3600_000;
/** The longest period a report covers (a month), and a week more than anything needs. */
const LONGEST_PERIOD_MS = 31 * DAY_MS;
const MARGIN_MS = 7 * DAY_MS;

/**
 * Before this instant no report can still need a counter: a report covers at most a month, and
 * a late one is sent for at most `catchUp.detections` after its period; a week of margin on top.
 */
export function detectionCutoff(global: GlobalFile | undefined, now: Date): Date {
  return new Date(now.getTime() - LONGEST_PERIOD_MS - parseCatchUp(global?.catchUp?.detections) - MARGIN_MS);
}

/**
 * Deletes detection counters and gaps older than any report can need, at most once a day (the
 * daemon calls it every cycle; most calls read one meta value). Without it the state grows by the
 * counters of every hour forever (~200 MiB a month at 1,000 customers). Returns what was deleted,
 * or undefined when it was not due.
 */
export function pruneDetectionsDaily(
  store: StateStore, token: number, now: Date, global: () => GlobalFile | undefined,
): { before: string; counts: number; gaps: number } | undefined {
  const meta = stateMeta(store);
  const last = meta.prunedAt();
  if (last && now.getTime() - Date.parse(last) < DAY_MS) return undefined;
  const before = detectionCutoff(global(), now).toISOString();
  const deleted = store.pruneDetections(before, token);
  meta.setPrunedAt(now.toISOString(), token);
  return { before, ...deleted };
}
