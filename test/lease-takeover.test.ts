import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { describe, expect, it, onTestFinished } from "vitest";
import { bootedAt, isZombie, leaseTakeover, type LeaseRow } from "../src/adapters/state-sqlite/lease-rules.ts";
import { openStateStore } from "../src/adapters/state-sqlite/open-state-store.ts";
import type { StateStore } from "../src/ports/state-store.ts";
import { reconcileWorld, type ReconcileWorld } from "./helpers/reconcile-world.ts";

// A SIGKILLed cwsync whose parent does not reap it stays a zombie, and `kill -0` succeeds on a
// zombie; after a reboot its pid names some other process. Either way its lease is taken at once.

const T0 = "2026-11-30T12:00:00Z";
const YEAR_MS = 365 * 24 * 3_600_000;
const hasProc = (() => {
  try {
    return readFileSync("/proc/self/stat", "utf8").length > 0;
  } catch {
    return false;
  }
})();

function openStore(w: ReconcileWorld): StateStore {
  const store = openStateStore(w.stateDir);
  onTestFinished(() => store.close());
  return store;
}

function killOnFinish(child: ChildProcess): void {
  onTestFinished(() => void (child.exitCode === null && child.kill("SIGKILL")));
}

/** A zombie: a python parent forks a child that exits at once and never waits for it. */
async function zombiePid(): Promise<number> {
  const parent = spawn("python3", ["-c", "import os,time\npid=os.fork()\nif pid==0: os._exit(0)\nprint(pid, flush=True)\ntime.sleep(60)"], { stdio: ["ignore", "pipe", "inherit"] });
  killOnFinish(parent);
  const pid = await new Promise<number>((resolve, reject) => {
    parent.stdout!.setEncoding("utf8").once("data", (t: string) => resolve(Number(t.trim())));
    parent.once("error", reject);
  });
  // the child exits right after the fork: wait until the kernel shows it as a zombie
  for (let i = 0; i < 100 && !isZombie(pid); i++) await new Promise((r) => setTimeout(r, 20));
  return pid;
}

/** A process that runs (as a pid reused after a reboot would). */
function livePid(): number {
  const child = spawn("sleep", ["60"], { stdio: "ignore" });
  killOnFinish(child);
  return child.pid!;
}

const takeovers = (store: StateStore) => store.journal().filter((e) => e.kind === "lease");

describe.skipIf(!hasProc)("the lease of a holder that no longer runs, on Linux", () => {
  it("is taken from a zombie at once, and the takeover is journaled", async () => {
    const w = await reconcileWorld();
    const zombie = await zombiePid();
    expect(isZombie(zombie)).toBe(true);
    const store = openStore(w);
    const held = store.acquireLease(`${zombie}@${hostname()}`, 60_000, Date.now());
    expect(held.ok).toBe(true);

    const r = await w.run("reconcile", "--at", T0);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(takeovers(store)).toEqual([
      expect.objectContaining({ message: "lease taken over from a holder that no longer runs", data: expect.objectContaining({ previous: `${zombie}@${hostname()}`, why: "zombie" }) }),
    ]);
  });

  it("is taken when it was acquired before this machine booted, though its pid runs again", async () => {
    const w = await reconcileWorld();
    const boot = bootedAt()!;
    const reused = livePid();
    const store = openStore(w);
    // taken a minute before the boot, valid for a year: only the boot says its holder is gone
    expect(store.acquireLease(`${reused}@${hostname()}`, YEAR_MS, boot - 60_000).ok).toBe(true);

    const r = await w.run("reconcile", "--at", T0);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(takeovers(store).map((e) => (e.data as { why: string }).why)).toEqual(["before-boot"]);
  });

  it("is not taken from a live process of this boot, nor from another host's", async () => {
    const w = await reconcileWorld();
    const live = livePid();
    const store = openStore(w);
    const held = store.acquireLease(`${live}@${hostname()}`, 60_000, Date.now());
    if (!held.ok) throw new Error("lease not taken");

    const r = await w.run("reconcile", "--at", T0);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`another cwsync is writing to the state in ${w.stateDir} (${live}@${hostname()}`);
    store.releaseLease(held.token);

    const zombie = await zombiePid();
    expect(store.acquireLease(`${zombie}@elsewhere`, 60_000, Date.now()).ok).toBe(true);
    expect((await w.run("reconcile", "--at", T0)).code).toBe(1);
    expect(takeovers(store)).toEqual([]);
  });
});

describe("the takeover rule", () => {
  const now = Date.parse("2026-12-01T12:00:00Z");
  const row = (holder: string, acquired = now - 1000): LeaseRow => ({ holder, token: 3, acquired_at: new Date(acquired).toISOString(), expires_at: new Date(now + 30_000).toISOString() });
  const probe = (o: { runs?: boolean; boot?: number }) => ({ pidRuns: () => o.runs ?? true, bootedAt: () => o.boot });

  it("keeps today's behaviour where there is no /proc: a pid that answers kill -0 holds its lease", () => {
    expect(leaseTakeover(row("42@h"), "7@h", now, probe({}))).toBeUndefined();
    expect(leaseTakeover(row("42@h", now - YEAR_MS), "7@h", now, probe({}))).toBeUndefined();
    expect(leaseTakeover(row("42@h"), "7@h", now, probe({ runs: false }))).toBe("holder-exited");
  });

  it("applies the boot only on a clock past the boot (a test's clock in the past says nothing), and only on the same host", () => {
    const boot = now - 3_600_000;
    expect(leaseTakeover(row("42@h", boot - 1), "7@h", now, probe({ boot }))).toBe("holder-before-boot");
    expect(leaseTakeover(row("42@h", boot + 1), "7@h", now, probe({ boot }))).toBeUndefined();
    expect(leaseTakeover(row("42@h", boot - 1), "7@h", boot - 1, probe({ boot }))).toBeUndefined();
    expect(leaseTakeover(row("42@other", boot - 1), "7@h", now, probe({ boot, runs: false }))).toBeUndefined();
  });

  it.skipIf(!hasProc)("sees no zombie in a running process", () => {
    expect(isZombie(process.pid)).toBe(false);
    expect(bootedAt()).toBeLessThan(Date.now());
  });
});
