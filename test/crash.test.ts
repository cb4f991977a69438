import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { openStateStore } from "../src/adapters/state-sqlite/open-state-store.ts";
import { sendKey } from "../src/core/send-key.ts";
import type { LedgerEntry } from "../src/ports/state-store.ts";
import { writeBulkCustomers } from "../src/sandbox/bulk-customers.ts";
import type { FaultSpec } from "../src/sandbox/faults.ts";
import { seedLmpiFromCustomers } from "../src/sandbox/lmpi-seed.ts";
import { loadSandboxCustomers } from "../src/sandbox/seed.ts";
import { tempRepo } from "./helpers/git-repo.ts";
import { reconcileWorld, type ReconcileWorld } from "./helpers/reconcile-world.ts";

// Crash and fault tests of DESIGN §3 "Exactly once": the real CLI is killed mid-run, or ConnectWise
// misbehaves, and after reconciling until done every customer is billed exactly once.

const CLI = resolve(import.meta.dirname, "../dist/cli/main.js");
/** Before the billing day: the first reconcile applies the customers, nothing is back-filled. */
const BEFORE = "2027-01-31T12:00:00Z";
/** Day 1, after 06:00 UTC: every bulk customer's February billing is due. */
const DUE = "2027-02-01T07:00:00Z";
const PERIOD = "2027-02";
const LEASE_BUSY = "another cwsync is writing";

/** mulberry32: the kill points are random but the same on every run of the test. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` bulk customers due on day 1, in a real git repo, with the fakes seeded from them. */
async function bulkWorld(n: number): Promise<ReconcileWorld> {
  const dir = mkdtempSync(join(tmpdir(), "cwsync-bulk-"));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  // with `decreases: hold` a lower seat count is held, not applied: every addition must end at the LMP count
  const global = readFileSync(resolve(import.meta.dirname, "../customers/_global.yaml"), "utf8");
  expect(global).toContain("decreases: hold");
  writeFileSync(join(dir, "_global.yaml"), global.replace("decreases: hold", "decreases: apply"));
  writeBulkCustomers(dir, n, { dayOfMonth: 1, globalFrom: join(dir, "_global.yaml") });
  return reconcileWorld({ repo: tempRepo(join(dir, "customers")) });
}

interface ChildRun {
  code: number | null;
  killed: boolean;
  /** ConnectWise writes (POST/PATCH) that arrived while this process ran, up to the kill. */
  writes: number;
  stderr: string;
}

/**
 * `cwsync reconcile --at <at>` as a separate process with the deployment's environment. With
 * `kill`, SIGKILL after `afterMs`, or as soon as the `afterWrites`-th write reaches ConnectWise
 * (the fake commits it, the process dies before it can record the answer).
 */
function reconcileProcess(w: ReconcileWorld, at: string, kill?: { afterMs: number } | { afterWrites: number }): Promise<ChildRun> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [CLI, "reconcile", "--at", at, "--format", "json"], {
      cwd: w.repo.dir, env: { ...process.env, ...w.env }, stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (t: string) => (stderr += t));
    let seen = w.cw.requests.length;
    let writes = 0;
    let killed = false;
    const watch = setInterval(() => {
      for (; seen < w.cw.requests.length; seen++) if (w.cw.requests[seen].method !== "GET") writes++;
      if (kill && "afterWrites" in kill && !killed && writes >= kill.afterWrites) killed = child.kill("SIGKILL");
    }, 1);
    const timer = kill && "afterMs" in kill ? setTimeout(() => (killed = child.kill("SIGKILL")), kill.afterMs) : undefined;
    child.on("error", fail);
    // "close": the process is reaped and its stderr read, so its pid is gone when the next one starts
    child.on("close", (code, signal) => {
      clearInterval(watch);
      clearTimeout(timer);
      done({ code, killed: signal === "SIGKILL", writes, stderr });
    });
  });
}

const billingKeys = (w: ReconcileWorld) => loadSandboxCustomers(w.repo.dir).customers.map((c) => sendKey(c.name, "billing", PERIOD));

/** What the state directory's ledger says about this month's billing sends. */
function ledger(w: ReconcileWorld): { entries: LedgerEntry[]; unfinished: LedgerEntry[] } {
  const store = openStateStore(w.stateDir);
  try {
    return { entries: store.ledgerEntries(billingKeys(w)), unfinished: store.unfinishedEntries() };
  } finally {
    store.close();
  }
}

const ticketsWithKey = (w: ReconcileWorld, key: string) => w.cw.state.tickets.filter((t) => t.summary.endsWith(` ${key}`));

/** Unfinished ledger entries whose ticket ConnectWise already holds: sent, but not recorded as sent. */
const sentNotRecorded = (w: ReconcileWorld) => ledger(w).unfinished.filter((e) => ticketsWithKey(w, e.key).length > 0).length;

/**
 * The month is billed exactly once: per customer one ticket carrying its send key, on its
 * company; per billed product exactly one live addition on the agreement, holding the seat count
 * the fake LMPI serves for the month; every ledger entry done. Lists every problem, not the first.
 */
function expectBilledExactlyOnce(w: ReconcileWorld): void {
  const { customers, global } = loadSandboxCustomers(w.repo.dir);
  const [year, month] = PERIOD.split("-").map(Number);
  const rows = seedLmpiFromCustomers(customers, global)(year, month);
  const problems: string[] = [];
  for (const c of customers) {
    const key = sendKey(c.name, "billing", PERIOD);
    const tickets = ticketsWithKey(w, key);
    if (tickets.length !== 1) problems.push(`${c.name}: ${tickets.length} tickets with ${key}`);
    else if (tickets[0].company.identifier !== c.companyId) problems.push(`${c.name}: ticket on company ${tickets[0].company.identifier}`);
    const agreements = w.cw.state.agreements.filter((a) => a.company.identifier === c.companyId);
    if (agreements.length !== 1) {
      problems.push(`${c.name}: ${agreements.length} agreements`);
      continue;
    }
    for (const product of c.reports.find((r) => r.report === "billing")?.products ?? []) {
      const p = global.products[product];
      const row = rows.find((r) => r.customer === c.lmpCustomer && r.product_name === p.lmp.productName);
      const expected = p.quantity === "provisioned" ? row?.provisioned : row?.used;
      const live = w.cw.state.additions.filter((a) =>
        a.agreementId === agreements[0].id && a.product.identifier === p.catalogItem && a.cancelledDate === null && a.agreementStatus !== "Cancelled");
      if (live.length !== 1) problems.push(`${c.name}: ${live.length} live ${p.catalogItem} additions on agreement #${agreements[0].id}`);
      else if (expected === undefined || live[0].quantity !== expected) problems.push(`${c.name}: ${p.catalogItem} quantity ${live[0].quantity}, LMP says ${expected}`);
    }
  }
  // no ticket for anyone else, and nothing left to resolve
  expect(w.cw.state.tickets.filter((t) => t.summary.startsWith("Billing")).length).toBe(customers.length);
  const { entries, unfinished } = ledger(w);
  expect(unfinished).toEqual([]);
  expect(entries.filter((e) => e.state === "done").length).toBe(customers.length);
  expect(problems).toEqual([]);
}

/** Runs the CLI without killing it until it exits 0 with every send of the month done; each run with what it left unfinished. */
async function reconcileUntilDone(w: ReconcileWorld, maxRuns: number): Promise<(ChildRun & { left: LedgerEntry[] })[]> {
  const runs: (ChildRun & { left: LedgerEntry[] })[] = [];
  while (runs.length < maxRuns) {
    const run = await reconcileProcess(w, DUE);
    const { entries, unfinished } = ledger(w);
    runs.push({ ...run, left: unfinished });
    if (run.code === 0 && unfinished.length === 0 && entries.every((e) => e.state === "done") && entries.length === billingKeys(w).length) break;
  }
  return runs;
}

describe("exactly once under crashes and faults", () => {
  it("200 customers, the CLI SIGKILLed at random points of the billing run: one ticket and the LMP quantity per customer, never two", async () => {
    const w = await bulkWorld(200);
    const first = await reconcileProcess(w, BEFORE);
    expect(first.stderr).not.toContain("error");
    expect(first.code).toBe(0);
    expect(w.writes()).toEqual([]); // history starts here: nothing back-filled

    const random = seeded(20270201);
    const kills: ChildRun[] = [];
    let caughtBetween = 0;
    for (let i = 0; i < 8; i++) {
      // mostly a random write (the fake commits it, the process dies before recording the answer); sometimes a random instant
      const kill = random() < 0.7 ? { afterWrites: 1 + Math.floor(random() * 50) } : { afterMs: 30 + Math.floor(random() * 2500) };
      const run = await reconcileProcess(w, DUE, kill);
      // the dead holder's lease is taken over at once: no run waits for it or gives up
      expect(run.stderr).not.toContain(LEASE_BUSY);
      kills.push(run);
      caughtBetween += sentNotRecorded(w);
    }
    const rest = await reconcileUntilDone(w, 4);
    for (const r of rest) expect(r.stderr).not.toContain(LEASE_BUSY);
    expect(rest.at(-1)!.code).toBe(0);

    // not vacuous: kills landed mid-send, some tickets existed while their entry was still open, and entries were resumed
    expect(kills.filter((k) => k.killed && k.writes > 0).length).toBeGreaterThanOrEqual(4);
    expect(caughtBetween).toBeGreaterThan(0);
    expect(ledger(w).entries.filter((e) => e.attempts > 1).length).toBeGreaterThan(0);
    expectBilledExactlyOnce(w);

    // a reconcile after all that writes nothing
    const before = w.writes().length;
    expect((await reconcileProcess(w, DUE)).code).toBe(0);
    expect(w.writes().length).toBe(before);
  }, 180_000);

  it("connections reset after ConnectWise committed a create: the outcome is unknown, and later reconciles resolve it by looking, not by creating again", async () => {
    const w = await bulkWorld(60);
    expect((await reconcileProcess(w, BEFORE)).code).toBe(0);
    w.cw.faults.add({ kind: "reset-after-commit", method: "POST", probability: 0.3 });

    const random = seeded(7);
    let unknown = 0;
    for (let i = 0; i < 3; i++) {
      const run = await reconcileProcess(w, DUE, { afterWrites: 1 + Math.floor(random() * 30) });
      expect(run.stderr).not.toContain(LEASE_BUSY);
      unknown += ledger(w).unfinished.filter((e) => e.state === "unknown").length;
    }
    const rest = await reconcileUntilDone(w, 10);
    expect(rest.at(-1)!.code).toBe(0);
    unknown += rest.flatMap((r) => r.left).filter((e) => e.state === "unknown").length;

    const reset = w.cw.requests.filter((r) => r.fault === "reset-after-commit");
    expect(reset.filter((r) => r.path === "/service/tickets").length).toBeGreaterThan(0);
    expect(reset.filter((r) => r.path.endsWith("/additions")).length).toBeGreaterThan(0);
    expect(unknown).toBeGreaterThan(0);
    expectBilledExactlyOnce(w);
  }, 180_000);

  it("30% of ConnectWise requests answered 429, 500, 502 or 503: reconciling until done bills each customer once, at the LMP quantity", async () => {
    const w = await bulkWorld(40);
    expect((await w.run("reconcile", "--at", BEFORE)).code).toBe(0);
    // four faults tried in turn; each probability is conditional on the ones before missing, so each status hits 7.5% of requests
    const statuses: FaultSpec[] = [
      { kind: "status", status: 429, retryAfter: 0 },
      { kind: "status", status: 500 },
      { kind: "status", status: 502 },
      { kind: "status", status: 503 },
    ];
    statuses.forEach((s, i) => w.cw.faults.add({ ...s, probability: 0.075 / (1 - 0.075 * i) }));

    // at most 15 runs: expectBilledExactlyOnce below fails when they were not enough
    const keys = billingKeys(w);
    for (let runs = 0; runs < 15; runs++) {
      await w.run("reconcile", "--at", DUE);
      const { entries, unfinished } = ledger(w);
      if (unfinished.length === 0 && entries.length === keys.length && entries.every((e) => e.state === "done")) break;
    }
    // the faults hit: reads met 500s (retried like 503s) and creates met 5xx/429 (their outcome unknown until looked up)
    const hit = w.cw.requests.filter((r) => r.fault === "status");
    expect(hit.length / w.cw.requests.length).toBeGreaterThan(0.2);
    expect(hit.filter((r) => r.method === "GET" && r.status === 500).length).toBeGreaterThan(0);
    expect(hit.filter((r) => r.method === "POST").length).toBeGreaterThan(0);
    w.cw.faults.clear();
    expectBilledExactlyOnce(w);
  }, 180_000);
});
