import { afterEach, describe, expect, it, vi } from "vitest";
import type { DaemonSnapshot } from "../daemon/snapshot.ts";
import { createStatusStore, startPolling } from "./status-store.ts";

const snap = (n: number): DaemonSnapshot => ({
  at: new Date(Date.UTC(2026, 0, 5, 6, 0, n)).toISOString(),
  repo: { source: "repo" },
  connectwise: { target: "cw", healthy: true, requests: {}, rateLimitWaits: 0 },
  states: {},
  customers: [],
});

afterEach(() => {
  vi.useRealTimers();
});

describe("createStatusStore", () => {
  it("publishes the first update at once, then at most one per 250 ms, and the last value of a burst wins", async () => {
    vi.useFakeTimers({ now: new Date("2026-01-05T06:00:00Z") });
    const store = createStatusStore(snap(0));
    const seen: string[] = [];
    store.subscribe(() => seen.push(store.getSnapshot()!.at));

    store.set(snap(1));
    expect(seen).toEqual([snap(1).at]);
    // a burst of 100 updates, one every 10 ms
    for (let i = 2; i <= 101; i++) {
      store.set(snap(i));
      await vi.advanceTimersByTimeAsync(10);
    }
    await vi.advanceTimersByTimeAsync(1000);
    // throttled, not debounced: the screen still moves during the burst
    expect(seen.length).toBeGreaterThanOrEqual(4);
    expect(seen.length).toBeLessThanOrEqual(6);
    expect(seen.at(-1)).toBe(snap(101).at);
    expect(store.getSnapshot()?.at).toBe(snap(101).at);
  });

  it("keeps getSnapshot stable until it notifies, as useSyncExternalStore requires", async () => {
    vi.useFakeTimers();
    const store = createStatusStore();
    expect(store.getSnapshot()).toBeUndefined();
    const a = snap(1);
    store.set(a);
    expect(store.getSnapshot()).toBe(a);
    store.set(snap(2));
    expect(store.getSnapshot()).toBe(a);
    await vi.advanceTimersByTimeAsync(250);
    expect(store.getSnapshot()?.at).toBe(snap(2).at);
  });

  it("stops notifying a listener that unsubscribed", () => {
    const store = createStatusStore();
    const listener = vi.fn();
    const off = store.subscribe(listener);
    store.set(snap(1));
    off();
    store.set(snap(2));
    expect(listener).toHaveBeenCalledTimes(1);
  });
});

describe("startPolling", () => {
  it("fetches at once and then every interval, reports failures and keeps going, and stops on abort", async () => {
    vi.useFakeTimers();
    const store = createStatusStore(undefined, 0);
    let n = 0;
    const fetch = vi.fn(async () => {
      n++;
      if (n === 2) throw new Error("connection refused");
      return snap(n);
    });
    const errors: unknown[] = [];
    const stop = new AbortController();
    const done = startPolling(store, fetch, 2000, stop.signal, (e) => errors.push(e));
    await vi.advanceTimersByTimeAsync(0);
    expect(store.getSnapshot()?.at).toBe(snap(1).at);
    await vi.advanceTimersByTimeAsync(2000);
    expect(errors).toEqual([new Error("connection refused")]);
    expect(store.getSnapshot()?.at).toBe(snap(1).at);
    await vi.advanceTimersByTimeAsync(2000);
    expect(store.getSnapshot()?.at).toBe(snap(3).at);
    stop.abort();
    await done;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(fetch).toHaveBeenCalledTimes(3);
  });
});
