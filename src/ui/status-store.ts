import type { DaemonSnapshot } from "../daemon/snapshot.ts";

/** The daemon's latest snapshot, outside React: read with `useSyncExternalStore(subscribe, getSnapshot)`. */
export interface StatusStore {
  subscribe(listener: () => void): () => void;
  /** The last published snapshot; stable between notifications, as `useSyncExternalStore` requires. */
  getSnapshot(): DaemonSnapshot | undefined;
  /** Publishes a snapshot: at once after a quiet spell, otherwise at the end of the throttle window (the last value wins). */
  set(snapshot: DaemonSnapshot): void;
}

/** A store whose subscribers hear at most one notification per `throttleMs` (250 ms: the terminal cannot show more). */
export function createStatusStore(initial?: DaemonSnapshot, throttleMs = 250): StatusStore {
  const listeners = new Set<() => void>();
  let current = initial;
  let pending: DaemonSnapshot | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let lastPublished = Number.NEGATIVE_INFINITY;

  const publish = () => {
    timer = undefined;
    if (pending === undefined) return;
    current = pending;
    pending = undefined;
    lastPublished = Date.now();
    for (const listener of [...listeners]) listener();
  };

  return {
    subscribe(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    getSnapshot: () => current,
    set(snapshot) {
      pending = snapshot;
      if (timer !== undefined) return;
      const wait = lastPublished + throttleMs - Date.now();
      if (wait <= 0) publish();
      else timer = setTimeout(publish, wait);
    },
  };
}

/**
 * Fetches a snapshot into the store now and then every `intervalMs` (after each answer, so a slow
 * daemon is never asked twice at once) until `signal` aborts; a failed fetch goes to `onError`
 * and the next one is tried on schedule.
 */
export async function startPolling(
  store: StatusStore,
  fetchSnapshot: (signal: AbortSignal) => Promise<DaemonSnapshot>,
  intervalMs: number,
  signal: AbortSignal,
  onError: (error: unknown) => void = () => undefined,
): Promise<void> {
  while (!signal.aborted) {
    try {
      store.set(await fetchSnapshot(signal));
    } catch (e) {
      if (signal.aborted) return;
      onError(e);
    }
    await sleep(intervalMs, signal);
  }
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
