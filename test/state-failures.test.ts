import { execFileSync, spawn } from "node:child_process";
import { chmodSync, closeSync, mkdtempSync, openSync, rmSync, statSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { openStateStore } from "../src/adapters/state-sqlite/open-state-store.ts";
import { loadSqlite } from "../src/adapters/state-sqlite/sqlite-driver.ts";
import { withLease } from "../src/apply/with-lease.ts";
import { StateUnavailableError } from "../src/errors.ts";
import type { StateStore } from "../src/ports/state-store.ts";
import { systemClock } from "../src/adapters/clock-system.ts";
import type { DaemonSnapshot } from "../src/daemon/snapshot.ts";
import { reconcileWorld, type ReconcileWorld } from "./helpers/reconcile-world.ts";
import { waitFor } from "./helpers/wait-for.ts";

// A state that cannot be written or read — a full disk, read-only, corrupt — is `state.unavailable`:
// the CLI exits 1 naming the file and the cause (never 70 with a stack), and the daemon stays up,
// sends nothing, answers /readyz 503 naming the state, and resumes by itself once the cause is gone.
//
// Real causes only. As root, permissions do not stop writes: the state then lives on a small
// tmpfs (mounted for the test), remounted read-only or filled. Without root and without a way to
// mount, the read-only case uses chmod; the full disk under a running daemon has no real way and is skipped.

const CLI = resolve(import.meta.dirname, "../dist/cli/main.js");
const ROOT = process.getuid?.() === 0;
const BEFORE = "2026-11-30T12:00:00Z";
const T1 = "2026-12-01T12:00:00Z";

function canMount(): boolean {
  if (!ROOT) return false;
  const dir = mkdtempSync(join(tmpdir(), "cwsync-mount-"));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", dir], { stdio: "ignore" });
    execFileSync("umount", [dir], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const MOUNT = canMount();

/** A tmpfs of `size` mounted for the test: the state directory of `w` from now on. */
function stateOnTmpfs(w: ReconcileWorld, size: string): string {
  const dir = mkdtempSync(join(tmpdir(), "cwsync-tmpfs-"));
  execFileSync("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir]);
  onTestFinished(() => {
    execFileSync("umount", ["-l", dir]);
    rmSync(dir, { recursive: true, force: true });
  });
  w.env.CWSYNC_STATE_DIR = dir;
  return dir;
}

/** No stack trace, no "internal error": one line that says what to do. */
function expectPlain(stderr: string): void {
  expect(stderr).not.toMatch(/internal error|please report|\n\s+at /);
}

describe("the CLI on a state it cannot use", () => {
  it.skipIf(ROOT && !MOUNT)("reconcile on a read-only state exits 1 naming state.db and read-only, without a stack", async () => {
    const w = await reconcileWorld();
    const dir = MOUNT ? stateOnTmpfs(w, "16m") : w.stateDir;
    expect((await w.run("reconcile", "--at", BEFORE)).code).toBe(0);
    if (MOUNT) execFileSync("mount", ["-o", "remount,ro", dir]);
    else {
      chmodSync(join(dir, "state.db"), 0o444);
      chmodSync(dir, 0o555);
      onTestFinished(() => chmodSync(dir, 0o755));
    }
    const r = await w.run("reconcile", "--at", T1);
    expect(r.stderr).toContain(join(dir, "state.db"));
    expect(r.stderr).toContain("read-only");
    expectPlain(r.stderr);
    expect(r.code).toBe(1);
    expect(w.writes()).toEqual([]);
  });

  it("reconcile and status on a state.db replaced by garbage exit 1 naming it corrupt, not a database", async () => {
    const w = await reconcileWorld();
    expect((await w.run("reconcile", "--at", BEFORE)).code).toBe(0);
    const file = join(w.stateDir, "state.db");
    writeFileSync(file, Buffer.alloc(64 * 1024, "garbage "));
    for (const argv of [["reconcile", "--at", T1], ["status"]]) {
      const r = await w.run(...argv);
      expect(r.stderr).toContain(`the state ${file} cannot be used: it is corrupt`);
      expect(r.stderr).toContain("not a database");
      expect(r.stderr).toContain("restore state.db from a backup");
      expectPlain(r.stderr);
      expect(r.code).toBe(1);
    }
    expect(w.writes()).toEqual([]);
  });
});

describe.skipIf(!MOUNT)("the CLI on a full disk (a tmpfs, as root)", () => {
  it("reconcile exits 1 naming the disk, not releaseLease's stack; once space is freed every due send goes out once", async () => {
    const w = await reconcileWorld();
    const dir = stateOnTmpfs(w, "16m");
    expect((await w.run("reconcile", "--at", BEFORE)).code).toBe(0);
    const filler = join(dir, "filler");
    try {
      execFileSync("dd", ["if=/dev/zero", `of=${filler}`, "bs=64k"], { stdio: "ignore" });
    } catch {
      // "No space left on device": that is the point
    }
    const full = await w.run("reconcile", "--at", T1);
    expect(full.stderr).toContain(`the state ${join(dir, "state.db")} cannot be used: the disk is full`);
    expectPlain(full.stderr);
    expect(full.code).toBe(1);

    rmSync(filler);
    const after = await w.run("reconcile", "--at", T1);
    expect(after.stderr).toBe("");
    const tickets = w.cw.state.tickets.map((t) => t.summary);
    expect(tickets.some((t) => t.startsWith("Billing 2026-12"))).toBe(true);
    expect(new Set(tickets).size).toBe(tickets.length);
  });
});

describe("the lease when the state fails under it", () => {
  /** A real store whose lease renewal and release meet a full disk. */
  function failingLease(dir: string, opts: { release: boolean }): StateStore {
    const store = openStateStore(dir);
    onTestFinished(() => store.close());
    const full = () => {
      throw new StateUnavailableError(`the state ${dir}/state.db cannot be used: the disk is full`, `${dir}/state.db`, "disk full");
    };
    return { ...store, renewLease: full, releaseLease: opts.release ? store.releaseLease : full };
  }

  it("a renewal that fails aborts the work and throws the state's error, not the release's or an uncaught one", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cwsync-lease-"));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const uncaught: unknown[] = [];
    const onUncaught = (e: unknown) => void uncaught.push(e);
    process.on("uncaughtException", onUncaught);
    onTestFinished(() => void process.off("uncaughtException", onUncaught));
    let aborted: unknown;
    const run = withLease(failingLease(dir, { release: false }), systemClock, { stateDir: dir, ttlMs: 150 }, (_token, signal) =>
      new Promise((_, fail) => signal.addEventListener("abort", () => fail((aborted = new Error("the request was aborted")))))
    );
    await expect(run).rejects.toThrow(/cannot be used: the disk is full/);
    expect(aborted).toBeDefined();
    expect(uncaught).toEqual([]);
  });

  it("a write that fails under the lease is the error shown, not the release's that fails after it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cwsync-lease-"));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const write = new StateUnavailableError(`the state ${dir}/state.db cannot be used: the disk is full (putLedger)`, `${dir}/state.db`, "disk full");
    const run = withLease(failingLease(dir, { release: false }), systemClock, { stateDir: dir }, () => Promise.reject(write));
    await expect(run).rejects.toBe(write);
  });

  it("a daemon's renewal failure goes to onRenewError and renewal goes on; the work is not ended by it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cwsync-lease-"));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const errors: unknown[] = [];
    const result = await withLease(failingLease(dir, { release: true }), systemClock, { stateDir: dir, ttlMs: 150, onRenewError: (e) => void errors.push(e) }, async (_token, signal) => {
      await new Promise((done) => setTimeout(done, 250));
      return signal.aborted ? "aborted" : "ran";
    }).catch((e: Error) => `threw ${e.message}`);
    expect(result).toBe("ran");
    expect(errors.length).toBeGreaterThanOrEqual(2);
  });
});

describe("the daemon on a state corrupted under it", () => {
  it("notices at its next read and stays up: /healthz 200, /readyz 503 naming the state corrupt, one log line", { timeout: 60_000 }, async () => {
    const w = await reconcileWorld();
    expect((await w.run("reconcile", "--at", BEFORE)).code).toBe(0);
    const child = spawn(process.execPath, [CLI, "run", "--no-tui", "--listen", "127.0.0.1:0", "--repo", ".", "--interval", "1s", "--at", "2026-11-30T13:00:00Z"], {
      cwd: w.repo.dir, env: { ...process.env, ...w.env }, stdio: ["ignore", "ignore", "pipe"],
    });
    onTestFinished(() => void (child.exitCode === null && child.kill("SIGKILL")));
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (t: string) => (stderr += t));
    const logs = () => stderr.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as { msg: string; [k: string]: unknown });
    const url = (await waitFor("the daemon started", () => logs().find((l) => l.msg === "daemon started"), 20_000)).url as string;
    await waitFor("the first reconcile", async () => (await fetch(`${url}/readyz`)).status === 200, 20_000);

    // every page but the first (the header and the schema) overwritten, as a failing disk or a stray
    // write would; then a write to the header from another connection, so that the daemon's
    // connection drops its page cache and reads the file again
    const file = join(w.stateDir, "state.db");
    const raw = new (loadSqlite().DatabaseSync)(file);
    onTestFinished(() => raw.close());
    raw.exec("PRAGMA busy_timeout = 5000");
    expect(raw.prepare("PRAGMA wal_checkpoint(TRUNCATE)").get()).toMatchObject({ busy: 0 });
    const pageSize = Number((raw.prepare("PRAGMA page_size").get() as { page_size: number }).page_size);
    const size = statSync(file).size;
    const fd = openSync(file, "r+");
    writeSync(fd, Buffer.alloc(size - pageSize, "corrupt!"), 0, size - pageSize, pageSize);
    closeSync(fd);
    raw.exec("PRAGMA application_id = 7");

    const readyz = await waitFor("/readyz names the state", async () => {
      const r = await fetch(`${url}/readyz`);
      const text = await r.text();
      return r.status === 503 && text.includes("state.unavailable") ? text : undefined;
    }, 20_000);
    expect(readyz).toContain(`the state ${file} cannot be used: it is corrupt`);
    await new Promise((done) => setTimeout(done, 3_000));
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const status = (await (await fetch(`${url}/api/status`)).json()) as DaemonSnapshot;
    expect(status.unavailable?.[0]).toMatchObject({ source: "state", code: "state.unavailable", cause: "corrupt", file });
    expect(child.exitCode).toBeNull();
    expect(logs().filter((l) => l.msg === "state unavailable")).toHaveLength(1);
  });
});

describe.skipIf(!MOUNT)("the daemon on a state whose disk fills up (a tmpfs, as root)", () => {
  it("stays up, /healthz 200, /readyz 503 naming the state, sends nothing meanwhile; once space is freed it resumes and sends each due report once", { timeout: 120_000 }, async () => {
    const w = await reconcileWorld();
    const dir = stateOnTmpfs(w, "24m");
    expect((await w.run("reconcile", "--at", BEFORE)).code).toBe(0);
    w.clock.now = Date.parse("2026-12-01T06:05:00Z");
    const child = spawn(process.execPath, [CLI, "run", "--no-tui", "--listen", "127.0.0.1:0", "--repo", ".", "--interval", "1s", "--at", "2026-12-01T05:59:30Z"], {
      cwd: w.repo.dir, env: { ...process.env, ...w.env }, stdio: ["ignore", "ignore", "pipe"],
    });
    onTestFinished(() => void (child.exitCode === null && child.kill("SIGKILL")));
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (t: string) => (stderr += t));
    let exitCode: number | null | undefined;
    child.on("close", (code) => (exitCode = code));
    const logs = () => stderr.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as { msg: string; [k: string]: unknown });
    const started = await waitFor("the daemon started", () => logs().find((l) => l.msg === "daemon started"), 20_000);
    // the daemon's clock reads 05:59:30 at its start: December billing falls due 30 s later
    const dueAt = Date.now() + 30_000;
    const url = started.url as string;
    await waitFor("the first reconcile", async () => (await fetch(`${url}/readyz`)).status === 200, 20_000);

    const filler = join(dir, "filler");
    try {
      execFileSync("dd", ["if=/dev/zero", `of=${filler}`, "bs=64k"], { stdio: "ignore" });
    } catch {
      // dd ends with "No space left on device": that is the point
    }
    const readyz = await waitFor("/readyz names the state", async () => {
      const r = await fetch(`${url}/readyz`);
      const text = await r.text();
      return r.status === 503 && text.includes("state.unavailable") ? text : undefined;
    }, 30_000);
    expect(readyz).toContain("the disk is full");
    expect(readyz).toContain(join(dir, "state.db"));
    const ticketsBefore = w.cw.state.tickets.length;
    // the billing day arrives while the disk is full: nothing goes out
    await new Promise((done) => setTimeout(done, Math.max(3_000, dueAt + 3_000 - Date.now())));
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const status = (await (await fetch(`${url}/api/status`)).json()) as DaemonSnapshot;
    expect(status.unavailable?.[0]).toMatchObject({ source: "state", code: "state.unavailable", cause: "disk full", file: join(dir, "state.db") });
    expect(status.customers.length).toBeGreaterThan(0);
    expect(w.cw.state.tickets.length).toBe(ticketsBefore);
    expect(exitCode).toBeUndefined();
    expect(logs().filter((l) => l.msg === "state unavailable")).toHaveLength(1);
    expect(logs().some((l) => l.msg === "connectwise unavailable")).toBe(false);
    expect(logs().some((l) => l.msg === "report sent" && l.report === "billing" && l.period === "2026-12")).toBe(false);

    rmSync(filler);
    await waitFor("ready again", async () => (await fetch(`${url}/readyz`)).status === 200, 30_000);
    await waitFor("December billing sent", () => logs().some((l) => l.msg === "report sent" && l.report === "billing" && l.period === "2026-12"), 30_000);
    await new Promise((done) => setTimeout(done, 3_000));
    const summaries = w.cw.state.tickets.slice(ticketsBefore).map((t) => t.summary);
    expect(summaries.length).toBeGreaterThan(0);
    expect(new Set(summaries).size).toBe(summaries.length);
    expect(logs().filter((l) => l.msg === "state recovered")).toHaveLength(1);

    child.kill("SIGTERM");
    await waitFor("stopped", () => exitCode !== undefined, 20_000);
    expect(exitCode).toBe(0);
  });
});
