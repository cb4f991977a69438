import type { CustomerState, CustomerStatus } from "../ports/state-store.ts";

/** One thing wrong (or notable) with a customer; the highest-precedence one becomes its state. */
export interface Issue {
  state: CustomerState;
  reason: string;
  message: string;
  location?: string;
  /**
   * The message as a customer record stores it, when `message` adds a hint read from the ledger
   * (a held decrease's release hint): the record then says the same in the run that sent and in
   * every run after it, so a no-op does not rewrite it. Absent: `message`.
   */
  recorded?: string;
}

/** DESIGN §6, highest first; `removed` sits outside the list (the customer is gone). */
export const STATE_PRECEDENCE: readonly CustomerState[] = ["removed", "suspended", "invalid", "failing", "degraded", "pending", "ready"];

export const READY: Issue = { state: "ready", reason: "ok", message: "verified; sends go out when due" };

/** The primary state: the first issue of the highest-precedence state (a `ready` one is a warning), else ready. */
export function primaryIssue(issues: readonly Issue[]): Issue {
  let best: Issue | undefined;
  for (const i of issues) if (!best || STATE_PRECEDENCE.indexOf(i.state) < STATE_PRECEDENCE.indexOf(best.state)) best = i;
  return best ?? READY;
}

/** Keeps `since` when state and reason did not change, so the dashboard can say "failing for 3 h". */
export function withSince(issue: Issue, previous: CustomerStatus | undefined, now: Date): CustomerStatus {
  const same = previous && previous.state === issue.state && previous.reason === issue.reason;
  return {
    state: issue.state,
    reason: issue.reason,
    message: issue.message,
    ...(issue.location ? { location: issue.location } : {}),
    since: same ? previous.since : now.toISOString(),
  };
}
