import { observeChecks } from "../apply/observe-cycle.ts";
import type { PollResult } from "../apply/poll-detections.ts";
import type { Desired } from "../core/desired.ts";
import type { ConnectWise } from "../ports/connectwise.ts";
import type { StateStore } from "../ports/state-store.ts";
import { changedChecks, DueIndex, sliceOf, touchedBy } from "./cycle-scope.ts";

/**
 * Every customer's company and agreements are verified in full at least once in this many
 * intervals (an hour at the default 60 s; `CWSYNC_FULL_VERIFY_INTERVALS`): one slice of the
 * customers per cycle, so that the cost is spread evenly. Changes show within a cycle through
 * "changed since"; a company or agreement deleted outright is seen by this, and a send always
 * re-verifies its customer first.
 */
export const FULL_VERIFY_INTERVALS = 60;
/** "Changed since" asks this much further back than the last look: clocks differ, and a change may commit late. */
const CHANGES_OVERLAP_MS = 2 * 60_000;

export type PollErrors = PollResult["errors"];

/**
 * What the daemon keeps between cycles to decide which customers a cycle looks at: the desired
 * state of the revision applied (with its verification slices), when each customer next has
 * something due, where the next "changed since" starts, and the polling failures last seen.
 */
export class ScopeKeeper {
  private kept?: { revision: string; desired: Desired; slices: Desired["customers"][]; names: ReadonlySet<string> };
  private readonly due = new DueIndex();
  private slice = 0;
  /** Where the next "changed since" look starts (real time). */
  private changesSince = 0;
  /** Per customer, the polling failures last seen (shown on its state until a poll succeeds). */
  private readonly pollFailing = new Map<string, PollErrors>();
  /** Customers whose polling failed or recovered since their last cycle. */
  private readonly pollChanged = new Set<string>();

  constructor(private readonly fullVerifyIntervals = FULL_VERIFY_INTERVALS) {}

  /** The desired state of this revision, when a whole cycle applied it. */
  desired(revision: string): Desired | undefined {
    return this.kept?.revision === revision ? this.kept.desired : undefined;
  }

  /**
   * The customers this cycle of `revision` must look at, and what it verified — or undefined when
   * it must look at everyone: the revision is not the one kept, or ConnectWise could not be read.
   */
  async scopeFor(inp: {
    revision: string; requested: Iterable<string>; now: number; cw: ConnectWise; store: StateStore; signal: AbortSignal;
  }): Promise<{ scope: Set<string>; verified: string } | undefined> {
    const kept = this.kept;
    if (kept?.revision !== inp.revision) return undefined;
    const scope = new Set([...this.due.due(inp.now), ...inp.requested, ...this.pollChanged, ...inp.store.unfinishedEntries().map((e) => e.customer)]);
    const k = this.slice++ % kept.slices.length;
    try {
      const [obs, changes] = await Promise.all([
        observeChecks(inp.cw, { ...kept.desired, customers: kept.slices[k] }, inp.signal),
        inp.cw.changedSince(new Date(this.changesSince - CHANGES_OVERLAP_MS), inp.signal),
      ]);
      if (!obs.checks) return undefined;
      for (const name of changedChecks(obs.checks, (n) => inp.store.customer(n))) scope.add(name);
      for (const name of touchedBy(changes, kept.desired, inp.store.customers())) scope.add(name);
    } catch (e) {
      if (inp.signal.aborted) throw e;
      return undefined;
    }
    // a customer the revision no longer has is not planned
    for (const name of scope) if (!kept.names.has(name)) scope.delete(name);
    return { scope, verified: `changes+slice ${k + 1}/${kept.slices.length}` };
  }

  /** Whether one of these customers has a detection report due (its cycle then polls first). */
  detectionDue(names: Iterable<string>, now: number): boolean {
    return this.due.detectionDue(names, now);
  }

  /** After a cycle that reached its end: `scope` undefined for a whole one. */
  afterCycle(inp: { revision: string; desired: Desired; scope?: ReadonlySet<string>; started: number; now: number; cursors: ReadonlyMap<string, string> }): void {
    const { desired, scope } = inp;
    if (!scope) {
      const n = this.fullVerifyIntervals;
      const slices: Desired["customers"][] = Array.from({ length: n }, () => []);
      for (const d of desired.customers) slices[sliceOf(d.name, n)].push(d);
      this.kept = { revision: inp.revision, desired, slices, names: new Set(desired.customers.map((d) => d.name)) };
    }
    this.changesSince = inp.started;
    if (scope && scope.size === 0) return;
    this.due.update(scope ? desired.customers.filter((d) => scope.has(d.name)) : desired.customers, inp.cursors, desired.globalRevision, inp.now);
    for (const name of scope ?? desired.customers.map((d) => d.name)) this.pollChanged.delete(name);
  }

  /** Every polling failure known now, for the cycle to show on its customers. */
  pollErrors(): PollErrors {
    return [...this.pollFailing.values()].flat();
  }

  /**
   * Keeps the polling failures per customer of a poll (of everyone, or of `polled`); with
   * `fromPoller`, the customers whose failure started, changed or ended are looked at next cycle.
   */
  notePoll(errors: PollErrors, polled: ReadonlySet<string> | "all", fromPoller = false): void {
    const now = new Map<string, PollErrors>();
    for (const e of errors) now.set(e.customer, [...(now.get(e.customer) ?? []), e]);
    const names = polled === "all" ? new Set([...this.pollFailing.keys(), ...now.keys()]) : polled;
    for (const name of names) {
      const next = now.get(name);
      if (fromPoller && JSON.stringify(next?.map((e) => e.message)) !== JSON.stringify(this.pollFailing.get(name)?.map((e) => e.message))) this.pollChanged.add(name);
      if (next) this.pollFailing.set(name, next);
      else this.pollFailing.delete(name);
    }
  }
}
