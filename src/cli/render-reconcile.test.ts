import { describe, expect, it } from "vitest";
import { cycleJson, type CycleView } from "../app/cycle-json.ts";
import { cycleJsonChunks, writeCycleJson } from "./render-reconcile.ts";

/** The text of the whole object at once: what the pieces must add up to. */
const renderCycleJson = (r: CycleView) => JSON.stringify(cycleJson(r), null, 2) + "\n";

const base = (over: Partial<CycleView> = {}): CycleView => ({
  revision: "0123456789abcdef0123456789abcdef01234567",
  now: new Date("2026-12-01T06:01:00Z"),
  dryRun: false,
  outcomes: [],
  statuses: new Map(),
  unclaimedLmp: [],
  desired: {},
  plan: { actions: [] },
  ...over,
});

const streamed = (r: CycleView) => [...cycleJsonChunks(r)].join("");

describe("reconcile --format json streamed", () => {
  it("writes exactly the text of the whole object, empty lists included", () => {
    const r = base();
    expect(streamed(r)).toBe(renderCycleJson(r));
    expect(JSON.parse(streamed(r))).toMatchObject({ customers: [], actions: [], outcomes: [] });
  });

  it("writes exactly the text of the whole object with customers, nested values, absent fields and odd strings", () => {
    const statuses = new Map<string, never>([
      ["acme", { state: "ok", companyId: "ACME", issues: [{ code: "x", message: "line\nbreak \u202e \"quoted\"" }], nothing: undefined } as never],
      ["globex", { state: "failing", issues: [], nested: { deep: [1, [2, { three: 3 }], []], empty: {} } } as never],
    ]);
    const r = base({
      statuses,
      unclaimedLmp: [{ month: "2026-11", customers: ["Initech", "Ümlaut GmbH"] }],
      desired: { globalProblem: undefined, massRemoval: { removed: 3, of: 8 } as never },
      plan: { actions: [{ kind: "wait", report: "billing", periodKey: "2026-12", message: "m" } as never] },
      outcomes: [{ key: "cws-0123456789", result: "done", lines: [{ product: "hes", quantity: 3, previous: undefined }] } as never],
    });
    expect(streamed(r)).toBe(renderCycleJson(r));
  });

  it("never holds the whole text in one piece: a piece per customer", () => {
    const statuses = new Map(Array.from({ length: 50 }, (_, i) => [`c${i}`, { state: "ok" } as never]));
    const chunks = [...cycleJsonChunks(base({ statuses }))];
    expect(chunks.length).toBeGreaterThan(50);
    expect(Math.max(...chunks.map((c) => c.length))).toBeLessThan(200);
  });

  it("writes each piece only once the last one went out, and all of them", async () => {
    const statuses = new Map(Array.from({ length: 20 }, (_, i) => [`c${i}`, { state: "ok" } as never]));
    const r = base({ statuses });
    let text = "";
    let waiting = false;
    let overlapped = 0;
    const write = (piece: string) => {
      if (waiting) overlapped++;
      waiting = true;
      text += piece;
    };
    // a pipe that takes each piece a macrotask later
    const drained = () => new Promise<void>((resolve) => setImmediate(() => {
      waiting = false;
      resolve();
    }));
    await writeCycleJson(r, write, drained);
    expect(overlapped).toBe(0);
    expect(text).toBe(renderCycleJson(r));
  });

  it("writes a ticket text made when read (a getter) as the text itself", () => {
    const action = { kind: "billing", key: "cws-0123456789", summary: "s", get description() {
      return "Billing for Acme, 2026-12:\n- “Default” 3 → 4 — updated";
    }, lines: [] };
    const r = base({ plan: { actions: [action as never] } });
    expect(streamed(r)).toBe(renderCycleJson(r));
    expect(streamed(r)).toContain('"description": "Billing for Acme, 2026-12:\\n- “Default” 3 → 4 — updated",\n      "lines": []');
  });
});
