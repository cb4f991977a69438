import type { Logger } from "pino";
import { SOURCE_TEXT } from "../app/sources-env.ts";
import type { SourcesSession } from "../app/sources-session.ts";
import type { SourceOutage } from "./snapshot.ts";

type Source = SourceOutage["source"];

/** Every source a reconcile may read; the poller reads only the email-security ones. */
export const ALL_SOURCES: readonly Source[] = ["connectwise", "lmpi", "tmes", "hes"];
export const DETECTION_SOURCES: readonly Source[] = ["tmes", "hes"];

const systemOf = (s: Source) => (s === "connectwise" ? "ConnectWise" : SOURCE_TEXT[s].system);

/**
 * Which sources spent their retry budget in the last cycle that used them. A cycle starts with
 * fresh budgets (`begin`); at its end (`end`) a source whose budget ran out is unavailable (from
 * the first time, kept while it stays so), and one the cycle read without running out is back.
 * A source the cycle did not read keeps its verdict.
 */
export class SourceHealth {
  private readonly down = new Map<Source, SourceOutage>();

  constructor(private readonly log: Pick<Logger, "warn" | "info">) {}

  begin(budgets: SourcesSession["budgets"] | undefined, sources: readonly Source[]): void {
    for (const s of sources) budgets?.[s].reset();
  }

  end(budgets: SourcesSession["budgets"] | undefined, sources: readonly Source[], at: Date): void {
    if (!budgets) return;
    for (const source of sources) {
      const b = budgets[source];
      const was = this.down.get(source);
      if (b.spent) {
        if (!was) this.log.warn({ source, message: b.spent }, "source unavailable");
        this.down.set(source, { source, system: systemOf(source), since: was?.since ?? at.toISOString(), message: b.spent });
      } else if (b.used && was) {
        this.down.delete(source);
        this.log.info({ source, since: was.since }, "source recovered");
      }
    }
  }

  /** The sources unavailable now, in a fixed order. */
  unavailable(): SourceOutage[] {
    return ALL_SOURCES.flatMap((s) => this.down.get(s) ?? []);
  }

  /** Why the daemon is not ready, while a source is unavailable. */
  notReady(): string | undefined {
    const list = this.unavailable();
    return list.length ? list.map((o) => `${o.system} unavailable since ${o.since}: ${o.message}`).join("; ") : undefined;
  }
}
