import { mkdtempSync, rmSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openStateStore } from "../adapters/state-sqlite/open-state-store.ts";
import type { GlobalFile } from "../config/model.ts";
import type { StateStore } from "../ports/state-store.ts";
import { stateMeta } from "../ports/state-meta.ts";
import { detectionCutoff, pruneDetectionsDaily } from "./prune-detections.ts";

const NOW = new Date("2027-03-15T06:00:00Z");
const DAY = 24 * 3600_000;
const stores: { s: StateStore; dir: string }[] = [];
afterEach(() => {
  for (const { s, dir } of stores.splice(0)) {
    s.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

function held(): { s: StateStore; token: number } {
  const dir = mkdtempSync(join(tmpdir(), "cwsync-prune-"));
  const s = openStateStore(dir);
  stores.push({ s, dir });
  const r = s.acquireLease(`${process.pid}@${hostname()}`, 30_000, Date.now());
  if (!r.ok) throw new Error("lease not taken");
  return { s, token: r.token };
}

const counted = (s: StateStore, token: number, hoursAgo: number[]) => {
  for (const h of hoursAgo) {
    s.commitPoll({
      cursor: { customer: "acme", service: "hes", domain: "acme.com", event: "spam", at: NOW.toISOString(), boundaryIds: [] },
      counts: [{ customer: "acme", service: "hes", domain: "acme.com", category: "spam", hour: new Date(NOW.getTime() - h * 3600_000).toISOString(), count: 1 }],
      gaps: [],
    }, token);
  }
};
const left = (s: StateStore) => s.detectionCounts("acme", "hes", "2000-01-01T00:00:00.000Z", "2100-01-01T00:00:00.000Z").length;

describe("deleting detection counters no report can need any more", () => {
  it("keeps a month, the catch-up window and a week of margin", () => {
    expect(NOW.getTime() - detectionCutoff(undefined, NOW).getTime()).toBe((31 + 7 + 7) * DAY);
    expect(NOW.getTime() - detectionCutoff({ catchUp: { detections: "30d" } } as GlobalFile, NOW).getTime()).toBe((31 + 30 + 7) * DAY);
  });

  it("deletes what is older once a day, and a monthly report's period is still whole", () => {
    const { s, token } = held();
    // an hour 40 days ago (last month's report may still be caught up), and one 50 days ago
    counted(s, token, [40 * 24, 50 * 24, 1]);
    expect(pruneDetectionsDaily(s, token, NOW, () => undefined)).toMatchObject({ counts: 1, gaps: 0 });
    expect(left(s)).toBe(2);
    expect(stateMeta(s).prunedAt()).toBe(NOW.toISOString());
    // within the day: not again, even with more to delete
    counted(s, token, [60 * 24]);
    expect(pruneDetectionsDaily(s, token, new Date(NOW.getTime() + DAY - 1), () => undefined)).toBeUndefined();
    expect(left(s)).toBe(3);
    expect(pruneDetectionsDaily(s, token, new Date(NOW.getTime() + DAY), () => undefined)).toMatchObject({ counts: 1 });
    expect(left(s)).toBe(2);
  });
});
