import { resolve } from "node:path";
import { loadConfig, type LoadResult } from "../../config/load.ts";
import { modelChange, runningCustomers } from "../../core/change-model.ts";
import { diffConfigs, flattenGlobal } from "../../core/config-diff.ts";
import { previewCustomer } from "../../core/preview.ts";
import { checkCustomer, unknownDefaultTypes } from "../../core/connectwise-checks.ts";
import { UsageError } from "../../errors.ts";
import { observeConnectWise } from "../../observe/observe-connectwise.ts";
import { readBillingPreview } from "../../app/billing-preview.ts";
import { NO_NEEDS } from "../../app/sources-env.ts";
import type { Deps } from "../../app/deps.ts";
import { changeCount, effectiveCustomers, type PlanView } from "../plan-model.ts";
import { onlineLines } from "../render-online.ts";
import { renderPlanMarkdown } from "../render-plan-markdown.ts";
import { planToJson, renderPlanText } from "../render-plan-text.ts";

export interface PlanOptions {
  repo: string;
  base?: string;
  at?: Date;
  format: "text" | "json" | "markdown";
  detailedExitcode: boolean;
  online?: boolean;
  sandbox?: boolean;
}

async function loadHead(repo: string, io: Pick<Deps, "readWorkingFiles">): Promise<LoadResult> {
  const { groups } = io.readWorkingFiles(["customers"], repo);
  const g = groups[0];
  if (!g) throw new UsageError(`no customers/ folder in ${repo}`);
  return loadConfig(g.files, g.globalPath);
}

/**
 * `cwsync plan`: offline; exit 1 when the working tree has errors or, with --online, a ConnectWise
 * check fails (a ✖ line), 2 with --detailed-exitcode when the change changes anything. The whole
 * plan is printed either way: CI posts it and then fails the check.
 */
export async function planCommand(opts: PlanOptions, io: Deps): Promise<number> {
  const repo = resolve(io.cwd, opts.repo);
  const now = opts.at ?? new Date(io.clock.now());
  const head = await loadHead(repo, io);
  const headCustomers = effectiveCustomers(head);
  const view: PlanView = {
    at: now,
    base: opts.base,
    previews: [...headCustomers.values()].map((c) => previewCustomer(c, now)),
    invalid: head.customers
      .filter((c) => !c.config)
      .map((c) => ({ name: c.name, file: c.file, errors: c.diagnostics.filter((d) => d.severity === "error") }))
      .filter((c) => c.errors.length > 0),
    blocked: head.blocked ? head.diagnostics.filter((d) => d.file === head.globalFile) : undefined,
  };
  if (opts.base) {
    const { files, globalPath } = await io.readFilesAt(repo, opts.base);
    const base = loadConfig(files, globalPath);
    // the reconciler's own assembly and due logic, as if the base had been applied and had sent all that was due
    const model = modelChange({ base, head, at: now });
    // an invalid customer at the head keeps its last valid config: it is not "removed"
    const running = runningCustomers(model.desired);
    for (const [name, c] of running) headCustomers.set(name, c);
    view.diff = head.blocked ? undefined : diffConfigs(runningCustomers(model.baseDesired), running, flattenGlobal(base.global ?? {}), flattenGlobal(head.global ?? {}), now, model);
  }
  if (opts.online && head.global) {
    // the LMP for the billing preview, never required: without its variables every customer's preview says why (NO_NEEDS)
    const session = await io.openSources({ sandbox: opts.sandbox ?? false, repo: opts.repo, license: true, needs: NO_NEEDS });
    try {
      const enabled = [...headCustomers.values()].filter((c) => c.enabled);
      const snapshot = await observeConnectWise(session.cw, enabled, head.global);
      const checks = enabled.map((c) => checkCustomer(c, head.global!, snapshot));
      const preview = await readBillingPreview({
        cw: session.cw, license: session.license!, customers: enabled, checks: new Map(checks.map((c) => [c.name, c])), global: head.global, now,
      });
      view.online = {
        target: session.target,
        checks,
        unknownDefaultTypes: unknownDefaultTypes(head.global, snapshot.agreementTypes),
        skipped: [...headCustomers.values()].filter((c) => !c.enabled).map((c) => c.name),
        preview,
      };
    } finally {
      await session.close();
    }
  } else if (opts.sandbox) {
    throw new UsageError("--sandbox goes with --online");
  }
  const render = { text: renderPlanText, markdown: renderPlanMarkdown, json: (v: PlanView) => JSON.stringify(planToJson(v), null, 2) + "\n" }[opts.format];
  io.stdout(render(view));
  if (view.blocked || view.invalid.length > 0) return 1;
  // the verdict of the ✖ lines themselves, so that the exit code and the output never disagree
  if (view.online?.checks.some((c) => !onlineLines(c).ok)) return 1;
  return opts.detailedExitcode && changeCount(view.diff) > 0 ? 2 : 0;
}
