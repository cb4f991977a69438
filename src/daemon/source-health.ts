import type { Logger } from "pino";
import { SOURCE_TEXT } from "../app/sources-env.ts";
import type { SourcesSession } from "../app/sources-session.ts";
import { StateUnavailableError, type StateError } from "../errors.ts";
import type { SourceOutage } from "./snapshot.ts";

type Source = Exclude<SourceOutage["source"], "state">;

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
  /** `state.unavailable`: the state cannot be written or read; nothing is sent while it holds. */
  private stateDown?: SourceOutage;

  constructor(private readonly log: Pick<Logger, "warn" | "info" | "error">) {}

  /** The state failed (a write or read, the lease renewal, a probe): one error line when it starts or its cause changes. */
  stateFailed(e: StateError, at: Date): void {
    const was = this.stateDown;
    const cause = e instanceof StateUnavailableError ? e.reason : undefined;
    const file = e instanceof StateUnavailableError ? e.file : undefined;
    if (!was || was.cause !== cause || was.file !== file) this.log.error({ code: "state.unavailable", file, cause, error: e.message }, "state unavailable");
    this.stateDown = {
      source: "state", system: "the state", code: "state.unavailable", since: was?.since ?? at.toISOString(), message: e.message,
      ...(cause ? { cause } : {}), ...(file ? { file } : {}),
    };
  }

  /** A probe found the state usable again. */
  stateRecovered(): void {
    const was = this.stateDown;
    if (!was) return;
    this.stateDown = undefined;
    this.log.info({ code: "state.unavailable", file: was.file, cause: was.cause, since: was.since }, "state recovered");
  }

  /** Why the state cannot be used, while it cannot. */
  get stateUnavailable(): SourceOutage | undefined {
    return this.stateDown;
  }

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
    return [...(this.stateDown ? [this.stateDown] : []), ...ALL_SOURCES.flatMap((s) => this.down.get(s) ?? [])];
  }

  /** Why the daemon is not ready, while a source is unavailable. */
  notReady(): string | undefined {
    const list = this.unavailable();
    return list.length ? list.map((o) => `${o.code ?? `${o.system} unavailable`} since ${o.since}: ${o.message}`).join("; ") : undefined;
  }
}
