import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it, onTestFinished, vi } from "vitest";
import { createDeps, type Deps } from "../src/app/deps.ts";
import { reconcileOnce } from "../src/app/reconcile.ts";
import type { ConnectWise } from "../src/ports/connectwise.ts";
import { writeBulkCustomers } from "../src/sandbox/bulk-customers.ts";
import { tempRepo } from "./helpers/git-repo.ts";
import { reconcileWorld } from "./helpers/reconcile-world.ts";

// billing is due on day 1 at 06:00 UTC (writeBulkCustomers), for customers applied before it
const BEFORE = "2026-11-30T12:00:00Z";
const AFTER = "2026-12-01T06:01:00Z";

// the V8 settings a reconcile makes, seen at the edge (they are still made)
const flagsSet: string[] = [];
vi.mock("node:v8", async (original) => {
  const v8 = await original<typeof import("node:v8")>();
  return { ...v8, setFlagsFromString: (flag: string) => (flagsSet.push(flag), v8.setFlagsFromString(flag)) };
});

/** V8's full collection, from a test: the flag makes `gc` a global of every new context. */
function fullGc(): void {
  setFlagsFromString("--expose-gc");
  (runInNewContext("gc") as () => void)();
}

describe("a reconcile's memory while it sends", () => {
  // at month-end the sends take ConnectWise's pace (~25 minutes at 5,000 customers): what the run
  // holds through them is its peak; the files (their texts) and what was loaded from them are
  // needed only to assemble the desired state (issue 16: ~10 MiB at 5,000 customers)
  it("lets the revision's files go before the first ticket is created", async () => {
    const seed = mkdtempSync(join(tmpdir(), "cwsync-memory-"));
    onTestFinished(() => rmSync(seed, { recursive: true, force: true }));
    writeBulkCustomers(seed, 3);
    const w = await reconcileWorld({ repo: tempRepo(join(seed, "customers")) });
    expect((await w.run("reconcile", "--at", BEFORE)).code).toBe(0);
    w.clock.now = Date.parse(AFTER);
    const real = createDeps({ cwd: w.repo.dir, env: w.env, stdout: () => undefined, stderr: () => undefined });
    let files: WeakRef<object> | undefined;
    const heldAtTickets: boolean[] = [];
    const preferringMemory: boolean[] = [];
    const watched = (cw: ConnectWise): ConnectWise => ({
      ...bound(cw),
      createTicket: (ticket, signal) => {
        fullGc();
        heldAtTickets.push(files?.deref() !== undefined);
        preferringMemory.push(flagsSet.includes("--optimize-for-size") && flagsSet.includes("--no-flush-bytecode"));
        return cw.createTicket(ticket, signal);
      },
    });
    const deps: Deps = {
      ...real,
      readRevision: async (opts) => {
        const revision = await real.readRevision(opts);
        files = new WeakRef(revision.files);
        return revision;
      },
      openSources: async (opts) => {
        const sources = await real.openSources(opts);
        return { ...sources, cw: watched(sources.cw) };
      },
    };
    const report = await reconcileOnce({ repo: ".", at: new Date(AFTER), dryRun: false, allowMassRemoval: false, sandbox: false }, deps);
    expect(report.outcomes.map((o) => o.result)).toEqual(["done", "done", "done"]);
    expect(files).toBeDefined();
    expect(heldAtTickets).toEqual([false, false, false]);
    // V8 favours memory (a run that sends waits on ConnectWise) but keeps the code it compiled
    expect(preferringMemory).toEqual([true, true, true]);
  });
});

/** Every method of `cw`, bound to it (a spread copies own properties only, and a class's methods are not). */
function bound(cw: ConnectWise): ConnectWise {
  const out: Record<string, unknown> = {};
  for (let o: object | null = cw; o && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
    for (const k of Object.getOwnPropertyNames(o)) {
      const v = (cw as unknown as Record<string, unknown>)[k];
      if (k !== "constructor" && !(k in out)) out[k] = typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(cw) : v;
    }
  }
  return out as unknown as ConnectWise;
}
