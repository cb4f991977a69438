// Fenced ledger writes per second through the StateStore (the write every send makes twice: `open`
// before the call, `done` after it), each its own IMMEDIATE transaction with the lease check, on a
// WAL database with synchronous=FULL — so the figure is bounded by fsync, as in production.
// The reference, measured in the same run: a plain node:sqlite loop of the same number of
// single-row INSERT transactions (BEGIN IMMEDIATE, INSERT, COMMIT) with the same pragmas (WAL,
// synchronous=FULL, busy_timeout), a row of the same size, in a fresh database in the same
// directory. The two alternate, BENCH_STATE_RUNS times each (default 5); the medians are compared.
// Run alone: `node bench/state-writes.mjs` (after `npm run build`); BENCH_STATE_WRITES (default
// 20,000) sets the count, BENCH_STATE_TMP=/dev/shm leaves out the disk (fsync is free on tmpfs).
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { command, int, machine, median, printTable, ratio, settings, shrunk } from "./table.mjs";

const root = new URL("..", import.meta.url).pathname;
const { DatabaseSync } = createRequire(import.meta.url)("node:sqlite");

export const FULL_WRITES = 20_000;
const RUNS = Number(process.env.BENCH_STATE_RUNS ?? 5);
const key = (i) => `cws-${i.toString(16).padStart(10, "0")}`;

/** The n fenced putLedger calls through the store in `dir`: seconds, and the read back of all of them. */
async function ours(dir, n) {
  const { openStateStore } = await import(join(root, "dist/adapters/state-sqlite/open-state-store.js"));
  const store = openStateStore(dir);
  try {
    const lease = store.acquireLease(`${process.pid}@bench`, 60_000, Date.now());
    if (!lease.ok) throw new Error("lease not taken");
    const at = new Date().toISOString();
    const entry = (i, state) => ({
      key: key(i), customer: `c-${i % 5000}`, report: "billing", periodKey: "2026-12",
      trigger: "schedule", state, dueAt: at, payload: { quantities: { "wfbs-svc": i % 100 } }, attempts: 1, createdAt: at, updatedAt: at,
    });
    const started = process.hrtime.bigint();
    for (let i = 0; i < n; i++) store.putLedger(entry(i, i % 2 === 0 ? "open" : "done"), lease.token);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const readStarted = process.hrtime.bigint();
    const read = store.ledgerEntries(Array.from({ length: n }, (_, i) => key(i))).length;
    const readMs = Number(process.hrtime.bigint() - readStarted) / 1e6;
    if (read !== n) throw new Error(`read back ${read} of ${n} entries`);
    return { seconds, readMs };
  } finally {
    store.close();
  }
}

/**
 * The commit floor: `n` single-row INSERT transactions on a plain node:sqlite database in `dir`
 * with the state store's pragmas (WAL, synchronous=FULL, busy_timeout), rows of about the size of
 * a ledger entry. Seconds. Also used by bench/detections.mjs as its reference.
 */
export function plainCommits(dir, n) {
  mkdirSync(dir, { recursive: true });
  const db = new DatabaseSync(join(dir, "plain.db"));
  try {
    db.exec("PRAGMA busy_timeout = 5000");
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = FULL");
    db.exec("CREATE TABLE t (key TEXT PRIMARY KEY, customer TEXT NOT NULL, state TEXT NOT NULL, payload TEXT NOT NULL, updated_at TEXT NOT NULL)");
    const insert = db.prepare("INSERT INTO t (key, customer, state, payload, updated_at) VALUES (?, ?, ?, ?, ?)");
    const at = new Date().toISOString();
    const started = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      db.exec("BEGIN IMMEDIATE");
      insert.run(key(i), `c-${i % 5000}`, i % 2 === 0 ? "open" : "done", JSON.stringify({ quantities: { "wfbs-svc": i % 100 } }), at);
      db.exec("COMMIT");
    }
    return Number(process.hrtime.bigint() - started) / 1e9;
  } finally {
    db.close();
  }
}

export async function benchStateWrites(n = FULL_WRITES, runs = RUNS) {
  const tmp = process.env.BENCH_STATE_TMP;
  const dir = mkdtempSync(join(tmp ?? tmpdir(), "cwsync-bench-state-"));
  const each = [];
  try {
    // alternating, each in a fresh database in the same directory, so that both see the same disk
    for (let i = 0; i < runs; i++) {
      const o = await ours(join(dir, `ours-${i}`), n);
      const plainSeconds = plainCommits(join(dir, `plain-${i}`), n);
      each.push({ seconds: o.seconds, readMs: o.readMs, plainSeconds });
      rmSync(join(dir, `ours-${i}`), { recursive: true, force: true });
      rmSync(join(dir, `plain-${i}`), { recursive: true, force: true });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const seconds = median(each.map((x) => x.seconds));
  const plainSeconds = median(each.map((x) => x.plainSeconds));
  return {
    n, runs, dir: tmp ?? tmpdir(), each,
    seconds, perSecond: n / seconds, readMs: median(each.map((x) => x.readMs)),
    plainSeconds, plainPerSecond: n / plainSeconds, ratio: seconds / plainSeconds,
  };
}

export function printStateWrites(r) {
  console.log(`\n| fenced ledger writes (${process.version}, ${r.dir}) | entries | runs | wall, median | per second | plain node:sqlite INSERTs, median | per second | ratio | read back all |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |`);
  console.log(`| putLedger, one transaction each | ${r.n} | ${r.runs} | ${r.seconds.toFixed(2)} s | ${r.perSecond.toFixed(0)} | ${r.plainSeconds.toFixed(2)} s | ${r.plainPerSecond.toFixed(0)} | ${r.ratio.toFixed(2)} | ${r.readMs.toFixed(0)} ms |`);
  console.log(`each run (ours / plain, s): ${r.each.map((x) => `${x.seconds.toFixed(2)}/${x.plainSeconds.toFixed(2)}`).join(" ")}`);
}

/** The summary table's row. */
export function stateWritesRows(r) {
  return [{
    figure: "fenced ledger writes (`putLedger`, one `BEGIN IMMEDIATE` transaction each, lease checked)",
    command: command("bench/state-writes.mjs", {
      BENCH_STATE_WRITES: r.n !== FULL_WRITES ? r.n : undefined, BENCH_STATE_RUNS: r.runs !== 5 ? r.runs : undefined, BENCH_STATE_TMP: process.env.BENCH_STATE_TMP,
    }),
    settings: settings([shrunk(r.n, FULL_WRITES, "writes"), shrunk(r.runs, 5, "runs"), process.env.BENCH_STATE_TMP ? `on ${process.env.BENCH_STATE_TMP} instead of the default temp dir` : undefined]),
    value: `${int(r.perSecond)} writes/s (${int(r.n)} in ${r.seconds.toFixed(2)} s; median of ${r.runs})`,
    reference: `plain node:sqlite, ${int(r.n)} single-row INSERT transactions, WAL + synchronous=FULL, same directory, alternating: ${int(r.plainPerSecond)}/s (${r.plainSeconds.toFixed(2)} s; median of ${r.runs})`,
    ratio: ratio(r.seconds, r.plainSeconds),
    target: "— (none set; ratio = time ours ÷ plain)",
    met: undefined,
  }];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const m = machine();
  const r = await benchStateWrites(Number(process.env.BENCH_STATE_WRITES ?? FULL_WRITES));
  printStateWrites(r);
  printTable(stateWritesRows(r), m, join(root, "bench/out/summary-state-writes.md"));
}
