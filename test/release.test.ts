import { pino } from "pino";
import { describe, expect, it, onTestFinished } from "vitest";
import { systemClock } from "../src/adapters/clock-system.ts";
import { createDeps } from "../src/app/deps.ts";
import type { DaemonControl } from "../src/daemon/http-server.ts";
import { createMetrics } from "../src/daemon/metrics.ts";
import { runDaemon } from "../src/daemon/run-daemon.ts";
import { reconcileWorld, type ReconcileWorld } from "./helpers/reconcile-world.ts";
import { waitFor } from "./helpers/wait-for.ts";

/** The first reconcile: every customer's history starts here. */
const T0 = "2026-11-30T12:00:00Z";
/** Bluewater bills on the 1st: Hosted Email Security 61 → 54 and Worry-Free 39 → fewer are decreases, held (`decreases: hold`). */
const T1 = "2026-12-01T12:00:00Z";
/** Later the same day: the month's billing is done, nothing more is due for it. */
const T1_LATER = "2026-12-01T18:00:00Z";

const HES = 9903;
const WFBS = 9904;

interface CycleJson {
  customers: { name: string; state: string; reason: string; message: string }[];
}

async function stateOf(w: ReconcileWorld, at: string, customer: string): Promise<{ state: string; reason: string; message: string }> {
  const r = await w.run("reconcile", "--at", at, "--format", "json");
  expect(r.code).toBe(0);
  return (JSON.parse(r.stdout) as CycleJson).customers.find((c) => c.name === customer)!;
}

const quantities = (w: ReconcileWorld) => w.cw.state.additions.filter((a) => a.id === HES || a.id === WFBS).map((a) => a.quantity);

/** A world whose Bluewater billing of 2026-12 went out holding two decreases. */
async function heldWorld(): Promise<{ w: ReconcileWorld; held: number[] }> {
  const w = await reconcileWorld();
  expect((await w.run("reconcile", "--at", T0)).code).toBe(0);
  expect(await stateOf(w, T1, "bluewater-dental")).toMatchObject({ state: "pending", reason: "decrease.held" });
  expect(quantities(w)).toEqual([61, 39]);
  const billed = w.cw.state.tickets.find((t) => t.summary.startsWith("Billing 2026-12 Bluewater"))!;
  const note = w.cw.state.notes.find((n) => n.ticketId === billed.id)!.text;
  const held = [/Hosted Email Security .*: 61 → (\d+) — decrease held/, /Worry-Free .*: 39 → (\d+) — decrease held/].map((re) => Number(re.exec(note)![1]));
  return { w, held };
}

describe("cwsync release: a decrease held under `decreases: hold` waits for a human", () => {
  it("keeps the customer pending decrease.held at every reconcile after the billing, in reconcile and in status", async () => {
    const { w } = await heldWorld();
    const again = await stateOf(w, T1_LATER, "bluewater-dental");
    expect(again).toMatchObject({ state: "pending", reason: "decrease.held" });
    expect(again.message).toContain("Hosted Email Security: 61 → 54 seats is a decrease; held for a human (decreases: hold), since billing 2026-12: `cwsync release bluewater-dental` applies it");
    const status = JSON.parse((await w.run("status", "bluewater-dental", "--format", "json")).stdout) as { status: { state: string; reason: string }; heldDecreases: { product: string }[] };
    expect(status.status).toMatchObject({ state: "pending", reason: "decrease.held" });
    expect(status.heldDecreases.map((h) => h.product)).toEqual(["hes", "wfbs-adv"]);
    expect(quantities(w)).toEqual([61, 39]);
  });

  it("applies every held decrease of the latest billing once, journaled with who ran it; then the customer is ready", async () => {
    const { w, held } = await heldWorld();
    const before = w.writes().length;
    const r = await w.run("release", "bluewater-dental", "--by", "alice");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe([
      `bluewater-dental: Hosted Email Security (hes) released: addition #${HES} 61 → ${held[0]} seats (billing 2026-12)`,
      `bluewater-dental: Worry-Free Services Advanced (wfbs-adv) released: addition #${WFBS} 39 → ${held[1]} seats (billing 2026-12)`,
      "",
    ].join("\n"));
    expect(quantities(w)).toEqual(held);
    // one absolute PATCH per addition, nothing else
    expect(w.writes().slice(before).map((q) => `${q.method} ${q.path}`)).toEqual([
      "PATCH /finance/agreements/802/additions/9903", `PATCH /finance/agreements/${w.cw.state.additions.find((a) => a.id === WFBS)!.agreementId}/additions/9904`,
    ]);
    const history = await w.run("history", "bluewater-dental");
    expect(history.stdout).toMatch(/send {3}held decrease released .*product=hes additionId=9903 from=61 to=54 by=alice/);
    expect(history.stdout).toMatch(/held decrease released .*product=wfbs-adv .*by=alice/);
    expect(await stateOf(w, T1_LATER, "bluewater-dental")).toMatchObject({ state: "ready", reason: "ok" });
    const view = JSON.parse((await w.run("status", "bluewater-dental", "--format", "json")).stdout) as { status: { state: string }; heldDecreases: unknown[] };
    expect(view.status.state).toBe("ready");
    expect(view.heldDecreases).toEqual([]);

    // nothing held any more: said, exit 0, nothing written anywhere
    const writes = w.writes().length;
    const journal = (JSON.parse((await w.run("history", "bluewater-dental", "--format", "json")).stdout) as { journal: unknown[] }).journal.length;
    const again = await w.run("release", "bluewater-dental", "--by", "bob");
    expect(again.code).toBe(0);
    expect(again.stdout).toBe("bluewater-dental: no held decrease to release; nothing changed\n");
    expect(w.writes().length).toBe(writes);
    expect((JSON.parse((await w.run("history", "bluewater-dental", "--format", "json")).stdout) as { journal: unknown[] }).journal.length).toBe(journal);
  });

  it("releases one product when asked, the other staying held", async () => {
    const { w, held } = await heldWorld();
    const r = await w.run("release", "bluewater-dental", "hes", "--by", "carol", "--format", "json");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ customer: "bluewater-dental", by: "carol", released: [{ product: "hes", from: 61, to: held[0] }] });
    expect(quantities(w)).toEqual([held[0], 39]);
    const still = await stateOf(w, T1_LATER, "bluewater-dental");
    expect(still).toMatchObject({ state: "pending", reason: "decrease.held" });
    expect(still.message).toMatch(/^Worry-Free/);
    expect((await w.run("release", "bluewater-dental", "--month", "2026-13")).code).toBe(64);
  });
});

/** `cwsync run` in this process on the world's fakes, acting at `at`; stopped when the test ends. */
async function daemonInProcess(w: ReconcileWorld, at: string): Promise<{ url: string; control: DaemonControl }> {
  const stop = new AbortController();
  let listening!: (d: { url: string; control: DaemonControl }) => void;
  const started = new Promise<{ url: string; control: DaemonControl }>((resolve) => (listening = resolve));
  const exited = runDaemon(
    {
      repo: ".", intervalMs: 3_600_000, pollIntervalMs: 3_600_000, listen: { host: "127.0.0.1", port: 0 }, allowMassRemoval: false, sandbox: false,
      settleMs: 0, connectwise: { concurrency: 8, ratePerSecond: 1000, burst: 1000 }, at: new Date(at),
    },
    { io: createDeps({ stdout: () => undefined, stderr: () => undefined, env: w.env, cwd: w.repo.dir }), log: pino({ level: "silent" }), metrics: createMetrics(), clock: systemClock, stop: stop.signal, onListening: listening },
  );
  onTestFinished(async () => {
    stop.abort();
    await exited;
  });
  return Promise.race([started, exited.then((code) => Promise.reject(new Error(`the daemon exited with ${code}`)))]);
}

describe("release through the daemon (the dashboard's d, release --url)", () => {
  it("releases under the daemon's lease, journaled with --by, and the daemon's status turns ready", async () => {
    const { w, held } = await heldWorld();
    const { url, control } = await daemonInProcess(w, T1_LATER);
    const stateOf = () => control.snapshot().customers.find((c) => c.name === "bluewater-dental")?.status;
    await waitFor("the daemon's first reconcile", () => stateOf()?.reason === "decrease.held");
    // the metrics count it among the pending (cwsync_customers{state="pending"})
    expect(control.snapshot().states.pending).toBeGreaterThanOrEqual(1);
    expect(quantities(w)).toEqual([61, 39]);
    const r = await w.run("release", "bluewater-dental", "--url", url, "--by", "dave");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`bluewater-dental: Hosted Email Security (hes) released: addition #${HES} 61 → ${held[0]} seats (billing 2026-12)`);
    expect(quantities(w)).toEqual(held);
    await waitFor("bluewater-dental ready after the release", () => stateOf()?.state === "ready");
    expect(stateOf()).toMatchObject({ state: "ready", reason: "ok" });
    expect((await w.run("history", "bluewater-dental")).stdout).toMatch(/held decrease released .*product=hes .*by=dave/);
    const again = await w.run("release", "bluewater-dental", "--url", url);
    expect(again.stdout).toBe("bluewater-dental: no held decrease to release; nothing changed\n");
    expect((await w.run("release", "bluewater-dental", "--url", url, "--sandbox")).code).toBe(64);
  });
});
