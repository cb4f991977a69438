import { mkdtempSync, rmSync } from "node:fs";
import { DatabaseSync } from "node:sqlite";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { writeBulkCustomers } from "../src/sandbox/bulk-customers.ts";
import { tempRepo } from "./helpers/git-repo.ts";
import { reconcileWorld } from "./helpers/reconcile-world.ts";

// billing is due on day 1 at 06:00 UTC (writeBulkCustomers)
const BEFORE = "2026-11-30T12:00:00Z";
const AFTER = "2026-12-01T06:01:00Z";
/** The tables a no-op must leave alone: everything but the lease and the journal (see below). */
const WATCHED = ["meta", "customers", "cursors", "ledger", "poll_cursors", "detection_series", "detection_counts", "poll_gaps"];

/**
 * Counts every row written to the watched tables by any connection (an UPDATE that stores the same
 * values counts too): persistent triggers into a side table, added to the test's state.db.
 */
function watchWrites(db: DatabaseSync): () => Record<string, number> {
  db.exec("CREATE TABLE test_writes (tbl TEXT NOT NULL, op TEXT NOT NULL)");
  for (const t of WATCHED) {
    for (const op of ["INSERT", "UPDATE", "DELETE"]) {
      db.exec(`CREATE TRIGGER test_w_${t}_${op.toLowerCase()} AFTER ${op} ON ${t} BEGIN INSERT INTO test_writes (tbl, op) VALUES ('${t}', '${op}'); END`);
    }
  }
  return () => Object.fromEntries((db.prepare("SELECT tbl || ' ' || op AS k, count(*) AS n FROM test_writes GROUP BY k").all() as { k: string; n: number }[]).map((r) => [r.k, r.n]));
}

describe("a no-op reconcile after billing", () => {
  it("writes nothing to ConnectWise and no customer record, cursor, ledger entry or meta value to the state", async () => {
    const seed = mkdtempSync(join(tmpdir(), "cwsync-noop-"));
    onTestFinished(() => rmSync(seed, { recursive: true, force: true }));
    writeBulkCustomers(seed, 40);
    const w = await reconcileWorld({ repo: tempRepo(join(seed, "customers")) });
    expect((await w.run("reconcile", "--at", BEFORE, "--format", "json")).code).toBe(0);
    const billing = await w.run("reconcile", "--at", AFTER, "--format", "json");
    expect(billing.code).toBe(0);
    expect((JSON.parse(billing.stdout) as { outcomes: { result: string }[] }).outcomes.filter((o) => o.result === "done")).toHaveLength(40);

    const db = new DatabaseSync(join(w.stateDir, "state.db"));
    onTestFinished(() => db.close());
    const writes = watchWrites(db);
    const lease = () => db.prepare("SELECT token FROM lease WHERE id = 1").get() as { token: number };
    const remoteBefore = w.writes().length;
    const tokenBefore = lease().token;

    const noop = await w.run("reconcile", "--at", AFTER, "--format", "json");
    expect(noop.code).toBe(0);
    const report = JSON.parse(noop.stdout) as { actions: { kind: string }[]; outcomes: unknown[] };
    expect(report.actions.filter((a) => a.kind !== "wait")).toEqual([]);
    expect(report.outcomes).toEqual([]);
    // the run really happened under the lease (it is not skipped)
    expect(lease().token).toBe(tokenBefore + 1);
    // 0 writes: remote and local (the lease and the journal's two lines are all a no-op leaves)
    expect(w.writes().length).toBe(remoteBefore);
    expect(writes()).toEqual({});

    // and a second no-op, in a later process, still writes nothing
    expect((await w.run("reconcile", "--at", AFTER, "--format", "json")).code).toBe(0);
    expect(writes()).toEqual({});
  });
});
