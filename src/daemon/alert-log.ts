import type { CustomerRecord, CustomerState, CustomerStatus } from "../ports/state-store.ts";
import type { Logger } from "./logger.ts";

const BAD: ReadonlySet<CustomerState> = new Set(["failing", "invalid", "degraded"]);

/**
 * Logs transitions only: a customer or a dependency going bad, and recovering — never "still
 * failing" on every cycle (the journal records each cycle already).
 */
export class AlertLog {
  private readonly states = new Map<string, CustomerStatus>();
  private readonly failing = new Map<string, string>();

  constructor(private readonly log: Logger, known: readonly CustomerRecord[]) {
    // a restart does not re-alert on what was already bad before it
    for (const r of known) this.states.set(r.name, r.status);
  }

  customers(statuses: ReadonlyMap<string, CustomerStatus>): void {
    for (const [customer, s] of statuses) {
      const prev = this.states.get(customer);
      this.states.set(customer, s);
      const wasBad = prev !== undefined && BAD.has(prev.state);
      if (BAD.has(s.state) && (!wasBad || prev.state !== s.state || prev.reason !== s.reason)) {
        this.log.warn({ customer, from: prev?.state, to: s.state, reason: s.reason, detail: s.message, location: s.location }, "customer needs attention");
      } else if (wasBad && !BAD.has(s.state)) {
        this.log.info({ customer, from: prev.state, to: s.state, reason: s.reason }, "customer recovered");
      }
    }
  }

  gitSync(error: string | undefined, source: string): void {
    this.transition("git", error, { source }, "git sync failing", "git sync recovered");
  }

  reconcile(error: string | undefined, revision: string): void {
    this.transition("reconcile", error, { revision }, "reconcile failing", "reconcile recovered");
  }

  connectwise(error: string | undefined): void {
    this.transition("connectwise", error, {}, "connectwise unavailable", "connectwise recovered");
  }

  poll(error: string | undefined): void {
    this.transition("poll", error, {}, "detection polling failing", "detection polling recovered");
  }

  private transition(what: string, error: string | undefined, data: object, bad: string, good: string): void {
    const was = this.failing.get(what);
    if (error !== undefined && was === undefined) this.log.error({ ...data, error }, bad);
    else if (error === undefined && was !== undefined) this.log.info({ ...data, previousError: was }, good);
    if (error === undefined) this.failing.delete(what);
    else this.failing.set(what, error);
  }
}
