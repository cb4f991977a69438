import { describe, expect, it } from "vitest";
import { collectGarbage } from "./collect-garbage.ts";

describe("collectGarbage (after a whole daemon cycle)", () => {
  it("gives a burst of garbage back: the heap in use falls to what stays reachable", () => {
    const kept = Array.from({ length: 50_000 }, (_, i) => ({ i, name: `kept-${i}` }));
    let burst: unknown[] | undefined = Array.from({ length: 1_000_000 }, (_, i) => ({ i, name: `garbage-${i}`, list: [i] }));
    const during = process.memoryUsage().heapUsed;
    burst = undefined;
    expect(collectGarbage()).toBe(true);
    const after = process.memoryUsage().heapUsed;
    expect(burst).toBeUndefined();
    expect(kept).toHaveLength(50_000);
    // the million objects (~100 MB) are gone; the 50,000 kept ones are not
    expect(during - after).toBeGreaterThan(50 * 1024 * 1024);
  });
});
