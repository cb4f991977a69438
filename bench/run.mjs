// `npm run bench`: builds, runs every benchmark, prints the figures recorded in docs/benchmarks.md.
import { execSync } from "node:child_process";
import os from "node:os";
import { benchConnectWise } from "./connectwise.mjs";
import { benchDaemon, printDaemon } from "./daemon.mjs";
import { benchDetections, printDetections } from "./detections.mjs";
import { benchReconcile, printReconcile } from "./reconcile.mjs";
import { benchStateWrites, printStateWrites } from "./state-writes.mjs";
import { benchValidate } from "./validate.mjs";

execSync("npm run build --silent", { stdio: "inherit", cwd: new URL("..", import.meta.url).pathname });
console.log(`machine: ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`);

const v = benchValidate(Number(process.env.BENCH_CUSTOMERS ?? 10_000));
const row = (m) => `| ${m.label} | ${v.count} | ${m.medianMs.toFixed(0)} ms | ${m.minMs.toFixed(0)} ms | ${m.peakMiB.toFixed(0)} MiB |`;
console.log("\n| command | files | median wall | best wall | peak RSS |\n| --- | --- | --- | --- | --- |");
console.log(row(v.ours));
console.log(row(v.ajv));
console.log(`\ncwsync / ajv-cli wall-time ratio: ${v.ratio.toFixed(2)} (targets: cwsync ≤ 1500 ms, ≤ 300 MiB)`);

const cw = await benchConnectWise(Number(process.env.BENCH_COMPANIES ?? 5000));
console.log("\n| verify + resolve agreements, 5,000 companies, 20 ms latency | requests (503s) | wall | resolved | limiter waits |\n| --- | --- | --- | --- | --- |");
for (const r of cw) console.log(`| ${r.label} | ${r.requests} (${r.failed}) | ${(r.ms / 1000).toFixed(2)} s | ${r.resolved} | ${(r.waitedMs / 1000).toFixed(1)} s |`);
console.log("(targets: ≤ 120 requests and ≤ 5 s)");

// a few seconds: fenced ledger writes through the state store (node:sqlite, WAL, synchronous=FULL)
printStateWrites(await benchStateWrites(Number(process.env.BENCH_STATE_WRITES ?? 20_000)));

// ~1 minute at 5,000 customers: BENCH_RECONCILE_CUSTOMERS=500 for a quick try
printReconcile(await benchReconcile(Number(process.env.BENCH_RECONCILE_CUSTOMERS ?? 5000)));
console.log("(target: the no-op reconcile ≤ 1 s, and it must make no ConnectWise write)");

// ~40 minutes at 1,000 customers (the month: 120 reconciles): BENCH_DETECTION_CUSTOMERS=100 for a quick
// try, BENCH_DETECTION_STEP_HOURS=24 for the same state size in a quarter of the runs, BENCH_DETECTION_MONTH=0 to skip it
printDetections(await benchDetections(Number(process.env.BENCH_DETECTION_CUSTOMERS ?? 1000), {
  stepHours: Number(process.env.BENCH_DETECTION_STEP_HOURS ?? 6), month: process.env.BENCH_DETECTION_MONTH !== "0",
}));

// ~3 minutes: `cwsync run` on 5,000 customers for 60 cycles at 2 s (an hour at the default 60 s), RSS
// and idle CPU from /proc, then the dashboard's frame time; BENCH_DAEMON_CUSTOMERS=500
// BENCH_DAEMON_CYCLES=10 for a quick try, BENCH_DAEMON_CYCLES=0 to skip it
if (process.env.BENCH_DAEMON_CYCLES !== "0") {
  printDaemon(await benchDaemon(Number(process.env.BENCH_DAEMON_CUSTOMERS ?? 5000), Number(process.env.BENCH_DAEMON_CYCLES ?? 60)));
  console.log("(targets: RSS ≤ 200 MB after the hour, CPU ≤ 50 ms per idle cycle)");
}

// ~15 minutes at 5,000 customers: month-end billing at ConnectWise's pace (50–150 ms latency, the
// sandbox throttle at 1,000 requests a minute, the shipped limiter defaults). Only with
// BENCH_MONTH_END=1; BENCH_MONTH_END_CUSTOMERS=1000 for ~3 minutes
if (process.env.BENCH_MONTH_END === "1") {
  const { benchMonthEnd, printMonthEnd } = await import("./month-end.mjs");
  printMonthEnd(await benchMonthEnd(Number(process.env.BENCH_MONTH_END_CUSTOMERS ?? 5000)));
}
