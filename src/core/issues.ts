import type { Action } from "./actions.ts";
import type { Desired, DesiredCustomer } from "./desired.ts";
import type { HeldDecrease } from "./held-decreases.ts";
import type { Observed } from "./plan.ts";
import { suspendedUntil } from "./preview.ts";
import type { Issue } from "./status.ts";

const FAILING_WAITS = new Set(["connectwise.unavailable", "connectwise.unreadable", "license.unavailable", "lmpi.unreadable", "lmpi.empty-report", "detections.unavailable"]);
/** Why ConnectWise could not be read: it answered something that is not its answer, or it did not answer. */
export function connectwiseReason(error: string | undefined): "connectwise.unreadable" | "connectwise.unavailable" {
  return error?.includes("connectwise.unreadable") ? "connectwise.unreadable" : "connectwise.unavailable";
}

/** A product not billed for these reasons is a failure of the run, not a configuration to fix: the rest of the customer's billing goes on. */
const FAILING_LINES = new Set(["seats.invalid"]);

/**
 * Pure: everything the plan knows about one customer, as issues; the state is picked from these.
 * `held`: the decreases an earlier billing send held and no one released yet (a billing send in
 * `actions` says afresh what it holds, and replaces them).
 */
export function customerIssues(d: DesiredCustomer, desired: Desired, observed: Observed, actions: readonly Action[], now: Date, held: readonly HeldDecrease[] = []): Issue[] {
  if (d.source === "removed") return [{ state: "removed", reason: "file.deleted", message: `${d.file} was deleted: no more sends` }];
  const issues: Issue[] = [];
  if (d.source === "removal-held" && desired.massRemoval) {
    const m = desired.massRemoval;
    issues.push({
      state: "pending", reason: "removal.held",
      message: `${d.file} was deleted, but the revision removes ${m.removed.length} of ${m.of} customers (more than a quarter): held, still sending, until confirmed with --allow-mass-removal`,
    });
  }
  if (d.problem) {
    const kept = d.customer ? `keeps running on its last valid config (revision ${d.revision?.slice(0, 12) ?? "?"})` : "has no valid config yet: nothing is sent";
    issues.push({ state: "invalid", reason: d.problem.code, message: `${d.problem.message} — ${kept}`, location: d.problem.location });
  }
  const c = d.customer;
  if (!c) return issues;
  if (!c.enabled) issues.push({ state: "suspended", reason: "integration.disabled", message: "connectwise.enabled is false: nothing is sent" });
  else if (c.suspend) {
    const end = suspendedUntil(c);
    if (end === undefined || now < end) {
      issues.push({ state: "suspended", reason: "suspended", message: `suspended${c.suspend.until ? ` through ${c.suspend.until}` : ""}: ${c.suspend.reason}` });
    }
  }
  if (c.enabled) {
    const checks = observed.checks?.get(c.name);
    if (!checks) {
      issues.push({ state: "failing", reason: connectwiseReason(observed.connectwiseError), message: `ConnectWise could not be read: ${observed.connectwiseError ?? "no observation"}` });
    } else if (checks.company.state !== "found") {
      issues.push({ state: "degraded", reason: `company.${checks.company.state}`, message: `company ${c.companyId} is ${checks.company.state.replace("-", " ")} in ConnectWise: nothing is billed or reported to it (fix connectwise.companyId in ${d.file})` });
    } else {
      for (const m of checks.mappings) if (m.state !== "resolved") issues.push({ state: "degraded", reason: m.state, message: `${m.product}: ${m.message}` });
      const billed = c.reports.find((r) => r.report === "billing")?.products ?? [];
      for (const k of checks.catalog) {
        if (k.state !== "present" && billed.includes(k.product)) {
          issues.push({ state: "degraded", reason: "catalog.missing", message: `${k.product}: catalogue item ${k.catalogItem} is ${k.state} in ConnectWise` });
        }
      }
    }
  }
  for (const a of actions) {
    if (a.kind === "wait") {
      const state = FAILING_WAITS.has(a.reason) ? "failing" : a.reason.startsWith("company.") ? "degraded" : "pending";
      if (!issues.some((i) => i.reason === a.reason)) issues.push({ state, reason: a.reason, message: a.message });
    } else if (a.kind === "billing") {
      for (const l of a.lines) {
        if (l.op === "refused" && !issues.some((i) => i.reason === l.reason && i.message.startsWith(l.product))) {
          issues.push({ state: FAILING_LINES.has(l.reason ?? "") ? "failing" : "degraded", reason: l.reason ?? "billing.refused", message: `${l.product}: ${l.message ?? "not billed"}` });
        }
        // a warning: billed all the same, so the customer stays ready, with the reason shown
        if (l.warning) issues.push({ state: "ready", reason: l.warning.reason, message: `${l.product}: ${l.warning.message}` });
        if (l.op === "held") issues.push({ state: "pending", reason: "decrease.held", message: l.message ?? `${l.product}: decrease held` });
      }
    }
  }
  // still held until `cwsync release`: the month's billing is done, but the decrease is not applied
  if (!actions.some((a) => a.kind === "billing")) {
    for (const h of held) issues.push({ state: "pending", reason: "decrease.held", message: `${h.message}, since billing ${h.periodKey}: \`cwsync release ${d.name}\` applies it`, recorded: h.message });
  }
  return issues;
}
