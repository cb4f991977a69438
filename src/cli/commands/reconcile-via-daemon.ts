import { OperationError } from "../../errors.ts";
import { createDaemonApi } from "../daemon-api.ts";
import type { DaemonTarget } from "../daemon-url.ts";
import type { Deps } from "../../app/deps.ts";
import { cycleFromJson } from "../../app/cycle-json.ts";
import { cycleExitCode, renderCycleText } from "../render-reconcile.ts";

const short = (rev: string | undefined) => (rev && /^[0-9a-f]{40}$/.test(rev) ? rev.slice(0, 12) : (rev ?? "none"));

/**
 * `reconcile --url`, as `flux reconcile` goes through its controller: nudge the daemon (it fetches
 * first), wait for that reconcile, print it as a one-shot reconcile prints its own, and exit as it
 * would — 1 when a customer is failing (`--strict`: also invalid or degraded), and 1 when the
 * daemon could not fetch or refused the new head.
 */
export async function reconcileViaDaemon(opts: { format: "text" | "json"; strict: boolean }, daemon: DaemonTarget, io: Deps): Promise<number> {
  const api = createDaemonApi(daemon.url, { token: io.settings.apiToken });
  const r = await api.reconcile();
  if (!r.report) throw new OperationError(`the daemon at ${api.url} did not reconcile: ${r.error ?? "it answered without a report"}`);
  const cycle = cycleFromJson(r.report);
  io.stdout(opts.format === "json" ? `${JSON.stringify(r.report, null, 2)}\n` : renderCycleText(cycle));
  let code = cycleExitCode(cycle, opts.strict);
  const problems = [
    r.error && `the daemon's reconcile failed: ${r.error}`,
    r.repo.syncError && `the daemon could not fetch ${r.repo.source}: ${r.repo.syncError}; it reconciled the revision it had (${short(r.repo.applied)})`,
    r.repo.refused && `the daemon refused revision ${short(r.repo.refused.revision)}: ${r.repo.refused.reason}; it runs ${short(r.repo.applied)}`,
  ].filter((p): p is string => typeof p === "string" && p.length > 0);
  for (const p of problems) io.stderr(`cwsync: ${p}\n`);
  if (problems.length > 0) code = 1;
  return code;
}
