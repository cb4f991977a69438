// `cwsync run` on 5,000 customers as a whole process against the fakes (started in this process,
// no added latency): N reconcile cycles at the shipped `--interval 60s` and the shipped ConnectWise
// limiter (no CWSYNC_CW_* variable), the daemon's resident memory after each cycle and its CPU per
// idle cycle, read from /proc; then the Ink dashboard's frame time on the daemon's own /api/status
// snapshot. The reference, measured in the same run: an idle Node process
// (`node -e "setInterval(()=>{}, 60000)"`) started with the daemon and sampled the same way at the
// same moments — what a Node process doing nothing costs over the same wall window.
// `runDaemonBenches` (npm run bench) also runs the same at `--interval 2s` (an hour of cycles in two
// minutes: not the shipped interval, and labelled so).
// Run alone: `node bench/daemon.mjs` (after `npm run build`). BENCH_DAEMON_CUSTOMERS (default 5,000),
// BENCH_DAEMON_CYCLES (default 10 at 60 s: 10 minutes), BENCH_DAEMON_INTERVAL (default 60s),
// BENCH_DAEMON_FAST_CYCLES (the 2 s run's cycles, default 60; 0 skips it).
// The daemon's daily billing audit starts after its first cycle and runs beside the next ones (~5 min
// at 5,000 customers): the cycles it overlaps are reported as their own row, and the idle figure is
// that of the cycles after it (its end is read from the `billing audit computed` line).
// The one setting that is not shipped: CWSYNC_LOG_LEVEL=debug, for the `reconcile finished` line
// that marks each cycle's end (the bench samples /proc on it).
import { spawn } from "node:child_process";
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { commitAll } from "./child-process.mjs";
import { command, machine, median, printTable, ratio, settings, shrunk } from "./table.mjs";

const root = new URL("..", import.meta.url).pathname;
const dist = (p) => import(join(root, "dist", p));

/** The limiter variables the daemon reads (through its settings); unset here: the shipped defaults. */
const CW_TUNING_VARS = ["CWSYNC_CW_RATE", "CWSYNC_CW_BURST", "CWSYNC_CW_CONCURRENCY"];
export const SHIPPED_INTERVAL = "60s";
export const FULL_CUSTOMERS = 5000;
/** Cycles of the main run at 60 s (10 minutes); BENCH_DAEMON_CYCLES=60 for the hour. */
export const FULL_CYCLES = 10;
/** The second run, at 2 s: 60 cycles are an hour's worth at the shipped interval. */
export const FAST_INTERVAL = "2s";
export const FULL_FAST_CYCLES = 60;
const INTERVAL = process.env.BENCH_DAEMON_INTERVAL ?? SHIPPED_INTERVAL;
const RSS_TARGET_MB = 200;
const IDLE_CPU_TARGET_MS = 50;
/** Cycles left out of the idle figure: the first applies the revision (config load, company checks). */
const WARMUP_CYCLES = 2;
/** Linux reports utime/stime in clock ticks; 100 a second everywhere Node runs on Linux. */
const CLK_TCK = Number(process.env.BENCH_CLK_TCK ?? 100);


const freePort = () => new Promise((resolve, reject) => {
  const s = createServer();
  s.on("error", reject);
  s.listen(0, "127.0.0.1", () => {
    const { port } = s.address();
    s.close(() => resolve(port));
  });
});

/** VmRSS and VmHWM (KiB → MiB), utime+stime (ms) of a live process, and with its finished children (git) added. */
function sample(pid) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = (k) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
  // fields after the command name, which is in parentheses and may hold spaces
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const cpuMs = ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK; // utime, stime: fields 14 and 15
  const childMs = ((Number(f[13]) + Number(f[14])) * 1000) / CLK_TCK; // cutime, cstime: 16 and 17 (the git processes it waited for)
  return { rssMiB: kib("VmRSS") / 1024, hwmMiB: kib("VmHWM") / 1024, cpuMs, allMs: cpuMs + childMs, t: performance.now() };
}

/** A billing day about two weeks from today (1–28), so that nothing becomes due during the run. */
const quietDay = (now = new Date()) => ((now.getUTCDate() + 13) % 28) + 1;

/**
 * `opts.interval` (default BENCH_DAEMON_INTERVAL or 60s), `opts.tuning` (CWSYNC_CW_* to set; default
 * none: the shipped limiter), `opts.frames` (time the dashboard afterwards; default true).
 */
export async function benchDaemon(n = FULL_CUSTOMERS, cycles = FULL_CYCLES, opts = {}) {
  const interval = opts.interval ?? INTERVAL;
  const tuning = opts.tuning ?? {};
  const { startConnectWiseSandbox } = await dist("sandbox/connectwise-sandbox.js");
  const { startLmpiSandbox } = await dist("sandbox/lmpi-sandbox.js");
  const { startEmailSecuritySandbox } = await dist("sandbox/email-security-sandbox.js");
  const { loadSandboxCustomers, seedFromCustomers } = await dist("sandbox/seed.js");
  const { seedLmpiFromCustomers } = await dist("sandbox/lmpi-seed.js");
  const { writeBulkCustomers } = await dist("sandbox/bulk-customers.js");

  const work = mkdtempSync(join(tmpdir(), "cwsync-bench-daemon-"));
  const repo = join(work, "repo");
  const stateDir = join(work, "state");
  const dayOfMonth = quietDay();
  writeBulkCustomers(repo, n, { dayOfMonth });
  commitAll(repo, `${n} bulk customers`);

  const { customers, global } = loadSandboxCustomers(repo);
  const cw = await startConnectWiseSandbox({ seed: seedFromCustomers(customers, global) });
  const lmpi = await startLmpiSandbox({ rows: seedLmpiFromCustomers(customers, global) });
  const tmes = await startEmailSecuritySandbox({ service: "tmes" });
  const hes = await startEmailSecuritySandbox({ service: "hes" });
  const port = await freePort();
  const env = {
    ...process.env, CI: "", NODE_ENV: "production", CWSYNC_LOG_LEVEL: "debug",
    CW_URL: cw.url, CW_COMPANY: cw.credentials.company, CW_PUBLIC_KEY: cw.credentials.publicKey,
    CW_PRIVATE_KEY: cw.credentials.privateKey, CW_CLIENT_ID: cw.credentials.clientId,
    LMPI_URL: lmpi.url, LMPI_ACCESS_TOKEN: lmpi.credentials.accessToken, LMPI_SECRET_KEY: lmpi.credentials.secretKey,
    TMES_URL: tmes.url, TMES_ACCOUNT: tmes.credentials.account, TMES_API_KEY: tmes.credentials.apiKey,
    HES_URL: hes.url, HES_ACCOUNT: hes.credentials.account, HES_API_KEY: hes.credentials.apiKey,
    CWSYNC_STATE_DIR: stateDir, ...tuning,
  };
  for (const k of CW_TUNING_VARS) if (!(k in tuning)) delete env[k];

  const t0 = performance.now();
  // BENCH_DAEMON_CPU_PROF=<dir>: a V8 CPU profile of the daemon's main thread, written when it stops
  const prof = process.env.BENCH_DAEMON_CPU_PROF ? ["--cpu-prof", "--cpu-prof-dir", process.env.BENCH_DAEMON_CPU_PROF] : [];
  // BENCH_DAEMON_NODE_FLAGS: more node flags for the daemon (e.g. --trace-gc, with BENCH_DAEMON_STDOUT)
  const flags = process.env.BENCH_DAEMON_NODE_FLAGS?.split(/\s+/).filter(Boolean) ?? [];
  // BENCH_DAEMON_HEAP_SNAPSHOT=<dir>: a heap snapshot of the daemon written there after the last cycle (after every figure is read)
  const heapDir = process.env.BENCH_DAEMON_HEAP_SNAPSHOT;
  if (heapDir) flags.push("--heapsnapshot-signal=SIGUSR2", `--diagnostic-dir=${heapDir}`);
  const daemon = spawn(process.execPath, [...prof, ...flags, "dist/cli/main.js", "run", "--no-tui", "--repo", repo, "--branch", "main", "--interval", interval, "--listen", `127.0.0.1:${port}`], {
    cwd: root, env, stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise((resolve) => daemon.on("close", (code, signal) => resolve({ code, signal })));
  // the reference: an idle Node process over the same wall window, sampled at the same moments
  const idleRef = spawn(process.execPath, ["-e", "setInterval(()=>{}, 60000)"], { stdio: "ignore" });
  const refExited = new Promise((resolve) => idleRef.on("close", resolve));
  const refSamples = [];
  const samples = [];
  const logTail = [];
  let sends = 0;
  let warnings = 0;
  let logLines = 0;
  /** How many cycles had ended when the billing audit was computed (undefined: not within the run). */
  let auditEndedAfter;
  let done;
  const enough = new Promise((resolve) => (done = resolve));
  let buf = "";
  // BENCH_DAEMON_STDOUT=<file>: the daemon's stdout (e.g. NODE_OPTIONS=--trace-gc) kept there
  if (process.env.BENCH_DAEMON_STDOUT) daemon.stdout.pipe(createWriteStream(process.env.BENCH_DAEMON_STDOUT));
  else daemon.stdout.resume();
  daemon.stderr.setEncoding("utf8");
  daemon.stderr.on("data", (chunk) => {
    buf += chunk;
    let nl;
    while ((nl = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      let e;
      try {
        e = JSON.parse(line);
      } catch {
        logTail.push(line);
        continue;
      }
      logLines++;
      if (e.level >= 40) {
        warnings++;
        if (logTail.length < 20) logTail.push(line.slice(0, 400));
      }
      if (e.msg === "report sent") sends++;
      if (e.msg === "billing audit computed" && auditEndedAfter === undefined) auditEndedAfter = samples.length;
      if (e.msg !== "reconcile finished") continue;
      // read right away: the line is written as the cycle ends, before the next timer fires
      const s = sample(daemon.pid);
      refSamples.push(sample(idleRef.pid));
      samples.push({ ...s, cycle: samples.length + 1, durationMs: e.durationMs, actions: e.actions, ok: e.ok, reason: e.reason, verified: e.verified, scoped: e.customers, sends });
      sends = 0;
      if (samples.length % 10 === 0 || samples.length <= 2) {
        console.error(`[daemon bench] cycle ${samples.length}/${cycles}: ${e.durationMs} ms, RSS ${s.rssMiB.toFixed(0)} MiB, CPU ${s.cpuMs.toFixed(0)} ms so far${e.ok ? "" : " (failed)"}`);
      }
      if (samples.length >= cycles) done();
    }
  });

  try {
    const stop = await Promise.race([enough.then(() => undefined), exited]);
    if (stop) throw new Error(`the daemon exited early (${JSON.stringify(stop)}): ${logTail.join("\n").slice(0, 3000)}`);
    const wallS = (performance.now() - t0) / 1000;
    // the snapshot the dashboard shows: from the daemon's own API, after the run
    const status = await (await fetch(`http://127.0.0.1:${port}/api/status`)).json();
    const last = sample(daemon.pid);
    const refLast = sample(idleRef.pid);
    // where the daemon's memory is, from its own /metrics (V8's heap, and what lives outside it)
    const metricsText = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const gauge = (name) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, "m").exec(metricsText)?.[1] ?? NaN) / 1048576;
    const memory = {
      heapUsedMiB: gauge("cwsync_nodejs_heap_size_used_bytes"), heapTotalMiB: gauge("cwsync_nodejs_heap_size_total_bytes"),
      externalMiB: gauge("cwsync_nodejs_external_memory_bytes"),
    };
    if (heapDir) await heapSnapshot(daemon.pid, heapDir);
    const s0 = performance.now();
    daemon.kill("SIGTERM");
    const exit = await exited;
    const stopMs = performance.now() - s0;

    // cycle i's CPU is what the daemon spent between the ends of cycles i-1 and i; the audit ran in
    // every such window up to the one it ended in
    const duringAudit = (i) => auditEndedAfter === undefined || i <= auditEndedAfter;
    const idle = samples.filter((s, i) => i >= WARMUP_CYCLES && !duringAudit(i) && s.sends === 0 && samples[i - 1].sends === 0);
    const idleCpu = [];
    const idleAll = [];
    const refIdle = [];
    const auditAll = [];
    for (let i = 1; i < samples.length; i++) {
      if (samples[i].sends !== 0) continue;
      const all = samples[i].allMs - samples[i - 1].allMs;
      if (duringAudit(i)) {
        auditAll.push(all);
        continue;
      }
      if (i < WARMUP_CYCLES) continue;
      idleCpu.push(samples[i].cpuMs - samples[i - 1].cpuMs);
      idleAll.push(all);
      refIdle.push(refSamples[i].allMs - refSamples[i - 1].allMs);
    }
    const mean = (xs) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
    const max = (xs) => (xs.length ? Math.max(...xs) : NaN);
    const snapFile = join(work, "status.json");
    writeFileSync(snapFile, JSON.stringify(status));
    const frames = opts.frames === false ? undefined : await frameTimes(snapFile);
    return {
      n, cycles: samples.length, interval, dayOfMonth, tuning, wallS,
      reference: {
        what: "node -e \"setInterval(()=>{}, 60000)\"",
        idleMeanMs: mean(refIdle), idleMaxMs: max(refIdle),
        rssAfterLastMiB: refSamples.at(-1).rssMiB, total: refLast.allMs,
      },
      samples, idleCycles: idle.length, memory,
      rss: { first: samples[0].rssMiB, afterHour: samples.at(-1).rssMiB, max: Math.max(...samples.map((s) => s.rssMiB)), peak: last.hwmMiB,
        // growth across the idle cycles: a leak shows as a steady slope
        idleSlopeKiBPerCycle: idle.length > 1 ? ((idle.at(-1).rssMiB - idle[0].rssMiB) * 1024) / (idle.at(-1).cycle - idle[0].cycle) : 0 },
      cpu: {
        total: last.cpuMs, totalAll: last.allMs, firstCycle: samples[0].cpuMs,
        idleMeanMs: mean(idleCpu), idleMedianMs: median(idleCpu), idleMaxMs: max(idleCpu),
        // with the git processes each sync runs
        allMeanMs: mean(idleAll), allMedianMs: median(idleAll), allMaxMs: max(idleAll),
        series: idleAll,
      },
      // the cycles the billing audit ran beside (from cycle 2 to the one it ended in), with git
      audit: { endedAfterCycle: auditEndedAfter, series: auditAll, meanMs: mean(auditAll), maxMs: max(auditAll) },
      cycleMs: { first: samples[0].durationMs, idleMedian: median(idle.map((s) => s.durationMs)) },
      sent: samples.reduce((a, s) => a + s.sends, 0), warnings, logLines, failedCycles: samples.filter((s) => !s.ok).length,
      stop: { ...exit, ms: stopMs },
      cwRequests: cw.requests.length, cwWrites: cw.requests.filter((r) => r.method !== "GET").length,
      snapshotCustomers: status.customers?.length ?? 0,
      frames, warningLines: logTail.slice(0, 5),
    };
  } finally {
    if (daemon.exitCode === null && daemon.signalCode === null) daemon.kill("SIGKILL");
    if (idleRef.exitCode === null && idleRef.signalCode === null) idleRef.kill("SIGKILL");
    await refExited;
    await cw.close();
    await lmpi.close();
    await tmes.close();
    await hes.close();
    rmSync(work, { recursive: true, force: true });
  }
}

/** Asks the daemon for a heap snapshot (SIGUSR2) and waits until the file is whole. */
async function heapSnapshot(pid, dir) {
  const { readdirSync, statSync } = await import("node:fs");
  const files = () => readdirSync(dir).filter((f) => f.endsWith(".heapsnapshot"));
  const before = new Set(files());
  process.kill(pid, "SIGUSR2");
  let size = -1;
  for (;;) {
    await new Promise((r) => setTimeout(r, 1000));
    const file = files().find((f) => !before.has(f));
    if (!file) continue;
    const now = statSync(join(dir, file)).size;
    if (now === size && now > 0) return console.error(`[daemon bench] heap snapshot ${join(dir, file)}`);
    size = now;
  }
}

/** The dashboard frame time in a child (React's production build, as `cwsync` loads it). */
function frameTimes(snapFile) {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [join(root, "bench/daemon.mjs"), "--frames", snapFile], {
      cwd: root, env: { ...process.env, NODE_ENV: "production" }, stdio: ["ignore", "pipe", "inherit"],
    });
    const out = [];
    p.stdout.on("data", (b) => out.push(b));
    p.on("error", reject);
    p.on("close", (code) => {
      if (code !== 0) return reject(new Error(`frame timing exited ${code}`));
      resolve(JSON.parse(Buffer.concat(out).toString("utf8")));
    });
  });
}

/**
 * In the child: the Dashboard component on the daemon's snapshot, rendered by ink-testing-library
 * (Ink in debug mode: every update renders at once, unthrottled, into a 100-column fake stdout),
 * 50 rows high. A frame is timed from the key written on stdin to the new frame written out.
 */
async function frames(snapFile) {
  const { render } = await import("ink-testing-library");
  const React = (await import("react")).default;
  const { Dashboard } = await dist("ui/dashboard.js");
  const { createStatusStore } = await dist("ui/status-store.js");
  const snap = JSON.parse(readFileSync(snapFile, "utf8"));
  const store = createStatusStore(snap, 0);
  const actions = { reconcile: async () => "queued", sendNow: async () => "sent", quit: () => undefined };
  const m0 = performance.now();
  const ui = render(React.createElement(Dashboard, { store, actions, height: 50 }));
  const mountMs = performance.now() - m0;
  const tick = () => new Promise((r) => setImmediate(r));
  async function frame(action) {
    await tick();
    const before = ui.frames.length;
    const t = performance.now();
    action();
    while (ui.frames.length === before) {
      await tick();
      if (performance.now() - t > 5000) throw new Error("no frame within 5 s");
    }
    return performance.now() - t;
  }
  const DOWN = "\u001B[B";
  const PAGE_DOWN = "\u001B[6~";
  const keys = [];
  for (let i = 0; i < 60; i++) keys.push(await frame(() => ui.stdin.write(i % 10 === 9 ? PAGE_DOWN : DOWN)));
  const filter = [];
  filter.push(await frame(() => ui.stdin.write("/")));
  for (const ch of "bulk-0042") filter.push(await frame(() => ui.stdin.write(ch)));
  filter.push(await frame(() => ui.stdin.write("\u001B")));
  // the daemon's snapshot arriving again (the dashboard reads it every second): a new object, every row
  const updates = [];
  for (let i = 0; i < 10; i++) updates.push(await frame(() => store.set({ ...JSON.parse(readFileSync(snapFile, "utf8")), at: new Date(Date.now() + i).toISOString() })));
  ui.unmount();
  const stats = (xs) => {
    const s = [...xs].sort((a, b) => a - b);
    return { n: s.length, medianMs: s[Math.floor(s.length / 2)], p95Ms: s[Math.min(s.length - 1, Math.floor(s.length * 0.95))], maxMs: s.at(-1) };
  };
  process.stdout.write(JSON.stringify({
    customers: snap.customers.length, react: React.version, production: process.env.NODE_ENV === "production",
    mountMs, keys: stats(keys.slice(5)), filter: stats(filter), updates: stats(updates),
  }));
}

const f = (x, d = 0) => x.toFixed(d);

const limiterText = (tuning) => (Object.keys(tuning).length ? `ConnectWise limiter ${Object.entries(tuning).map(([k, v]) => `${k}=${v}`).join(" ")}` : "the shipped ConnectWise limiter");

export function printDaemon(r) {
  const fr = r.frames;
  const ref = r.reference;
  const perHour = 3600 / (parseDurationS(r.interval) || 60);
  console.log(`\nDaemon: ${r.n} customers, \`cwsync run --interval ${r.interval}\` for ${r.cycles} cycles (${f(r.wallS)} s wall; ${r.interval === SHIPPED_INTERVAL ? "the shipped interval" : `= ${r.cycles} min at the shipped 60 s`}), ${limiterText(r.tuning)}; reference: an idle \`${ref.what}\` over the same window`);
  console.log("| measure | value | idle Node reference | target |\n| --- | --- | --- | --- |");
  console.log(`| RSS after cycle 1 | ${f(r.rss.first)} MiB | | |`);
  console.log(`| RSS after cycle ${r.cycles} | ${f(r.rss.afterHour)} MiB | ${f(ref.rssAfterLastMiB)} MiB | ≤ ${RSS_TARGET_MB} MB: ${r.rss.afterHour * 1.048576 <= RSS_TARGET_MB ? "met" : "MISSED"} |`);
  console.log(`| after the last cycle: V8 heap used / total, external | ${f(r.memory.heapUsedMiB)} / ${f(r.memory.heapTotalMiB)} MiB, ${f(r.memory.externalMiB)} MiB | | |`);
  console.log(`| RSS, highest after a cycle / peak (VmHWM) | ${f(r.rss.max)} / ${f(r.rss.peak)} MiB | | |`);
  console.log(`| RSS slope over the ${r.idleCycles} idle cycles | ${f(r.rss.idleSlopeKiBPerCycle, 1)} KiB per cycle | | |`);
  console.log(`| CPU, start + first cycle | ${f(r.cpu.firstCycle)} ms (cycle ${r.cycleMs.first} ms wall) | | |`);
  const auditText = r.audit.endedAfterCycle === undefined ? "not finished within the run: no cycle counts as idle" : `computed during cycle ${r.audit.endedAfterCycle + 1}`;
  console.log(`| CPU per cycle during the billing audit (${auditText}), with git: mean / max | ${f(r.audit.meanMs, 1)} / ${f(r.audit.maxMs)} ms (${r.audit.series.length} cycles) | | daily; no target |`);
  console.log(`| CPU per idle cycle after the audit, daemon alone: mean / median / max | ${f(r.cpu.idleMeanMs, 1)} / ${f(r.cpu.idleMedianMs)} / ${f(r.cpu.idleMaxMs)} ms (cycle ${r.cycleMs.idleMedian} ms wall, median) | | |`);
  console.log(`| CPU per idle cycle after the audit, with its git processes: mean / median / max | ${f(r.cpu.allMeanMs, 1)} / ${f(r.cpu.allMedianMs)} / ${f(r.cpu.allMaxMs)} ms | ${f(ref.idleMeanMs, 1)} ms mean, ${f(ref.idleMaxMs)} ms max | ≤ ${IDLE_CPU_TARGET_MS} ms: ${r.cpu.allMeanMs <= IDLE_CPU_TARGET_MS ? "met" : "MISSED"} |`);
  console.log(`| CPU, whole run (with git) | ${f(r.cpu.total)} ms (${f(r.cpu.totalAll)} ms) | ${f(ref.total)} ms | |`);
  if (fr) {
    console.log(`| dashboard mount (${fr.customers} customers, React ${fr.react}${fr.production ? " production" : ""}) | ${f(fr.mountMs)} ms | | |`);
    console.log(`| dashboard frame per key (↓, PgDn): median / p95 / max | ${f(fr.keys.medianMs)} / ${f(fr.keys.p95Ms)} / ${f(fr.keys.maxMs)} ms | | |`);
    console.log(`| dashboard frame per filter keystroke: median / max | ${f(fr.filter.medianMs)} / ${f(fr.filter.maxMs)} ms | | |`);
    console.log(`| dashboard frame on a new snapshot: median / max | ${f(fr.updates.medianMs)} / ${f(fr.updates.maxMs)} ms | | |`);
  }
  console.log(`CPU of each cycle during the billing audit (ms, with git): ${r.audit.series.map((x) => f(x)).join(" ")}`);
  console.log(`CPU of each idle cycle after it (ms, with git): ${r.cpu.series.map((x) => f(x)).join(" ")}`);
  console.log(`customers looked at in each cycle: ${r.samples.map((x) => x.scoped).join(" ")}`);
  console.log(`reports sent: ${r.sent}; failed cycles: ${r.failedCycles}; warnings logged: ${r.warnings}; log lines (debug) ${r.logLines} (${f(r.logLines / r.cycles, 1)} a cycle); ConnectWise requests ${r.cwRequests} (writes ${r.cwWrites}); SIGTERM → exit ${r.stop.code ?? r.stop.signal} in ${f(r.stop.ms)} ms; ${f(perHour)} cycles an hour at this interval`);
  if (r.warningLines.length) console.log(`first warnings: ${r.warningLines.join(" | ")}`);
}

/** "60s", "2s", "5m", "1h" → seconds (the bench's own intervals only). */
function parseDurationS(text) {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text);
  if (!m) return NaN;
  return Number(m[1]) * { ms: 0.001, s: 1, m: 60, h: 3600 }[m[2]];
}

/** The summary table's rows for one run: CPU per idle cycle and RSS after the last cycle. */
export function daemonRows(r, { fullCycles = FULL_CYCLES } = {}) {
  const ref = r.reference;
  const env = {
    BENCH_DAEMON_CUSTOMERS: r.n !== FULL_CUSTOMERS ? r.n : undefined,
    BENCH_DAEMON_INTERVAL: r.interval !== SHIPPED_INTERVAL ? r.interval : undefined,
    BENCH_DAEMON_CYCLES: r.cycles !== FULL_CYCLES || r.interval !== SHIPPED_INTERVAL ? r.cycles : undefined,
    BENCH_DAEMON_FAST_CYCLES: 0,
  };
  const set = settings([
    r.interval !== SHIPPED_INTERVAL ? `--interval ${r.interval} (shipped: ${SHIPPED_INTERVAL})` : undefined,
    Object.keys(r.tuning).length ? limiterText(r.tuning) : undefined,
    shrunk(r.n, FULL_CUSTOMERS, "customers"),
    shrunk(r.cycles, fullCycles, "cycles"),
    "CWSYNC_LOG_LEVEL=debug (the bench reads each cycle's end from a debug line)",
  ]);
  const what = `\`cwsync run\`, ${r.n.toLocaleString("en-US")} customers, ${r.cycles} cycles at ${r.interval}, fakes without latency`;
  const cpuRatio = ratio(r.cpu.allMeanMs, ref.idleMeanMs);
  return [
    {
      figure: `CPU per idle cycle after the day's billing audit (daemon + its git processes), ${what}`,
      command: command("bench/daemon.mjs", env),
      settings: set,
      value: `${f(r.cpu.allMeanMs, 1)} ms mean (median ${f(r.cpu.allMedianMs)}, max ${f(r.cpu.allMaxMs)}; ${r.cpu.series.length} idle cycle${r.cpu.series.length === 1 ? "" : "s"})`,
      reference: `idle \`${ref.what}\` over the same windows, sampled the same way: ${f(ref.idleMeanMs, 1)} ms mean (max ${f(ref.idleMaxMs)}; /proc counts 10 ms ticks)`,
      ratio: cpuRatio ?? `— (reference ${f(ref.idleMeanMs, 1)} ms)`,
      target: `≤ ${IDLE_CPU_TARGET_MS} ms`,
      met: r.cpu.series.length ? r.cpu.allMeanMs <= IDLE_CPU_TARGET_MS : undefined,
    },
    {
      figure: `RSS after the last cycle, ${what}`,
      command: command("bench/daemon.mjs", env),
      settings: set,
      value: `${f(r.rss.afterHour)} MiB (${f(r.rss.afterHour * 1.048576)} MB; VmHWM ${f(r.rss.peak)} MiB)`,
      reference: `the idle Node process's RSS at the same moment: ${f(ref.rssAfterLastMiB)} MiB`,
      ratio: ratio(r.rss.afterHour, ref.rssAfterLastMiB),
      target: `≤ ${RSS_TARGET_MB} MB`,
      met: r.rss.afterHour * 1.048576 <= RSS_TARGET_MB,
    },
    {
      figure: `CPU per cycle during the day's billing audit (daemon + its git processes; the audit runs beside cycles 2 to ${r.audit.endedAfterCycle === undefined ? "the last: it did not finish" : r.audit.endedAfterCycle + 1}), ${what}`,
      command: command("bench/daemon.mjs", env),
      settings: set,
      value: `${f(r.audit.meanMs, 1)} ms mean (max ${f(r.audit.maxMs)}; ${r.audit.series.length} cycle${r.audit.series.length === 1 ? "" : "s"}: ${r.audit.series.map((x) => f(x)).join(" ")})`,
      reference: "—",
      ratio: "—",
      target: "— (daily)",
      met: undefined,
    },
  ];
}

/**
 * What `npm run bench` runs: the main run (BENCH_DAEMON_INTERVAL, default the shipped 60s;
 * BENCH_DAEMON_CYCLES, default 10), then the same at 2 s (BENCH_DAEMON_FAST_CYCLES, default 60; 0
 * skips it) without the dashboard. Returns `{ main, fast }` (fast undefined when skipped).
 */
export async function runDaemonBenches() {
  const n = Number(process.env.BENCH_DAEMON_CUSTOMERS ?? FULL_CUSTOMERS);
  const main = await benchDaemon(n, Number(process.env.BENCH_DAEMON_CYCLES ?? FULL_CYCLES));
  const fastCycles = Number(process.env.BENCH_DAEMON_FAST_CYCLES ?? FULL_FAST_CYCLES);
  const fast = fastCycles > 0 ? await benchDaemon(n, fastCycles, { interval: FAST_INTERVAL, frames: false }) : undefined;
  return { main, fast };
}

export function printDaemonBenches({ main, fast }) {
  printDaemon(main);
  if (fast) printDaemon(fast);
}

export function daemonBenchRows({ main, fast }) {
  return [...daemonRows(main), ...(fast ? daemonRows(fast, { fullCycles: FULL_FAST_CYCLES }) : [])];
}

if (process.argv[2] === "--frames") {
  await frames(process.argv[3]);
} else if (import.meta.url === `file://${process.argv[1]}`) {
  const m = machine();
  const r = await runDaemonBenches();
  printDaemonBenches(r);
  printTable(daemonBenchRows(r), m, join(root, "bench/out/summary-daemon.md"));
}
