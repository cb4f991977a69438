// `cwsync reconcile` on 5,000 customers as a whole process against the fakes (20 ms of latency on
// every ConnectWise request): the billing run that sends to all of them, then the no-op run that
// follows it. Run alone: `node bench/reconcile.mjs` (after `npm run build`). For memory work at a pace
// closer to month-end: BENCH_RECONCILE_ONLY=billing (stop after the billing run), BENCH_CW_CONCURRENCY
// (default 16; 8 is the client's shipped default), BENCH_LATENCY_MS (default 20).
import { rmSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { bulkWorld, count, dist, reconcileJson } from "./bulk-world.mjs";
import { child } from "./child-process.mjs";


/** ConnectWise's default limits in the client: what a real deployment runs with. */
export const DEFAULT_CW_RATE = 16;
/** Raised limits for the bench, so that the ~15,000 requests of the billing run take a minute, not 25. */
const TUNING = { CWSYNC_CW_RATE: "500", CWSYNC_CW_BURST: "500", CWSYNC_CW_CONCURRENCY: process.env.BENCH_CW_CONCURRENCY ?? "16" };
/** BENCH_LATENCY_MS: another latency (e.g. closer to month-end's 50–150 ms). */
const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 20);
// billing is due on day 1 at 06:00 UTC (writeBulkCustomers)
const BEFORE = "2026-11-30T12:00:00Z";
const AFTER = "2026-12-01T06:01:00Z";
const NOOP_TARGET_MS = 1000;
/** Issue 16: the no-op at the client's shipped limiter defaults (16/s after a burst of 30, 8 at once). */
const NOOP_DEFAULT_TARGET_MS = 3000;
/** How many times the no-op runs at the shipped defaults (the median is reported). */
const NOOP_DEFAULT_RUNS = Number(process.env.BENCH_NOOP_RUNS ?? 5);
const TABLES = ["meta", "lease", "customers", "cursors", "ledger", "journal", "poll_cursors", "detection_series", "detection_counts", "poll_gaps"];

/**
 * Counts the rows any process writes to the state's tables from now on (an UPDATE that stores the
 * same values counts too): triggers into a side table of the bench's own state.db.
 */
function watchStateWrites(stateDir) {
  const db = new DatabaseSync(join(stateDir, "state.db"));
  db.exec("PRAGMA busy_timeout = 5000");
  db.exec("CREATE TABLE IF NOT EXISTS bench_writes (tbl TEXT NOT NULL)");
  for (const t of TABLES) {
    for (const op of ["INSERT", "UPDATE", "DELETE"]) {
      db.exec(`CREATE TRIGGER IF NOT EXISTS bench_w_${t}_${op.toLowerCase()} AFTER ${op} ON ${t} BEGIN INSERT INTO bench_writes (tbl) VALUES ('${t}'); END`);
    }
  }
  const read = () => Object.fromEntries(db.prepare("SELECT tbl, count(*) AS n FROM bench_writes GROUP BY tbl").all().map((r) => [r.tbl, r.n]));
  return {
    /** Rows written since the last call, by table. */
    take() {
      const out = read();
      db.exec("DELETE FROM bench_writes");
      return out;
    },
    close: () => db.close(),
  };
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];



const byMethod = (requests) => requests.reduce((m, r) => ((m[r.method] = (m[r.method] ?? 0) + 1), m), {});
const byRoute = (requests) => requests.reduce((m, r) => {
  const k = `${r.method} ${r.path.replace(/\/\d+/g, "/{id}")}`;
  m[k] = (m[k] ?? 0) + 1;
  return m;
}, {});

/**
 * Runs the reconcile bench on `n` bulk customers. Returns:
 * - `n`, `latencyMs` (per ConnectWise request), `tuning` (the raised limiter of `runs`);
 * - `runs`: [apply with nothing due, billing for all, no-op], each `{ label, at, ms (wall), peakMiB
 *   (peak RSS of the cwsync process), requests, methods, routes, failed (answered ≥ 400),
 *   lmpiRequests, actions, outcomes, states, exitCode, failures, projectedDefaultS (requests ÷ 16/s) }`
 *   — measured with the limiter raised;
 * - `noopTargetMs`: the old 1 s target of the no-op with the raised limiter;
 * - `noopDefault`: the no-op after billing at the client's shipped limiter defaults (issue 16,
 *   target ≤ 3 s and 0 writes), run BENCH_NOOP_RUNS times (default 5): `{ medianMs (wall),
 *   medianPeakMiB, requests (median; all GETs), remoteWrites (most ConnectWise non-GETs in a run:
 *   must be 0), recordRows (most rows written to customers, cursors, ledger and meta in a run: must
 *   be 0), localRows (rows written per table in the last run, the lease's and the journal's
 *   included), targetMs, runs: [{ ms, peakMiB, requests, remoteWrites, localRows, localRowsTotal,
 *   recordRows, actions }] }`;
 * - `breakdown` (absent with BENCH_RECONCILE_PHASES=0): the no-op timed phase by phase in a fresh process.
 */
export async function benchReconcile(n = 5000) {
  const { work, repo, rssFile, cw, lmpi } = await bulkWorld(n, "reconcile");
  const stateDir = join(work, "state");
  cw.faults.latencyMs = LATENCY_MS;
  const env = {
    ...process.env, CI: "",
    CW_URL: cw.url, CW_COMPANY: cw.credentials.company, CW_PUBLIC_KEY: cw.credentials.publicKey,
    CW_PRIVATE_KEY: cw.credentials.privateKey, CW_CLIENT_ID: cw.credentials.clientId,
    LMPI_URL: lmpi.url, LMPI_ACCESS_TOKEN: lmpi.credentials.accessToken, LMPI_SECRET_KEY: lmpi.credentials.secretKey,
    CWSYNC_STATE_DIR: stateDir, ...TUNING,
  };

  async function reconcile(label, at) {
    const from = cw.requests.length;
    const lmpiFrom = lmpi.requests.length;
    const { run: r, report } = await reconcileJson(label, repo, at, env, rssFile);
    const requests = cw.requests.slice(from);
    const failures = report.outcomes.filter((o) => o.result !== "done");
    // exit code 1 means a customer is failing: reported below, with the failures, rather than thrown here
    if (r.code !== 0 && !(r.code === 1 && failures.length)) throw new Error(`${label}: cwsync reconcile exited ${r.code}: ${r.stderr.slice(0, 2000)}`);
    const result = {
      label, at, ms: r.ms, peakMiB: r.peakMiB,
      requests: requests.length, methods: byMethod(requests), routes: byRoute(requests),
      failed: requests.filter((q) => q.status >= 400 || q.status === 0).length,
      lmpiRequests: lmpi.requests.length - lmpiFrom,
      actions: count(report.actions, (a) => a.kind),
      outcomes: count(report.outcomes, (o) => o.result),
      states: count(report.customers, (c) => c.state),
      exitCode: r.code,
      failures: failures.slice(0, 5).map((o) => `${o.customer} ${o.result}: ${o.message}`),
    };
    console.error(`[reconcile bench] ${label}: ${s(result.ms)}, ${result.requests} requests (${fmt(result.methods)}), ${result.failed} answered ≥ 400, outcomes ${fmt(result.outcomes)}, exit ${r.code}${failures.length ? `; first failures: ${result.failures.join(" | ")}` : ""}`);
    return result;
  }

  /**
   * The no-op again, NOOP_DEFAULT_RUNS times, at the client's shipped limiter defaults (the
   * CWSYNC_CW_* variables unset), every row written to state.db counted by triggers.
   */
  async function noopAtDefaults() {
    const shipped = { ...env };
    for (const k of Object.keys(TUNING)) delete shipped[k];
    const watch = watchStateWrites(stateDir);
    const each = [];
    try {
      for (let i = 0; i < NOOP_DEFAULT_RUNS; i++) {
        const from = cw.requests.length;
        const { run: r, report } = await reconcileJson(`no-op at defaults #${i + 1}`, repo, AFTER, shipped, rssFile);
        if (r.code !== 0) throw new Error(`no-op at defaults exited ${r.code}: ${r.stderr.slice(0, 2000)}`);
        const requests = cw.requests.slice(from);
        const local = watch.take();
        const remoteWrites = requests.filter((q) => q.method !== "GET").length;
        each.push({
          ms: r.ms, peakMiB: r.peakMiB, requests: requests.length, remoteWrites,
          localRows: local, localRowsTotal: Object.values(local).reduce((a, b) => a + b, 0),
          recordRows: (local.customers ?? 0) + (local.cursors ?? 0) + (local.ledger ?? 0) + (local.meta ?? 0),
          actions: report.actions.filter((a) => a.kind !== "wait").length,
        });
        console.error(`[reconcile bench] no-op at shipped defaults #${i + 1}: ${s(r.ms)}, ${requests.length} requests, ${remoteWrites} remote writes, local rows ${fmt(local)}, peak ${r.peakMiB.toFixed(0)} MiB`);
      }
    } finally {
      watch.close();
    }
    return {
      runs: each,
      medianMs: median(each.map((x) => x.ms)),
      medianPeakMiB: median(each.map((x) => x.peakMiB)),
      requests: median(each.map((x) => x.requests)),
      remoteWrites: Math.max(...each.map((x) => x.remoteWrites)),
      recordRows: Math.max(...each.map((x) => x.recordRows)),
      localRows: each.at(-1).localRows,
      targetMs: NOOP_DEFAULT_TARGET_MS,
    };
  }

  try {
    const apply = await reconcile("1: apply (nothing due)", BEFORE);
    const full = await reconcile("2: billing due for all", AFTER);
    // BENCH_RECONCILE_ONLY=billing: stop after the billing run (its peak RSS, for memory work)
    if (process.env.BENCH_RECONCILE_ONLY === "billing") {
      for (const r of [apply, full]) r.projectedDefaultS = r.requests / DEFAULT_CW_RATE;
      return { n, latencyMs: LATENCY_MS, tuning: TUNING, runs: [apply, full] };
    }
    const noop = await reconcile("3: no-op (same instant)", AFTER);
    if (apply.requests - (apply.methods.GET ?? 0) !== 0) throw new Error(`the first reconcile wrote to ConnectWise: ${JSON.stringify(apply.methods)}`);
    if ((full.outcomes.done ?? 0) !== n) throw new Error(`the billing run sent ${full.outcomes.done ?? 0} of ${n}: ${JSON.stringify(full.outcomes)}; ${full.failures.join(" | ")}`);
    const writes = noop.requests - (noop.methods.GET ?? 0);
    if (writes !== 0) throw new Error(`the no-op reconcile made ${writes} ConnectWise write(s): ${JSON.stringify(noop.routes)}; outcomes ${JSON.stringify(noop.outcomes)}`);
    const runs = [apply, full, noop];
    for (const r of runs) r.projectedDefaultS = r.requests / DEFAULT_CW_RATE;
    const noopDefault = await noopAtDefaults();
    if (process.env.BENCH_RECONCILE_PHASES === "0") return { n, latencyMs: LATENCY_MS, tuning: TUNING, runs, noopTargetMs: NOOP_TARGET_MS, noopDefault };
    // where a no-op's time goes: the same cycle once more, phase by phase, in a fresh process
    const before = cw.requests.length;
    const phases = await child([import.meta.filename, "--phases", repo, AFTER], env, rssFile);
    if (phases.code !== 0) throw new Error(`phase timing exited ${phases.code}: ${phases.stderr.slice(0, 2000)}`);
    const breakdown = JSON.parse(phases.stdout);
    breakdown.wallMs = phases.ms;
    // and once more under a CPU profiler (a little slower), to split the cycle's own time
    const profiled = await child([import.meta.filename, "--phases", repo, AFTER, "--profile"], env, rssFile);
    if (profiled.code !== 0) throw new Error(`profiled phase timing exited ${profiled.code}: ${profiled.stderr.slice(0, 2000)}`);
    const p = JSON.parse(profiled.stdout);
    breakdown.profiled = { cycleMs: p.cycleMs, cpu: p.cpu };
    const later = cw.requests.slice(before).filter((q) => q.method !== "GET").length;
    if (later !== 0) throw new Error(`the timed no-op cycles made ${later} ConnectWise write(s)`);
    return { n, latencyMs: LATENCY_MS, tuning: TUNING, runs, noopTargetMs: NOOP_TARGET_MS, noopDefault, breakdown };
  } finally {
    await cw.close();
    await lmpi.close();
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * In a child process: the steps of `cwsync reconcile` (src/cli/commands/reconcile.ts) timed one by
 * one, with ConnectWise and the state store wrapped to time their calls inside the cycle.
 */
async function phases(repo, at, profile) {
  const t = {};
  let last = performance.now();
  const lap = (k) => {
    const now = performance.now();
    t[k] = (t[k] ?? 0) + now - last;
    last = now;
  };
  t.nodeStartMs = last; // process start → this line (Node itself and this script)
  const { createDeps } = await dist("app/deps.js");
  const { loadConfig } = await dist("config/load.js");
  const { targetOf } = await dist("app/target.js");
  const { reconcileCycle } = await dist("apply/reconcile-cycle.js");
  const { withLease } = await dist("apply/with-lease.js");
  const { systemClock } = await dist("adapters/clock-system.js");
  const { cycleJsonChunks } = await dist("cli/render-reconcile.js");
  lap("importModules");
  const io = createDeps({ cwd: process.cwd(), env: process.env, stdout: () => undefined, stderr: (s) => process.stderr.write(s) });
  const revision = await io.readRevision({ repo });
  lap("gitRead");
  const load = loadConfig(revision.files, revision.globalPath);
  lap("configLoad");
  const sources = await io.openSources({ sandbox: false, repo: revision.dir, license: true, connectwise: io.settings.connectwiseTuning });
  lap("openSources");
  const state = io.openState(targetOf(false, io.env));
  lap("openState");

  // time inside the cycle: ConnectWise calls as wall time while any is in flight, store calls summed
  const cwCalls = {};
  let inFlight = 0;
  let busySince = 0;
  let cwBusyMs = 0;
  const cw = new Proxy(sources.cw, {
    get(target, key) {
      const v = target[key];
      if (typeof v !== "function") return v;
      return async (...args) => {
        cwCalls[key] = (cwCalls[key] ?? 0) + 1;
        if (inFlight++ === 0) busySince = performance.now();
        try {
          return await v.apply(target, args);
        } finally {
          if (--inFlight === 0) cwBusyMs += performance.now() - busySince;
        }
      };
    },
  });
  const storeMs = {};
  const store = new Proxy(state.store, {
    get(target, key) {
      const v = target[key];
      if (typeof v !== "function") return v;
      return (...args) => {
        const s = performance.now();
        try {
          return v.apply(target, args);
        } finally {
          storeMs[key] = (storeMs[key] ?? 0) + performance.now() - s;
        }
      };
    },
  });
  const input = { revision: revision.id, load, now: new Date(at), allowMassRemoval: false, dryRun: false };
  const deps = { cw, license: sources.license, store, clock: systemClock };
  // time-zone arithmetic goes through Intl: how many times a cycle asks it
  let intlCalls = 0;
  const formatToParts = Intl.DateTimeFormat.prototype.formatToParts;
  Intl.DateTimeFormat.prototype.formatToParts = function (...args) {
    intlCalls++;
    return formatToParts.apply(this, args);
  };
  const profiler = profile ? await startProfiler() : undefined;
  let leaseMs = 0;
  const c0 = performance.now();
  const report = await withLease(store, systemClock, { stateDir: state.dir }, (token, signal) => {
    leaseMs = performance.now() - c0;
    state.checkTarget(token);
    return reconcileCycle(input, { ...deps, token, signal });
  });
  const cycleMs = performance.now() - c0;
  const cpu = profiler ? await profiler.stop() : undefined;
  Intl.DateTimeFormat.prototype.formatToParts = formatToParts;
  last = performance.now();
  const out = [...cycleJsonChunks(report)].join("");
  lap("render");
  state.store.close();
  await sources.close();
  lap("close");
  const sum = (o) => Object.values(o).reduce((a, b) => a + b, 0);
  const storeTotal = sum(storeMs) - (storeMs.acquireLease ?? 0) - (storeMs.releaseLease ?? 0);
  const writes = report.plan.actions.filter((a) => a.kind !== "wait").length;
  process.stdout.write(JSON.stringify({
    ...t, cycleMs, leaseMs, cwBusyMs, cwCalls, storeMs: storeTotal, storeByMethod: storeMs,
    cycleCpuMs: cycleMs - cwBusyMs - storeTotal - leaseMs, actions: writes, outputBytes: out.length, cpu, intlCalls,
    totalInProcessMs: performance.now(),
  }));
}

// Where the cycle's own time goes: each CPU-profile sample goes to the nearest of these callers.
const BUCKETS = [
  ["dueSends (schedules, time zones)", (f) => f.functionName === "dueSends"],
  ["checks against the snapshot", (f) => f.functionName === "checkCustomer" || f.url.includes("observe-cycle")],
  ["observeConnectWise (requests, answers)", (f) => f.functionName === "observeConnectWise" || f.url.includes("/undici/") || f.url.includes("/connectwise/")],
  ["buildPlan (other than dueSends)", (f) => f.functionName === "buildPlan"],
  ["assembleDesired", (f) => f.functionName === "assembleDesired"],
  ["SQLite", (f) => f.url.includes("state-sqlite") || f.url === "node:sqlite"],
  ["garbage collection", (f) => f.functionName === "(garbage collector)"],
  ["idle (waiting for ConnectWise)", (f) => f.functionName === "(idle)"],
];

async function startProfiler() {
  const { Session } = await import("node:inspector/promises");
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.setSamplingInterval", { interval: 500 });
  await session.post("Profiler.start");
  return {
    async stop() {
      const { profile } = await session.post("Profiler.stop");
      session.disconnect();
      const byId = new Map(profile.nodes.map((n) => [n.id, n]));
      const parent = new Map();
      for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
      const out = Object.fromEntries([...BUCKETS.map(([k]) => [k, 0]), ["other", 0]]);
      const other = {};
      profile.samples.forEach((id, i) => {
        let bucket = "other";
        for (let n = id; n !== undefined && bucket === "other"; n = parent.get(n)) {
          const hit = BUCKETS.find(([, test]) => test(byId.get(n).callFrame));
          if (hit) bucket = hit[0];
        }
        out[bucket] += profile.timeDeltas[i] / 1000;
        if (bucket === "other") {
          const f = byId.get(id).callFrame;
          const k = `${f.functionName || "(anonymous)"} ${f.url.replace(/^.*\/(dist|node_modules)\//, "")}`.trim();
          other[k] = (other[k] ?? 0) + profile.timeDeltas[i] / 1000;
        }
      });
      const top = Object.entries(other).sort((a, b) => b[1] - a[1]).slice(0, 4);
      return { buckets: out, otherTop: Object.fromEntries(top) };
    },
  };
}

const fmt = (o) => Object.entries(o).map(([k, v]) => `${k} ${v}`).join(", ") || "none";
const s = (ms) => `${(ms / 1000).toFixed(2)} s`;

export function printReconcile(r) {
  const limits = `ConnectWise limiter raised to ${r.tuning.CWSYNC_CW_RATE}/s, burst ${r.tuning.CWSYNC_CW_BURST}, ${r.tuning.CWSYNC_CW_CONCURRENCY} at once`;
  console.log(`\nReconcile: ${r.n} customers, ${r.latencyMs} ms latency per ConnectWise request; measured with the ${limits}`);
  console.log(`| run | measured wall (raised limits) | ConnectWise requests by method | projected: requests ÷ ${DEFAULT_CW_RATE}/s (default limits) | peak RSS | outcomes |`);
  console.log("| --- | --- | --- | --- | --- | --- |");
  for (const x of r.runs) {
    console.log(`| ${x.label} | ${s(x.ms)} | ${x.requests}: ${fmt(x.methods)} | ${x.projectedDefaultS >= 120 ? `${(x.projectedDefaultS / 60).toFixed(1)} min` : `${x.projectedDefaultS.toFixed(1)} s`} | ${x.peakMiB.toFixed(0)} MiB | ${fmt(x.outcomes)} |`);
  }
  const full = r.runs[1];
  const noop = r.runs[2];
  if (!noop) return;
  console.log(`billing run, requests by route: ${fmt(full.routes)}; LMPI requests: ${full.lmpiRequests}; ConnectWise errors: ${full.failed}`);
  console.log(`no-op run, requests by route: ${fmt(noop.routes)}; non-GET requests: ${noop.requests - (noop.methods.GET ?? 0)} (must be 0)`);
  console.log(`(measured = this run, limiter raised; projected = computed, not measured: the time the requests alone need at the client's default ${DEFAULT_CW_RATE} requests/s — its burst of 30 saves at most 2 s)`);
  const d = r.noopDefault;
  console.log(`no-op at the shipped limiter defaults (${d.runs.length} runs): median ${s(d.medianMs)} (target ≤ ${s(d.targetMs)}: ${d.medianMs <= d.targetMs ? "met" : "MISSED"}), runs ${d.runs.map((x) => s(x.ms)).join(", ")}; ${d.requests} requests; ConnectWise writes ${d.remoteWrites}; state rows written to customers/cursors/ledger/meta ${d.recordRows} (all rows in the last run: ${fmt(d.localRows)}); median peak RSS ${d.medianPeakMiB.toFixed(0)} MiB`);
  const b = r.breakdown;
  if (!b) return;
  console.log(`no-op run: ${s(noop.ms)} (target ≤ ${s(r.noopTargetMs)}: ${noop.ms <= r.noopTargetMs ? "met" : "MISSED"}). Where the time goes (the same no-op cycle again, timed step by step in a fresh process, ${s(b.wallMs)} wall):`);
  console.log(`  node start ${b.nodeStartMs.toFixed(0)} ms, module loading ${b.importModules.toFixed(0)} ms, git read ${b.gitRead.toFixed(0)} ms, config load (${r.n} files) ${b.configLoad.toFixed(0)} ms, open sources ${b.openSources.toFixed(0)} ms, open SQLite ${b.openState.toFixed(0)} ms,`);
  console.log(`  cycle ${b.cycleMs.toFixed(0)} ms = ConnectWise verification ${b.cwBusyMs.toFixed(0)} ms (${fmt(b.cwCalls)}) + SQLite ${b.storeMs.toFixed(0)} ms + lease ${b.leaseMs.toFixed(0)} ms + the rest (desired state, checks, plan) ${b.cycleCpuMs.toFixed(0)} ms; render ${b.render.toFixed(0)} ms, close ${b.close.toFixed(0)} ms`);
  console.log(`  SQLite by call: ${Object.entries(b.storeByMethod).map(([k, v]) => `${k} ${v.toFixed(0)} ms`).join(", ")}`);
  const p = b.profiled;
  const ms = (o) => Object.entries(o).map(([k, v]) => `${k} ${v.toFixed(0)} ms`).join(", ");
  console.log(`  the cycle under a CPU profiler (${p.cycleMs.toFixed(0)} ms): ${ms(p.cpu.buckets)}`);
  console.log(`  most of "other": ${ms(p.cpu.otherTop)}; Intl formatToParts calls in the cycle: ${b.intlCalls}`);
}

if (process.argv[2] === "--phases") {
  await phases(process.argv[3], process.argv[4], process.argv[5] === "--profile");
} else if (import.meta.url === `file://${process.argv[1]}`) {
  printReconcile(await benchReconcile(Number(process.env.BENCH_RECONCILE_CUSTOMERS ?? 5000)));
}
