// `npm run bench`: builds, runs every benchmark (each prints its own detail), then prints the one
// summary table (bench/table.mjs: figure | command | settings | value | reference measured in the same
// run | ratio | target | met?) under a line naming the machine and the date, and writes it to
// bench/out/summary.md, ready to paste into docs/benchmarks.md.
//
// Full size takes hours; the knobs shrink it (rows from a shrunken run say so in "settings"):
//   BENCH_CUSTOMERS (validate, 10,000), BENCH_RUNS (validate's runs, 5), BENCH_COMPANIES (5,000),
//   BENCH_CW_RUNS (3), BENCH_STATE_WRITES (20,000), BENCH_STATE_RUNS (5), BENCH_RECONCILE_CUSTOMERS
//   (5,000), BENCH_NOOP_RUNS (5), BENCH_DETECTION_CUSTOMERS (1,000), BENCH_DETECTION_MONTH=0 (skip
//   the month), BENCH_DAEMON_CUSTOMERS (5,000), BENCH_DAEMON_CYCLES (10 at 60 s; 0 skips the daemon),
//   BENCH_DAEMON_INTERVAL (60s), BENCH_DAEMON_FAST_CYCLES (60 at 2 s; 0 skips that run),
//   BENCH_MONTH_END=1 (month-end, off by default), BENCH_MONTH_END_CUSTOMERS (5,000),
//   BENCH_HOSTILE=1 (hostile answers, off by default), BENCH_HOSTILE_MIB (1,024).
//   BENCH_ONLY=connectwise,state-writes runs only those (names: validate connectwise state-writes
//   reconcile detections daemon month-end hostile-answers); BENCH_SKIP=… leaves those out.
// A quick end-to-end try (~2 minutes on 2 cores):
//   BENCH_CUSTOMERS=500 BENCH_RUNS=2 BENCH_COMPANIES=500 BENCH_CW_RUNS=2 BENCH_STATE_WRITES=1000 BENCH_STATE_RUNS=2 \
//   BENCH_RECONCILE_CUSTOMERS=200 BENCH_NOOP_RUNS=2 BENCH_RECONCILE_PHASES=0 BENCH_DETECTION_CUSTOMERS=20 BENCH_DETECTION_MONTH=0 \
//   BENCH_DAEMON_CUSTOMERS=200 BENCH_DAEMON_CYCLES=4 BENCH_DAEMON_INTERVAL=5s BENCH_DAEMON_FAST_CYCLES=4 \
//   BENCH_MONTH_END=1 BENCH_MONTH_END_CUSTOMERS=50 npm run bench
import { execSync } from "node:child_process";
import { join } from "node:path";
import { command, int, machine, machineLine, printTable, ratio, settings, shrunk } from "./table.mjs";

const root = new URL("..", import.meta.url).pathname;
const s = (ms) => `${(ms / 1000).toFixed(2)} s`;
const mibText = (x) => `${x.toFixed(0)} MiB`;
const asMB = (mib) => mib * 1.048576;
const tuningText = (t) => Object.entries(t ?? {}).map(([k, v]) => `${k}=${v}`).join(" ");

/** Builds, runs the wanted benches, prints and writes the summary table. */
async function main() {
  execSync("npm run build --silent", { stdio: "inherit", cwd: root });

  // the load average before any bench of ours runs
  const m = machine();
  console.log(machineLine(m));

  const only = process.env.BENCH_ONLY?.split(",").map((s) => s.trim()).filter(Boolean);
  const skip = new Set(process.env.BENCH_SKIP?.split(",").map((s) => s.trim()).filter(Boolean) ?? []);
  const wanted = (name) => (!only || only.includes(name)) && !skip.has(name);
  const rows = [];

  /** Runs one bench; a failure becomes a row saying so, and the others still run. */
  async function bench(name, cmd, fn) {
    if (!wanted(name)) return;
    const t0 = performance.now();
    try {
      rows.push(...(await fn()));
    } catch (e) {
      console.error(`[bench] ${name} failed: ${e?.stack ?? e}`);
      rows.push({ figure: `${name}: FAILED`, command: cmd, settings: "—", value: `failed: ${String(e?.message ?? e).slice(0, 300)}`, reference: undefined, ratio: undefined, target: undefined, met: false });
    }
    console.error(`[bench] ${name}: ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  }

  // a minute or two at 10,000 files
  await bench("validate", "`node bench/validate.mjs`", async () => {
    const mod = await import("./validate.mjs");
    const v = await mod.benchValidate(Number(process.env.BENCH_CUSTOMERS ?? 10_000));
    (mod.printValidate ?? printValidateLegacy)(v);
    return validateRows(v, mod);
  });

  // ~20 s at 5,000 companies: the in-process client at its shipped limiter
  await bench("connectwise", "`node bench/connectwise.mjs`", async () => {
    const { benchConnectWise, printConnectWise, connectWiseRows } = await import("./connectwise.mjs");
    const cw = await benchConnectWise(Number(process.env.BENCH_COMPANIES ?? 5000));
    printConnectWise(cw);
    return connectWiseRows(cw);
  });

  // a minute or two on a disk: fenced ledger writes against plain node:sqlite commits, alternating
  await bench("state-writes", "`node bench/state-writes.mjs`", async () => {
    const { benchStateWrites, printStateWrites, stateWritesRows } = await import("./state-writes.mjs");
    const r = await benchStateWrites(Number(process.env.BENCH_STATE_WRITES ?? 20_000));
    printStateWrites(r);
    return stateWritesRows(r);
  });

  // minutes at 5,000 customers: BENCH_RECONCILE_CUSTOMERS=500 for a quick try
  await bench("reconcile", "`node bench/reconcile.mjs`", async () => {
    const { benchReconcile, printReconcile } = await import("./reconcile.mjs");
    const r = await benchReconcile(Number(process.env.BENCH_RECONCILE_CUSTOMERS ?? 5000));
    printReconcile(r);
    return reconcileRows(r, await limiterDefaults());
  });

  // ~40 minutes at 1,000 customers (the month: 120 reconciles): BENCH_DETECTION_CUSTOMERS=100 for a quick
  // try, BENCH_DETECTION_STEP_HOURS=24 for the same state size in a quarter of the runs, BENCH_DETECTION_MONTH=0 to skip it
  await bench("detections", "`node bench/detections.mjs`", async () => {
    const { benchDetections, printDetections, detectionRows } = await import("./detections.mjs");
    const r = await benchDetections(Number(process.env.BENCH_DETECTION_CUSTOMERS ?? 1000), {
      stepHours: Number(process.env.BENCH_DETECTION_STEP_HOURS ?? 6), month: process.env.BENCH_DETECTION_MONTH !== "0",
    });
    printDetections(r);
    return detectionRows(r);
  });

  // ~12 minutes: `cwsync run` on 5,000 customers, 10 cycles at the shipped 60 s, then 60 at 2 s;
  // BENCH_DAEMON_CYCLES=0 skips it
  if (process.env.BENCH_DAEMON_CYCLES !== "0") {
    await bench("daemon", "`node bench/daemon.mjs`", async () => {
      const { runDaemonBenches, printDaemonBenches, daemonBenchRows } = await import("./daemon.mjs");
      const r = await runDaemonBenches();
      printDaemonBenches(r);
      return daemonBenchRows(r);
    });
  }

  // ~25 minutes at 5,000 customers: month-end billing at ConnectWise's pace (50–150 ms latency, the
  // sandbox throttle at 1,000 requests a minute, the shipped limiter defaults). Only with
  // BENCH_MONTH_END=1; BENCH_MONTH_END_CUSTOMERS=1000 for ~5 minutes
  if (process.env.BENCH_MONTH_END === "1") {
    await bench("month-end", "`node bench/month-end.mjs`", async () => {
      const { benchMonthEnd, printMonthEnd } = await import("./month-end.mjs");
      const r = await benchMonthEnd(Number(process.env.BENCH_MONTH_END_CUSTOMERS ?? 5000));
      printMonthEnd(r);
      return monthEndRows(r);
    });
  }

  // ~1 minute: a reconcile against hostile answers (a 1 GiB body, endless pages, endless tokens) and
  // against plain ones, the reference. Only with BENCH_HOSTILE=1; BENCH_HOSTILE_MIB=64 for a smaller body
  if (process.env.BENCH_HOSTILE === "1") {
    await bench("hostile-answers", "`node bench/hostile-answers.mjs`", async () => {
      const { benchHostile, printHostile, hostileRows } = await import("./hostile-answers.mjs");
      const r = await benchHostile(Number(process.env.BENCH_HOSTILE_MIB ?? 1024));
      printHostile(r);
      return hostileRows(r);
    });
  }

  printTable(rows, m);
  console.log(`(also in ${join("bench", "out", "summary.md")})`);
  if (rows.some((r) => r.figure.endsWith(": FAILED"))) process.exitCode = 1;
}



// ---- glue for the benches whose modules own their results (validate, reconcile, month-end) ----

async function limiterDefaults() {
  const l = await import(join(root, "dist/adapters/connectwise/limiter.js"));
  return { rate: l.DEFAULT_CW_RATE, burst: l.DEFAULT_CW_BURST, concurrency: l.DEFAULT_CW_CONCURRENCY };
}


/**
 * validate.mjs's result → rows (its shape is documented at the top of bench/validate.mjs). A `rows`
 * array (bench/table.mjs's shape) in the result, or a `validateRows` export, wins.
 */
function validateRows(v, mod) {
  if (Array.isArray(v.rows)) return v.rows;
  if (typeof mod.validateRows === "function") return mod.validateRows(v);
  const full = 10_000;
  const runs = v.runs ?? Number(process.env.BENCH_RUNS ?? 5);
  const cmd = command("bench/validate.mjs", { BENCH_CUSTOMERS: v.count !== full ? v.count : undefined, BENCH_RUNS: runs !== 5 ? runs : undefined });
  const set = settings([shrunk(v.count, full, "files"), shrunk(runs, 5, "runs")]);
  // the ratios validate.mjs computes are medians of run-by-run ratios (alternating runs); else the ratio of the medians
  const paired = (given, a, b) => (Number.isFinite(given) ? given : ratio(a.medianMs, b.medianMs));
  const how = (given) => (Number.isFinite(given) ? "; ratio: median of the run-by-run ratios" : "");
  const files = `${int(v.count)} generated customer files`;
  const out = [];
  const floor = v.floor ?? v.parseFloor;
  if (v.ours && floor?.medianMs) {
    const r = paired(v.floorRatio, v.ours, floor);
    out.push({
      figure: `\`cwsync validate\` on ${files}, whole process`,
      command: cmd, settings: set,
      value: `${s(v.ours.medianMs)} (median of ${runs}; peak RSS ${mibText(v.ours.peakMiB)})`,
      reference: `the parse floor (bench/parse-floor.mjs: the same files read the same way and parsed with js-yaml, nothing else; whole process, alternating): ${s(floor.medianMs)} (median of ${runs})${how(v.floorRatio)}`,
      ratio: r, target: "ratio ≤ 1.3", met: r <= 1.3,
    });
  } else if (v.ours) {
    // the result of issue 2's bench: cwsync against ajv-cli only
    out.push({
      figure: `\`cwsync validate\` on ${files}, whole process`,
      command: cmd, settings: set,
      value: `${s(v.ours.medianMs)} (median of ${runs}; best ${s(v.ours.minMs)}; peak RSS ${mibText(v.ours.peakMiB)})`,
      reference: "— (no parse-floor reference in this result: see the ajv-cli row)",
      ratio: undefined, target: "≤ 1.5 s, ≤ 300 MB (issue 2)", met: v.ours.medianMs <= 1500 && asMB(v.ours.peakMiB) <= 300,
    });
  }
  const cold = v.cold;
  const coldOurs = cold?.ours ?? cold?.validate;
  const coldNode = cold?.node ?? cold?.nodeE0 ?? cold?.reference;
  if (coldOurs?.medianMs && coldNode?.medianMs) {
    const r = paired(cold.ratio, coldOurs, coldNode);
    const coldCmd = command("bench/validate.mjs", { BENCH_RUNS: runs !== 5 ? runs : undefined });
    out.push({
      figure: "cold `cwsync validate customers` (this repository's examples), whole process",
      command: coldCmd, settings: settings([shrunk(runs, 5, "runs")]),
      value: `${s(coldOurs.medianMs)} (median of ${runs}${Number.isFinite(coldOurs.peakMiB) ? `; peak RSS ${mibText(coldOurs.peakMiB)}` : ""})`,
      reference: `\`node -e 0\`, whole process, alternating: ${s(coldNode.medianMs)} (median of ${runs})${how(cold.ratio)}`,
      ratio: r, target: "ratio ≤ 2.5", met: r <= 2.5,
    });
    if (cold.noCache?.medianMs) {
      const rn = Number.isFinite(cold.noCacheRatio) ? cold.noCacheRatio : ratio(cold.noCache.medianMs, coldNode.medianMs);
      out.push({
        figure: "cold `cwsync validate customers` without V8's compile cache (a first run's case), whole process",
        command: coldCmd, settings: settings(["NODE_DISABLE_COMPILE_CACHE=1: not the default", shrunk(runs, 5, "runs")]),
        value: `${s(cold.noCache.medianMs)} (median of ${runs})`,
        reference: `\`node -e 0\` run beside it, alternating${how(cold.noCacheRatio)}`,
        ratio: rn, target: "— (the ≤ 2.5 target is on the default)", met: undefined,
      });
    }
  }
  if (v.ours && v.ajv) {
    const r = paired(v.ajvRatio, v.ours, v.ajv);
    out.push({
      figure: `\`cwsync validate\` against ajv-cli 5 on the same ${files} (ajv: schema checks only)`,
      command: cmd, settings: set,
      value: `${s(v.ours.medianMs)} (median of ${runs})`,
      reference: `ajv-cli 5 validate, same files, same schema, alternating: ${s(v.ajv.medianMs)} (median of ${runs}; peak RSS ${mibText(v.ajv.peakMiB)})${how(v.ajvRatio)}`,
      ratio: r, target: "— (a comparison)", met: undefined,
    });
  }
  return out;
}

function printValidateLegacy(v) {
  const row = (x) => `| ${x.label} | ${x.label.includes("customers") || x.label.startsWith("node -e") ? "customers/" : v.count} | ${x.medianMs.toFixed(0)} ms | ${x.minMs.toFixed(0)} ms | ${x.peakMiB.toFixed(0)} MiB |`;
  console.log("\n| command | files | median wall | best wall | peak RSS |\n| --- | --- | --- | --- | --- |");
  for (const x of [v.ours, v.floor ?? v.parseFloor, v.ajv, v.cold?.ours, v.cold?.noCache, v.cold?.node].filter((x) => x?.label)) console.log(row(x));
  if (Number.isFinite(v.floorRatio)) console.log(`cwsync validate / parse floor: ${v.floorRatio.toFixed(2)} (median of run-by-run ratios; target ≤ 1.3)`);
  if (Number.isFinite(v.cold?.ratio)) console.log(`cold validate customers/ / node -e 0: ${v.cold.ratio.toFixed(2)} (target ≤ 2.5)`);
}

/** reconcile.mjs's result → rows. A `rows` array in the result wins. */
function reconcileRows(r, lim) {
  if (Array.isArray(r.rows)) return r.rows;
  const full = 5000;
  const cmd = command("bench/reconcile.mjs", { BENCH_RECONCILE_CUSTOMERS: r.n !== full ? r.n : undefined, BENCH_NOOP_RUNS: process.env.BENCH_NOOP_RUNS, BENCH_RECONCILE_PHASES: process.env.BENCH_RECONCILE_PHASES });
  const small = shrunk(r.n, full, "customers");
  const what = `${int(r.n)} customers, ConnectWise ${r.latencyMs} ms latency`;
  const out = [];
  const d = r.noopDefault;
  if (d) {
    // what the shipped limiter and the latency alone impose on its requests (computed)
    const limiterMs = (Math.max(0, d.requests - lim.burst) / lim.rate) * 1000;
    const latencyMs = Math.ceil(d.requests / lim.concurrency) * (r.latencyMs ?? 0);
    const bound = Math.max(limiterMs, latencyMs);
    const runs = d.runs?.length ?? 1;
    const reference = typeof d.reference === "string" ? d.reference
      : d.reference?.medianMs !== undefined ? `${d.reference.what ?? "reference"}: ${s(d.reference.medianMs)}`
        : `the bound the shipped limiter and the latency set for its ${d.requests} requests, computed (not measured): the larger of (${d.requests} − ${lim.burst} burst) ÷ ${lim.rate}/s = ${s(limiterMs)}${limiterMs > 0 ? "" : " (all within the burst)"} and ⌈${d.requests} ÷ ${lim.concurrency} at once⌉ × ${r.latencyMs ?? 0} ms = ${s(latencyMs)}`;
    const refMs = d.reference?.medianMs ?? bound;
    out.push({
      figure: `no-op \`cwsync reconcile\` after billing, ${what}`,
      command: cmd, settings: settings([small, shrunk(runs, 5, "runs")]),
      value: `${s(d.medianMs)} (median of ${runs}; ${d.requests} requests, ${d.remoteWrites} ConnectWise writes, ${d.recordRows} state rows written; peak RSS ${mibText(d.medianPeakMiB)})`,
      reference, ratio: refMs > 0 ? ratio(d.medianMs, refMs) : "— (a bound of 0)",
      target: `≤ ${s(d.targetMs ?? 3000)}, 0 writes`, met: d.medianMs <= (d.targetMs ?? 3000) && d.remoteWrites === 0 && d.recordRows === 0,
    });
    out.push({
      figure: `no-op \`cwsync reconcile\`: peak RSS, ${what}`,
      command: cmd, settings: settings([small, shrunk(runs, 5, "runs")]),
      value: `${mibText(d.medianPeakMiB)} (median of ${runs})`,
      reference: r.runs?.[0] ? `the first reconcile (nothing due) of the same run: ${mibText(r.runs[0].peakMiB)}` : undefined,
      ratio: r.runs?.[0] ? ratio(d.medianPeakMiB, r.runs[0].peakMiB) : undefined,
      target: "— (none set for a one-shot reconcile)", met: undefined,
    });
  }
  const raised = r.tuning && Object.keys(r.tuning).length ? `the ConnectWise limiter raised (${tuningText(r.tuning)}): not the shipped defaults` : undefined;
  const [, billing, noop] = r.runs ?? [];
  if (billing) {
    const rate = Number(r.tuning?.CWSYNC_CW_RATE ?? lim.rate);
    const burst = Number(r.tuning?.CWSYNC_CW_BURST ?? lim.burst);
    const own = (Math.max(0, billing.requests - burst) / rate) * 1000;
    const shippedBound = (Math.max(0, billing.requests - lim.burst) / lim.rate) * 1000;
    out.push({
      figure: `billing \`cwsync reconcile\` for all, ${what}`,
      command: cmd, settings: settings([raised, small]),
      value: `${s(billing.ms)}; ${int(billing.requests)} requests; outcomes ${Object.entries(billing.outcomes ?? {}).map(([k, v]) => `${k} ${v}`).join(", ")}; peak RSS ${mibText(billing.peakMiB)}`,
      reference: `the run's limiter bound for its requests, computed (not measured): (${billing.requests} − ${burst}) ÷ ${rate}/s = ${s(own)} (at the shipped ${lim.rate}/s after ${lim.burst}: ${(shippedBound / 60_000).toFixed(1)} min)`,
      ratio: own > 0 ? ratio(billing.ms, own) : "— (within the burst)", target: "— (see month-end for billing at the shipped limiter)", met: undefined,
    });
  }
  if (noop && !d) {
    out.push({
      figure: `no-op \`cwsync reconcile\` after billing, ${what}`,
      command: cmd, settings: settings([raised, small]),
      value: `${s(noop.ms)}; ${noop.requests} requests, ${noop.requests - (noop.methods?.GET ?? 0)} writes; peak RSS ${mibText(noop.peakMiB)}`,
      reference: "— (not wired: the no-op at the shipped limiter is not in this result)",
      ratio: undefined, target: `≤ ${s(r.noopTargetMs ?? 1000)}, 0 writes (issue 4)`, met: noop.ms <= (r.noopTargetMs ?? 1000) && noop.requests === (noop.methods?.GET ?? 0),
    });
  }
  return out;
}

/** month-end.mjs's result (`benchMonthEnd`) → rows. */
function monthEndRows(r) {
  const full = 5000;
  const b = r.billing;
  const limits = r.limits ?? {};
  const cmd = command("bench/month-end.mjs", {
    BENCH_MONTH_END_CUSTOMERS: r.n !== full ? r.n : undefined,
    BENCH_CW_RATE: limits.CWSYNC_CW_RATE, BENCH_CW_BURST: limits.CWSYNC_CW_BURST, BENCH_CW_CONCURRENCY: limits.CWSYNC_CW_CONCURRENCY,
  });
  const set = settings([shrunk(r.n, full, "customers"), Object.keys(limits).length ? `limiter ${tuningText(limits)}` : undefined]);
  const what = `${int(r.n)} customers, ${r.latencyMs[0]}–${r.latencyMs[1]} ms latency, sandbox throttle ${int(r.throttlePerMinute)}/min`;
  const done = b.outcomes?.done ?? 0;
  return [
    {
      figure: `month-end billing \`cwsync reconcile\`: wall, ${what}`,
      command: cmd, settings: set,
      value: `${s(b.ms)}; ${int(b.requests)} requests; ${done} of ${r.n} done`,
      reference: `the throttle's bound for the same requests, computed (not measured): ${int(b.requests)} at ${int(r.throttlePerMinute)}/min = ${s(b.boundMs)}`,
      ratio: b.ratio, target: "ratio ≤ 1.10, every customer done", met: b.ratio <= 1.1 && done === r.n,
    },
    {
      figure: `month-end billing: requests answered 429, ${what}`,
      command: cmd, settings: set,
      value: `${b.throttled} of ${int(b.requests)} (${(100 * b.throttledShare).toFixed(2)} %)`,
      reference: `— (a share; the busiest 60 s of the sandbox's log held ${int(b.busiestMinute)} requests against its ${int(r.throttlePerMinute)})`,
      ratio: undefined, target: "< 2 %", met: b.throttledShare < 0.02,
    },
    {
      figure: `month-end billing: tickets per customer, ${what}`,
      command: cmd, settings: set,
      value: r.tickets.exactlyOne ? "exactly 1" : `NOT 1: ${r.tickets.total} tickets for ${r.tickets.companies} companies, most ${r.tickets.most}`,
      reference: `the customers billed: ${int(r.n)}; tickets made: ${int(r.tickets.total)}`,
      ratio: ratio(r.tickets.total, r.n), target: "exactly 1", met: r.tickets.exactlyOne,
    },
    {
      figure: `month-end billing: peak RSS, ${what}`,
      command: cmd, settings: set,
      value: `${mibText(b.peakMiB)} (${asMB(b.peakMiB).toFixed(0)} MB)`,
      reference: `the reconcile with nothing due before it, same run: ${mibText(r.apply.peakMiB)}`,
      ratio: ratio(b.peakMiB, r.apply.peakMiB), target: "≤ 200 MB", met: asMB(b.peakMiB) <= 200,
    },
  ];
}

export { monthEndRows, reconcileRows, validateRows };

if (import.meta.url === `file://${process.argv[1]}`) await main();
