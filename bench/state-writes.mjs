// Fenced ledger writes per second through the StateStore (the write every send makes twice: `open`
// before the call, `done` after it), each its own IMMEDIATE transaction with the lease check, on a
// WAL database with synchronous=FULL — so the figure is bounded by fsync, as in production.
// Run alone: `node bench/state-writes.mjs` (after `npm run build`); BENCH_STATE_WRITES=2000 sets the count.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;

export async function benchStateWrites(n) {
  const { openStateStore } = await import(join(root, "dist/adapters/state-sqlite/open-state-store.js"));
  // BENCH_STATE_TMP=/dev/shm leaves out the disk (fsync is free on tmpfs): the drivers' own cost
  const dir = mkdtempSync(join(process.env.BENCH_STATE_TMP ?? tmpdir(), "cwsync-bench-state-"));
  try {
    const store = openStateStore(dir);
    const lease = store.acquireLease(`${process.pid}@bench`, 60_000, Date.now());
    if (!lease.ok) throw new Error("lease not taken");
    const at = new Date().toISOString();
    const entry = (i, state) => ({
      key: `cws-${i.toString(16).padStart(10, "0")}`, customer: `c-${i % 5000}`, report: "billing", periodKey: "2026-12",
      trigger: "schedule", state, dueAt: at, payload: { quantities: { "wfbs-svc": i % 100 } }, attempts: 1, createdAt: at, updatedAt: at,
    });
    const started = process.hrtime.bigint();
    for (let i = 0; i < n; i++) store.putLedger(entry(i, i % 2 === 0 ? "open" : "done"), lease.token);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const readStarted = process.hrtime.bigint();
    const keys = Array.from({ length: n }, (_, i) => `cws-${i.toString(16).padStart(10, "0")}`);
    const read = store.ledgerEntries(keys).length;
    const readMs = Number(process.hrtime.bigint() - readStarted) / 1e6;
    store.close();
    if (read !== n) throw new Error(`read back ${read} of ${n} entries`);
    return { n, seconds, perSecond: n / seconds, readMs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function printStateWrites(r) {
  console.log(`\n| fenced ledger writes (${process.version}) | entries | wall | per second | read back all |\n| --- | --- | --- | --- | --- |`);
  console.log(`| putLedger, one transaction each | ${r.n} | ${r.seconds.toFixed(2)} s | ${r.perSecond.toFixed(0)} | ${r.readMs.toFixed(0)} ms |`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  printStateWrites(await benchStateWrites(Number(process.env.BENCH_STATE_WRITES ?? 2000)));
}
