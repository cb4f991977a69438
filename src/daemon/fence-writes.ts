import type { StateStore } from "../ports/state-store.ts";

/** A write attempted after the daemon began to stop. */
export class StoppedError extends Error {
  constructor() {
    super("the daemon is stopping: this write was not made");
    this.name = "StoppedError";
  }
}

const WRITES = ["setMeta", "putCustomers", "setCursors", "putLedger", "commitPoll", "appendJournal", "pruneDetections"] as const satisfies readonly (keyof StateStore)[];

/**
 * The store, with every write refused once `signal` aborts. A stop then ends the in-flight cycle
 * exactly as a crash at that point would — a send in flight keeps its open ledger entry, which the
 * next run resolves by looking in ConnectWise — instead of recording the aborted requests as
 * failures (customers shown failing, sends marked failed).
 */
export function fenceWrites(store: StateStore, signal: AbortSignal): StateStore {
  const writes = new Set<PropertyKey>(WRITES);
  return new Proxy(store, {
    get(target, key) {
      const value = Reflect.get(target, key, target) as unknown;
      if (typeof value !== "function") return value;
      if (!writes.has(key)) return value.bind(target);
      return (...args: unknown[]) => {
        if (signal.aborted) throw new StoppedError();
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}
