import type { Audit } from "../core/audit.ts";
import type { Clock } from "../ports/clock.ts";
import type { Logger } from "./logger.ts";
import type { Metrics } from "./metrics.ts";
import type { AuditCounts } from "./snapshot.ts";

const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e));

/**
 * The daemon's billing audit (`cwsync audit`'s reads, then `buildAudit`), at most once per `everyMs`
 * (a full verification interval): it reads every agreement's additions, too much for every cycle
 * or every request. After a failure it is tried again after `retryMs`. Its result serves
 * `/api/audit`, the two gauges and the dashboard header until the next.
 */
export class AuditSchedule {
  private last?: Audit & { at: string };
  /** The last audit's counts, for the snapshot (with the error of a later failed one). */
  counts?: AuditCounts;
  private error?: string;
  private nextAt = 0;
  private running = false;

  constructor(
    private readonly deps: { clock: Clock; log: Logger; metrics: Metrics },
    private readonly everyMs: number,
    private readonly retryMs: number,
  ) {}

  due(): boolean {
    return !this.running && this.deps.clock.now() >= this.nextAt;
  }

  /** Reads and records one audit; resolves to whether it was computed (false: failed, or stopped meanwhile). */
  async run(read: () => Promise<Audit>, stopping: () => boolean): Promise<boolean> {
    const { clock, log, metrics } = this.deps;
    this.running = true;
    this.nextAt = clock.now() + this.everyMs;
    try {
      const audit = await read();
      const at = new Date(clock.now()).toISOString();
      this.last = { at, ...audit };
      this.counts = { at, month: audit.month, unbilledSeats: audit.totals.unbilledSeats, unbilled: audit.unbilled.length, drift: audit.drift.length, unmanaged: audit.unmanaged.length, held: audit.held.length };
      this.error = undefined;
      metrics.audit({ unbilledSeats: audit.totals.unbilledSeats, driftedAdditions: audit.drift.length });
      log.info({ month: audit.month, unbilledSeats: audit.totals.unbilledSeats, drift: audit.drift.length, unmanaged: audit.unmanaged.length, held: audit.held.length }, "billing audit computed");
      return true;
    } catch (e) {
      if (stopping()) return false;
      this.error = messageOf(e);
      if (this.counts) this.counts = { ...this.counts, error: this.error };
      // tried again sooner than a full interval, but not every cycle
      this.nextAt = clock.now() + Math.min(this.everyMs, this.retryMs);
      log.warn({ error: this.error }, "billing audit failed; tried again later");
      return false;
    } finally {
      this.running = false;
    }
  }

  /** `/api/audit`: the last billing audit whole, or why there is none yet. */
  answer(): { audit?: Audit & { at: string }; error?: string; running: boolean; nextAt?: string } {
    return {
      ...(this.last ? { audit: this.last } : {}), ...(this.error ? { error: this.error } : {}), running: this.running,
      ...(this.nextAt > 0 ? { nextAt: new Date(this.nextAt).toISOString() } : {}),
    };
  }
}
