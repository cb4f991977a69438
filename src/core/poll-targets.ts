import type { DetectionService, PolicyEventKind } from "../ports/detection-source.ts";
import { eventsFor } from "./detection-categories.ts";
import type { Desired } from "./desired.ts";
import { acting } from "./plan.ts";

/** One thing to poll: a customer's domain and event kind at one service. */
export interface PollTarget {
  customer: string;
  service: DetectionService;
  domain: string;
  event: PolicyEventKind;
  /** The customer's zone: counters are bucketed on its local hours, so local-midnight periods add up exactly. */
  timezone: string;
}

export const SERVICE_OF = { hostedEmailSecurity: "hes", emailSecurity: "tmes" } as const;

/**
 * Pure: what to poll. One target per (customer, service, domain, event kind) whatever the number
 * of reports fed by it — a day, a week and a month report read the same counters.
 */
export function pollTargets(desired: Desired): PollTarget[] {
  const out: PollTarget[] = [];
  for (const d of desired.customers) {
    if (!acting(d) || !d.customer.enabled) continue;
    const c = d.customer;
    for (const service of ["hes", "tmes"] as const) {
      const reports = c.reports.filter((r) => r.report !== "billing" && SERVICE_OF[r.report] === service);
      const events = eventsFor(reports.flatMap((r) => r.detections ?? []));
      for (const domain of c.emailDomains) for (const event of events) out.push({ customer: c.name, service, domain, event, timezone: c.timezone });
    }
  }
  return out;
}
