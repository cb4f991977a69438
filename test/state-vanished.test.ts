import { copyFileSync, existsSync, readFileSync, rmSync, statSync, truncateSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { describe, expect, it, onTestFinished } from "vitest";
import { openStateStore } from "../src/adapters/state-sqlite/open-state-store.ts";
import { checkStateFile } from "../src/adapters/state-sqlite/state-marker.ts";
import { StateUnavailableError } from "../src/errors.ts";
import { reconcileWorld, type ReconcileWorld } from "./helpers/reconcile-world.ts";

const T0 = "2026-11-30T12:00:00Z";
const T1 = "2026-12-01T12:00:00Z";

/** A first reconcile: history starts, nothing is sent yet; the next, at T1, would send December's billing. */
async function reconciledOnce(): Promise<ReconcileWorld> {
  const w = await reconcileWorld();
  const first = await w.run("reconcile", "--at", T0);
  expect(first.code).toBe(0);
  expect(w.writes()).toEqual([]);
  return w;
}

function expectRefused(res: { code: number; stderr: string }, w: ReconcileWorld, missing: string): void {
  expect(res.code).toBe(1);
  expect(res.stderr).toContain(`the state database ${join(w.stateDir, "state.db")} ${missing}, but state.created says a state was created there on `);
  expect(res.stderr).toContain("would forget every send already made: history would start again");
  expect(res.stderr).toContain("Nothing was sent");
  expect(res.stderr).toContain("`cwsync state backup FILE`");
  expect(res.stderr).toContain("--accept-new-state");
}

function ledgerOf(file: string): unknown[] {
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    return db.prepare("SELECT * FROM ledger ORDER BY key").all();
  } finally {
    db.close();
  }
}

describe("a state that vanished is not a first run", () => {
  it("a first run in an empty state directory just works, and writes the marker", async () => {
    const w = await reconciledOnce();
    const marker = JSON.parse(readFileSync(join(w.stateDir, "state.created"), "utf8")) as Record<string, unknown>;
    expect(marker).toMatchObject({ cwsync: expect.any(String), createdAt: expect.any(String) });
    expect(marker.backfilled).toBeUndefined();
  });

  it("refuses a zero-length state.db after a first reconcile: reconcile and status exit 1 and nothing is sent", async () => {
    const w = await reconciledOnce();
    truncateSync(join(w.stateDir, "state.db"), 0);
    expectRefused(await w.run("reconcile", "--at", T1), w, "is empty (0 bytes)");
    expect(w.writes()).toEqual([]);
    expectRefused(await w.run("status"), w, "is empty (0 bytes)");
    expect(statSync(join(w.stateDir, "state.db")).size).toBe(0);
  });

  it("refuses a deleted state.db when the marker is left, without creating a new one", async () => {
    const w = await reconciledOnce();
    unlinkSync(join(w.stateDir, "state.db"));
    expectRefused(await w.run("reconcile", "--at", T1), w, "is missing");
    expectRefused(await w.run("send-now", "bluewater-dental", "--at", T1), w, "is missing");
    expect(w.writes()).toEqual([]);
    expect(existsSync(join(w.stateDir, "state.db"))).toBe(false);
  });

  it("refuses a deleted state.db whose write-ahead log is left (a daemon still had it open), marker or not", async () => {
    const w = await reconciledOnce();
    const running = openStateStore(w.stateDir);
    onTestFinished(() => running.close());
    expect(running.acquireLease("4242@here", 60_000, Date.now()).ok).toBe(true);
    unlinkSync(join(w.stateDir, "state.db"));
    unlinkSync(join(w.stateDir, "state.created"));
    const res = await w.run("reconcile", "--at", T1);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/state\.db is missing, but state\.db-wal holds \d+ bytes of a state's last writes/);
    expect(w.writes()).toEqual([]);
  });

  it("starts a new history with --accept-new-state, and the journal says so", async () => {
    const w = await reconciledOnce();
    truncateSync(join(w.stateDir, "state.db"), 0);
    const res = await w.run("reconcile", "--at", T1, "--accept-new-state");
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    const store = openStateStore(w.stateDir);
    onTestFinished(() => store.close());
    const accepted = store.journal().filter((j) => j.message === "new state accepted");
    expect(accepted).toEqual([expect.objectContaining({ kind: "state", data: expect.objectContaining({ flag: "--accept-new-state", reason: expect.stringContaining("state.db is empty (0 bytes), but state.created says") }) })]);
    const marker = JSON.parse(readFileSync(join(w.stateDir, "state.created"), "utf8")) as { acceptedNewState?: unknown };
    expect(marker.acceptedNewState).toBeDefined();
    // the new history is a state like any other: the next reconcile needs no flag
    expect((await w.run("reconcile", "--at", T1)).code).toBe(0);
  });

  it("backs up the state while another cwsync holds the lease; restoring the copy gives back what status and history showed", async () => {
    const w = await reconciledOnce();
    expect((await w.run("reconcile", "--at", T1)).code).toBe(0);
    expect(w.writes().length).toBeGreaterThan(0);
    const status = await w.run("status", "--at", T1, "--format", "json");
    const history = await w.run("history", "bluewater-dental", "--format", "json");
    const live = ledgerOf(join(w.stateDir, "state.db"));
    expect(live.length).toBeGreaterThan(0);

    const holder = openStateStore(w.stateDir);
    const got = holder.acquireLease("4242@elsewhere", 60_000, Date.now());
    expect(got.ok).toBe(true);
    const file = join(w.repo.dir, "backup.db");
    const backup = await w.run("state", "backup", "backup.db");
    holder.releaseLease((got as { token: number }).token);
    holder.close();
    expect(backup.stderr).toBe("");
    expect(backup.code).toBe(0);
    expect(backup.stdout).toContain(`wrote ${file} (${statSync(file).size} bytes)`);
    expect(backup.stdout).toContain(`${live.length} ledger entries`);
    expect(ledgerOf(file)).toEqual(live);

    // it refuses to overwrite a file, this backup included
    const again = await w.run("state", "backup", "backup.db");
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`${file} exists already; cwsync state backup never overwrites a file`);
    writeFileSync(join(w.repo.dir, "other.db"), "keep me");
    expect((await w.run("state", "backup", "other.db")).code).toBe(1);
    expect(readFileSync(join(w.repo.dir, "other.db"), "utf8")).toBe("keep me");

    // the state is lost; the README's restore brings it back
    truncateSync(join(w.stateDir, "state.db"), 0);
    expect((await w.run("status")).code).toBe(1);
    for (const f of ["state.db-wal", "state.db-shm"]) rmSync(join(w.stateDir, f), { force: true });
    copyFileSync(file, join(w.stateDir, "state.db"));
    const restored = await w.run("status", "--at", T1, "--format", "json");
    expect(restored.code).toBe(0);
    expect(restored.stdout).toBe(status.stdout);
    expect((await w.run("history", "bluewater-dental", "--format", "json")).stdout).toBe(history.stdout);
    // nothing is sent again: the restored ledger has every send up to the backup
    const before = w.writes().length;
    const after = await w.run("reconcile", "--at", T1);
    expect(after.stderr).toBe("");
    expect(after.code).toBe(0);
    expect(w.writes().length).toBe(before);
  });

  it("a process whose state.db is deleted or emptied under it writes nothing more, and says why", async () => {
    const w = await reconciledOnce();
    const store = openStateStore(w.stateDir);
    onTestFinished(() => store.close());
    const got = store.acquireLease("4242@here", 60_000, Date.now());
    if (!got.ok) throw new Error("lease held");
    checkStateFile(store);
    unlinkSync(join(w.stateDir, "state.db"));
    expect(() => checkStateFile(store)).toThrow(StateUnavailableError);
    expect(() => store.renewLease(got.token, 60_000, Date.now())).toThrow(/was deleted/);
    const entry = { at: new Date().toISOString(), kind: "state" as const, message: "x" };
    expect(() => store.appendJournal([entry], got.token)).toThrow(StateUnavailableError);
    expect(() => store.appendJournal([entry], got.token)).toThrow(/state\.db was deleted while this cwsync had it open; nothing more is written or sent/);
    expect(() => store.probe()).toThrow(/was deleted/);
  });
});
