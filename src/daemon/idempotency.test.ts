import { describe, expect, it } from "vitest";
import { IdempotencyCache } from "./idempotency.ts";

function cacheOf(opts: { max?: number; ttlMs?: number; keep?: (r: string) => boolean; keepMs?: number; whenFull?: () => string } = {}) {
  const clock = { now: 0 };
  let runs = 0;
  const cache = new IdempotencyCache<string>({ max: opts.max ?? 3, ttlMs: opts.ttlMs ?? 1000, now: () => clock.now, keep: opts.keep, keepMs: opts.keepMs, whenFull: opts.whenFull });
  const use = (key: string, what = "send acme billing", result?: () => Promise<string>) => {
    const r = cache.use(key, what, result ?? (async () => `run ${++runs}`));
    if ("conflict" in r) throw new Error(`conflict with ${r.conflict}`);
    return r.result;
  };
  return { cache, clock, use };
}

describe("IdempotencyCache", () => {
  it("answers a key with its first result until the key is a time-to-live old", async () => {
    const { clock, use } = cacheOf();
    expect(await use("a")).toBe("run 1");
    clock.now = 999;
    expect(await use("a")).toBe("run 1");
    clock.now = 1000;
    expect(await use("a")).toBe("run 2");
  });

  it("keeps the last `max` keys: the oldest goes first", async () => {
    const { use } = cacheOf({ max: 3 });
    for (const k of ["a", "b", "c", "d"]) await use(k);
    expect(await use("b")).toBe("run 2");
    expect(await use("a")).toBe("run 5");
  });

  it("keeps every key for keepMs at least: a new key that would push out a younger one is answered whenFull, unrun", async () => {
    const { clock, use } = cacheOf({ max: 2, ttlMs: 5000, keepMs: 1000, whenFull: () => "busy" });
    expect(await use("a")).toBe("run 1");
    clock.now = 10;
    expect(await use("b")).toBe("run 2");
    clock.now = 999;
    expect(await use("c")).toBe("busy");
    expect(await use("a")).toBe("run 1");
    clock.now = 1000;
    // "a" is keepMs old now: it goes, and "c" runs
    expect(await use("c")).toBe("run 3");
    expect(await use("b")).toBe("run 2");
  });

  it("shares a result still running with a repeat, and names the first request when a key comes back for another", async () => {
    const { cache, use } = cacheOf();
    let finish!: (v: string) => void;
    const first = use("a", "send acme billing", () => new Promise((resolve) => (finish = resolve)));
    const again = cache.use("a", "send acme billing", async () => "never");
    expect(again).toMatchObject({ replayed: true });
    finish("sent once");
    expect(await first).toBe("sent once");
    expect(await (again as { result: Promise<string> }).result).toBe("sent once");
    expect(cache.use("a", "send globex billing", async () => "never")).toEqual({ conflict: "send acme billing" });
  });

  it("forgets a result it must not keep (nothing was done) and a failure, so that a retry with the key runs", async () => {
    const { use } = cacheOf({ keep: (r) => r !== "busy" });
    expect(await use("a", "x", async () => "busy")).toBe("busy");
    expect(await use("a")).toBe("run 1");
    await expect(use("b", "x", () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(await use("b")).toBe("run 2");
  });
});
