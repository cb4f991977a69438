// `cwsync reconcile` polling Trend Micro Email Security and Hosted Email Security for 1,000
// customers × 2 domains, as a whole process against the fakes: the first poll (72 hours back), the
// poll of one hour that follows it, and the state store after a simulated month of polls.
// Run alone: `node bench/detections.mjs` (after `npm run build`); BENCH_DETECTION_CUSTOMERS=100
// shrinks it, BENCH_DETECTION_STEP_HOURS (default 6, at most 72) spaces the month's reconciles,
// BENCH_DETECTION_MONTH=0 skips the month, BENCH_DETECTION_LATENCY_MS (default 20; 0 skips that run)
// sets the latency of the second T + 1 h run, BENCH_DETECTION_CPU_PROF=<dir> profiles every CLI run.
// ~40 minutes at 1,000 customers on 2 cores, most of it the month's 120 reconciles.
// Settings: the first poll and the T + 1 h runs use the shipped ConnectWise limiter (no CWSYNC_CW_*
// variable; they make only verification GETs, within its burst at 1,000 customers); the month's
// reconciles raise it (CWSYNC_CW_RATE=500 …: the month sends ~34,000 report tickets), and say so.
// Reference, measured in the same run: the commit floor — a plain node:sqlite loop of as many
// single-row INSERT transactions as the run made write transactions, with the store's pragmas (WAL,
// synchronous=FULL), in the same work directory (bench/state-writes.mjs `plainCommits`); for the run
// with email-security latency, the same poll without it.
import { execFileSync } from "node:child_process";
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { request as httpRequest, Agent, createServer } from "node:http";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { child, commitAll } from "./child-process.mjs";
import { plainCommits } from "./state-writes.mjs";
import { command, machine, printTable, ratio, settings, shrunk } from "./table.mjs";

const root = new URL("..", import.meta.url).pathname;
/** BENCH_DETECTION_CPU_PROF=<dir>: a CPU profile of every measured run there. */
const PROF = process.env.BENCH_DETECTION_CPU_PROF ? ["--cpu-prof", "--cpu-prof-dir", process.env.BENCH_DETECTION_CPU_PROF] : [];
const dist = (p) => import(join(root, "dist", p));
const { DatabaseSync } = createRequire(import.meta.url)("node:sqlite");
const pragma = (db, name) => Object.values(db.prepare(`PRAGMA ${name}`).get())[0];

/** Raised ConnectWise limits for the month's reconciles only: the month sends ~34,000 report tickets. */
const TUNING = { CWSYNC_CW_RATE: "500", CWSYNC_CW_BURST: "500", CWSYNC_CW_CONCURRENCY: "16" };
const CW_LATENCY_MS = 20;
/** Added in front of the email-security fakes (they have no latency setting) for the second T + 1 h run. */
const EMAIL_LATENCY_MS = Number(process.env.BENCH_DETECTION_LATENCY_MS ?? 20);
/**
 * T: a Wednesday, 14:00 UTC. Reports are due at 06:00 local — 06:00Z, 05:00Z (Rome), 11:00Z (New
 * York), 00:30Z (Kolkata) — daily for HES and on Mondays for TMES: none falls in (T, T + 1 h].
 */
const T = Date.parse("2026-12-02T14:00:00Z");
const HOUR = 3_600_000;
const ZONES = ["UTC", "Europe/Rome", "America/New_York", "Asia/Kolkata"];
const HES_DETECTIONS = ["spam", "phishing", "malware"];
const TMES_DETECTIONS = ["ransomware", "phishing", "bec"];


/**
 * `n` customers, each with two email domains, a daily Hosted Email Security report and a weekly
 * Trend Micro Email Security (Standard) report, both products on the company's default agreement,
 * no billing; time zones in turn UTC, Europe/Rome, America/New_York and Asia/Kolkata (+05:30).
 */
export function writeDetectionCustomers(dir, n) {
  const customers = join(dir, "customers");
  mkdirSync(customers, { recursive: true });
  copyFileSync(join(root, "customers/_global.yaml"), join(customers, "_global.yaml"));
  for (let i = 1; i <= n; i++) {
    const id = String(i).padStart(5, "0");
    writeFileSync(join(customers, `det-${id}.yaml`), `# yaml-language-server: $schema=../schemas/customer.schema.json
apiVersion: cwsync/v1
kind: Customer
name: det-${id}
displayName: Detections Customer ${i}
trendMicro:
  customer: Detections Customer ${i} Ltd
  emailDomains: [det-${id}.example, mail.det-${id}.example]
connectwise:
  enabled: true
  companyId: DET${id}
agreements:
  tmems-standard: default
  hes: default
notifications:
  timezone: ${ZONES[i % ZONES.length]}
  at: "06:00"
  hostedEmailSecurity:
    every: day
    detections: [${HES_DETECTIONS.join(", ")}]
  emailSecurity:
    edition: standard
    every: week
    detections: [${TMES_DETECTIONS.join(", ")}]
`);
  }
}


/** A forwarding proxy that holds every request `ms` before passing it on: latency for a fake that has no setting for it. */
async function delayingProxy(target, ms) {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const to = new URL(target);
  const server = createServer((req, res) => {
    const body = [];
    req.on("data", (b) => body.push(b));
    req.on("end", () => setTimeout(() => {
      const up = httpRequest({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers, agent }, (r) => {
        res.writeHead(r.statusCode, r.headers);
        r.pipe(res);
      });
      up.on("error", () => res.destroy());
      up.end(Buffer.concat(body));
    }, ms));
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
      agent.destroy();
    }),
  };
}

/**
 * Preloaded into the measured process (`--import bench/detections.mjs` with BENCH_SQLITE_TIME_FILE
 * set): times every write transaction the state store runs (from `BEGIN IMMEDIATE` to its `COMMIT`
 * or `ROLLBACK`, one per polled target, synchronous=FULL), and writes their count and total time on exit.
 */
function timeTransactions(file) {
  const proto = DatabaseSync.prototype;
  const exec = proto.exec;
  const t = { count: 0, ms: 0, maxMs: 0 };
  let began;
  proto.exec = function (sql) {
    if (sql === "BEGIN IMMEDIATE") began = performance.now();
    try {
      return exec.call(this, sql);
    } finally {
      if ((sql === "COMMIT" || sql === "ROLLBACK") && began !== undefined) {
        const ms = performance.now() - began;
        began = undefined;
        t.count++;
        t.ms += ms;
        t.maxMs = Math.max(t.maxMs, ms);
      }
    }
  };
  process.on("exit", () => writeFileSync(file, JSON.stringify(t)));
}
if (process.env.BENCH_SQLITE_TIME_FILE && process.argv[1]?.endsWith("dist/cli/main.js")) timeTransactions(process.env.BENCH_SQLITE_TIME_FILE);

const count = (xs, key) => xs.reduce((m, x) => ((m[key(x)] = (m[key(x)] ?? 0) + 1), m), {});
const fmt = (o) => Object.entries(o).map(([k, v]) => `${k} ${v}`).join(", ") || "none";
const s = (ms) => `${(ms / 1000).toFixed(2)} s`;
const iso = (ms) => new Date(ms).toISOString().replace(".000Z", "Z");
const MiB = (bytes) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const sizeOf = (f) => (existsSync(f) ? statSync(f).size : 0);

/** The state directory's files and what is in state.db, opened read-only. */
function stateFigures(stateDir) {
  const files = Object.fromEntries(readdirSync(stateDir).filter((f) => f.startsWith("state.db")).map((f) => [f, sizeOf(join(stateDir, f))]));
  const db = new DatabaseSync(join(stateDir, "state.db"), { readOnly: true });
  try {
    const rows = {};
    for (const t of ["detection_counts", "detection_series", "poll_cursors", "poll_gaps", "ledger", "journal", "customers"]) {
      rows[t] = db.prepare(`SELECT count(*) AS n FROM ${t}`).get().n;
    }
    // bytes per table with its indexes, from SQLite's own page accounting
    const pages = db.prepare("SELECT name, sum(pgsize) AS bytes FROM dbstat GROUP BY name ORDER BY bytes DESC").all();
    const bytes = {};
    const owner = Object.fromEntries(db.prepare("SELECT name, tbl_name FROM sqlite_schema").all().map((r) => [r.name, r.tbl_name]));
    for (const p of pages) {
      const t = owner[p.name] ?? p.name.replace(/^sqlite_autoindex_(.*)_\d+$/, "$1");
      bytes[t] = (bytes[t] ?? 0) + p.bytes;
    }
    const journal = Object.fromEntries(db.prepare("SELECT kind, count(*) AS n FROM journal GROUP BY kind ORDER BY n DESC").all().map((r) => [r.kind, r.n]));
    const ledgerBytes = db.prepare("SELECT coalesce(avg(length(payload)), 0) AS payload, coalesce(avg(length(result)), 0) AS result FROM ledger").get();
    // every counted event is in exactly one category; `unknown:…` rows repeat some of them for the report's note
    const counted = db.prepare("SELECT coalesce(sum(c.count), 0) AS n FROM detection_counts c JOIN detection_series s ON s.id = c.series WHERE s.category NOT LIKE 'unknown:%'").get().n;
    const span = db.prepare("SELECT min(start_min) AS lo, max(start_min) AS hi FROM detection_counts").get();
    const pageSize = pragma(db, "page_size");
    const pageCount = pragma(db, "page_count");
    const freelist = pragma(db, "freelist_count");
    return {
      files, rows, bytes, pageSize, pageCount, freelist, counted, journal, ledgerBytes,
      counterSpan: span.lo === null ? undefined : { from: iso(span.lo * 60_000), to: iso(span.hi * 60_000) },
    };
  } finally {
    db.close();
  }
}

/** What exact counting must give: every seeded event of every target with `from <= genTime < to`, from the fakes' own generator. */
async function seededEvents(n, from, to) {
  const { eventsInRange } = await dist("sandbox/email-security-seed.js");
  const { eventsFor } = await dist("core/detection-categories.js");
  const kinds = { hes: eventsFor(HES_DETECTIONS), tmes: eventsFor(TMES_DETECTIONS) };
  let total = 0;
  for (let i = 1; i <= n; i++) {
    const id = String(i).padStart(5, "0");
    for (const service of ["tmes", "hes"]) {
      // the fakes' defaults: seed 1, 12 events per hour
      for (const domain of [`det-${id}.example`, `mail.det-${id}.example`]) for (const kind of kinds[service]) total += eventsInRange({ service, seed: 1, eventsPerHour: 12 }, domain, kind, from, to).length;
    }
  }
  return total;
}

export async function benchDetections(n = 1000, opts = {}) {
  const stepHours = opts.stepHours ?? 6;
  const month = opts.month ?? true;
  if (stepHours > 72) throw new Error("a step of more than 72 hours leaves a gap in the counters");
  const { startConnectWiseSandbox } = await dist("sandbox/connectwise-sandbox.js");
  const { startLmpiSandbox } = await dist("sandbox/lmpi-sandbox.js");
  const { startEmailSecuritySandbox } = await dist("sandbox/email-security-sandbox.js");
  const { loadSandboxCustomers, seedFromCustomers } = await dist("sandbox/seed.js");
  const { seedLmpiFromCustomers } = await dist("sandbox/lmpi-seed.js");

  const work = mkdtempSync(join(tmpdir(), "cwsync-bench-detections-"));
  const repo = join(work, "repo");
  const stateDir = join(work, "state");
  const rssFile = join(work, "rss.txt");
  writeDetectionCustomers(repo, n);
  const validate = execFileSync(process.execPath, [join(root, "dist/cli/main.js"), "validate", join(repo, "customers"), "--format", "json"], { cwd: root, encoding: "utf8" });
  const v = JSON.parse(validate);
  commitAll(repo, `${n} detection customers`);

  const { customers, global } = loadSandboxCustomers(repo);
  if (customers.length !== n) throw new Error(`${customers.length} of ${n} generated customers loaded: ${JSON.stringify(v).slice(0, 500)}`);
  const cw = await startConnectWiseSandbox({ seed: seedFromCustomers(customers, global) });
  cw.faults.latencyMs = CW_LATENCY_MS;
  const lmpi = await startLmpiSandbox({ rows: seedLmpiFromCustomers(customers, global) });
  const clock = { now: T };
  const tmes = await startEmailSecuritySandbox({ service: "tmes", now: () => clock.now });
  const hes = await startEmailSecuritySandbox({ service: "hes", now: () => clock.now });
  const fakes = { tmes, hes };
  const env = {
    ...process.env, CI: "",
    CW_URL: cw.url, CW_COMPANY: cw.credentials.company, CW_PUBLIC_KEY: cw.credentials.publicKey,
    CW_PRIVATE_KEY: cw.credentials.privateKey, CW_CLIENT_ID: cw.credentials.clientId,
    LMPI_URL: lmpi.url, LMPI_ACCESS_TOKEN: lmpi.credentials.accessToken, LMPI_SECRET_KEY: lmpi.credentials.secretKey,
    TMES_URL: tmes.url, TMES_ACCOUNT: tmes.credentials.account, TMES_API_KEY: tmes.credentials.apiKey,
    HES_URL: hes.url, HES_ACCOUNT: hes.credentials.account, HES_API_KEY: hes.credentials.apiKey,
    CWSYNC_STATE_DIR: stateDir,
  };
  // the shipped limiter: no CWSYNC_CW_* from the bench's own environment either
  for (const k of Object.keys(TUNING)) delete env[k];

  async function reconcile(label, at, over = {}) {
    clock.now = at; // the fakes serve the moment the command acts at
    const from = { cw: cw.requests.length, tmes: tmes.requests.length, hes: hes.requests.length };
    const txFile = join(work, "tx.json");
    rmSync(txFile, { force: true });
    const r = await child(["--import", join(root, "bench/detections.mjs"), "dist/cli/main.js", "reconcile", "--repo", repo, "--at", iso(at), "--format", "json"], { ...env, BENCH_SQLITE_TIME_FILE: txFile, ...over }, rssFile, PROF);
    const tx = existsSync(txFile) ? JSON.parse(readFileSync(txFile, "utf8")) : undefined;
    let report;
    try {
      report = JSON.parse(r.stdout);
    } catch {
      throw new Error(`${label}: cwsync reconcile exited ${r.code} without a JSON report: ${r.stderr.slice(0, 2000)}`);
    }
    const failures = report.outcomes.filter((o) => o.result !== "done");
    if (r.code !== 0) throw new Error(`${label}: cwsync reconcile exited ${r.code}: ${failures.slice(0, 5).map((o) => `${o.customer} ${o.result}: ${o.message}`).join(" | ")} ${r.stderr.slice(0, 2000)}`);
    const cwNew = cw.requests.slice(from.cw);
    const email = {};
    for (const [k, f] of Object.entries(fakes)) {
      const q = f.requests.slice(from[k]);
      email[k] = {
        requests: q.length,
        pages: q.filter((x) => x.query.token !== undefined).length, // follow-up pages (nextToken)
        statuses: count(q, (x) => x.status),
        logs: q.reduce((a, x) => a + (x.logs ?? 0), 0),
      };
    }
    const result = {
      label, at: iso(at), ms: r.ms, peakMiB: r.peakMiB, email, tx,
      emailRequests: email.tmes.requests + email.hes.requests,
      cwRequests: cwNew.length,
      tickets: cwNew.filter((q) => q.method === "POST" && /\/service\/tickets(\?|$)/.test(q.path)).length,
      cwWrites: cwNew.filter((q) => q.method !== "GET").length,
      actions: count(report.actions ?? [], (a) => a.kind),
      outcomes: count(report.outcomes, (o) => o.result),
    };
    const bad = Object.values(email).flatMap((e) => Object.keys(e.statuses).filter((st) => st !== "200" && st !== "204"));
    if (bad.length) throw new Error(`${label}: the email-security fakes answered ${bad.join(", ")}: ${JSON.stringify(email)}`);
    if (opts.log !== false) console.error(`[detections bench] ${label} --at ${result.at}: ${s(r.ms)}, ${result.emailRequests} email-security requests (TMES ${email.tmes.requests}, HES ${email.hes.requests}; ${email.tmes.logs + email.hes.logs} logs), ${result.cwRequests} ConnectWise requests (${result.tickets} tickets), peak ${r.peakMiB.toFixed(0)} MiB${tx ? `; ${tx.count} write transactions, ${s(tx.ms)} in them (longest ${tx.maxMs.toFixed(0)} ms)` : ""}`);
    return result;
  }

  let served = 0;
  const main = async (label, at, over = {}) => {
    const r = await reconcile(label, at, over);
    served += r.email.tmes.logs + r.email.hes.logs;
    return r;
  };
  try {
    const first = await main("first poll (72 h back)", T);
    // the same T + 1 h once more from a copy of this state, through a proxy adding latency to every email-security request
    const copy = join(work, "state-copy");
    cpSync(stateDir, copy, { recursive: true });
    const hour = await main("T + 1 h", T + HOUR);
    // the reference: as many plain single-row commits as each run's write transactions, same directory, same pragmas
    const floor = (n) => {
      const dir = join(work, "plain-commits");
      try {
        return n > 0 ? plainCommits(dir, n) * 1000 : NaN;
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    };
    first.floorMs = floor(first.tx?.count ?? 0);
    hour.floorMs = floor(hour.tx?.count ?? 0);
    console.error(`[detections bench] commit floor (plain node:sqlite): ${first.tx?.count} commits ${s(first.floorMs)}, ${hour.tx?.count} commits ${s(hour.floorMs)}`);
    if (hour.tickets !== 0) console.error(`[detections bench] note: the T + 1 h run sent ${hour.tickets} tickets`);
    let slow;
    if (EMAIL_LATENCY_MS > 0) {
      const proxies = { tmes: await delayingProxy(tmes.url, EMAIL_LATENCY_MS), hes: await delayingProxy(hes.url, EMAIL_LATENCY_MS) };
      try {
        slow = await reconcile(`T + 1 h, ${EMAIL_LATENCY_MS} ms email-security latency`, T + HOUR, { CWSYNC_STATE_DIR: copy, TMES_URL: proxies.tmes.url, HES_URL: proxies.hes.url });
      } finally {
        await proxies.tmes.close();
        await proxies.hes.close();
        rmSync(copy, { recursive: true, force: true });
      }
    }
    const afterHour = { ...stateFigures(stateDir), served, seeded: await seededEvents(n, T - 72 * HOUR, T + HOUR) };

    let monthResult;
    if (month) {
      const runs = [];
      // every step ends at T + 30 days: the same counters whatever the step
      const end = T + 30 * 24 * HOUR;
      for (let at = T + stepHours * HOUR; at <= end; at += stepHours * HOUR) {
        if (at <= T + HOUR) continue;
        runs.push(await main(`month run ${runs.length + 1}`, at, TUNING));
      }
      monthResult = {
        stepHours, runs: runs.length, from: iso(T), to: runs.length ? runs[runs.length - 1].at : iso(T + HOUR),
        medianMs: median(runs.map((r) => r.ms)), maxMs: Math.max(...runs.map((r) => r.ms)), totalMs: runs.reduce((a, r) => a + r.ms, 0),
        maxPeakMiB: Math.max(...runs.map((r) => r.peakMiB)),
        emailRequests: runs.reduce((a, r) => a + r.emailRequests, 0),
        medianEmailRequests: median(runs.map((r) => r.emailRequests)),
        tickets: runs.reduce((a, r) => a + r.tickets, 0),
        outcomes: runs.reduce((m, r) => {
          for (const [k, v] of Object.entries(r.outcomes)) m[k] = (m[k] ?? 0) + v;
          return m;
        }, {}),
        state: { ...stateFigures(stateDir), served, seeded: await seededEvents(n, T - 72 * HOUR, Date.parse(runs.length ? runs[runs.length - 1].at : iso(T + HOUR))) },
      };
    }
    return { n, stepHours, cwLatencyMs: CW_LATENCY_MS, emailLatencyMs: EMAIL_LATENCY_MS, tuning: {}, monthTuning: TUNING, targetsPerCustomer: 2 * 2 * 3, first, hour, slow, afterHour, month: monthResult };
  } finally {
    await cw.close();
    await lmpi.close();
    await tmes.close();
    await hes.close();
    rmSync(work, { recursive: true, force: true });
  }
}

export function printDetections(r) {
  console.log(`\nDetections: ${r.n} customers × 2 domains, HES daily [${HES_DETECTIONS.join(", ")}] + TMES weekly [${TMES_DETECTIONS.join(", ")}]: ${r.targetsPerCustomer * r.n} poll targets (customer, service, domain, event kind)`);
  console.log(`ConnectWise ${r.cwLatencyMs} ms latency, the shipped limiter (the month's reconciles: raised, ${fmt(r.monthTuning)}); email-security fakes without latency unless stated`);
  console.log("| run | email-security requests (TMES + HES) | follow-up pages | logs served | wall | peak RSS | ConnectWise requests | tickets | write transactions (time in them) | plain commits, same count (reference) |");
  console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
  for (const x of [r.first, r.hour, r.slow].filter(Boolean)) {
    const e = x.email;
    console.log(`| ${x.label} | ${x.emailRequests} (${e.tmes.requests} + ${e.hes.requests}) | ${e.tmes.pages + e.hes.pages} | ${e.tmes.logs + e.hes.logs} | ${s(x.ms)} | ${x.peakMiB.toFixed(0)} MiB | ${x.cwRequests} | ${x.tickets} | ${x.tx ? `${x.tx.count} (${s(x.tx.ms)})` : "–"} | ${x.floorMs !== undefined ? s(x.floorMs) : "–"} |`);
  }
  const st = (f) => `files ${fmt(Object.fromEntries(Object.entries(f.files).map(([k, v]) => [k, MiB(v)])))}; rows ${fmt(f.rows)}; bytes by table ${fmt(Object.fromEntries(Object.entries(f.bytes).map(([k, v]) => [k, MiB(v)])))}${f.counterSpan ? `; counters ${f.counterSpan.from} … ${f.counterSpan.to}` : ""}; journal by kind ${fmt(f.journal)}; ledger payload ${f.ledgerBytes.payload.toFixed(0)} B, result ${f.ledgerBytes.result.toFixed(0)} B a row on average; events counted ${f.counted} (seeded in the polled span: ${f.seeded}, ${f.counted === f.seeded ? "exact" : "MISMATCH"}) of ${f.served} logs served (the rest: served twice, at a window's inclusive end)`;
  console.log(`state after T + 1 h: ${st(r.afterHour)}`);
  for (const f of [r.afterHour, r.month?.state].filter(Boolean)) if (f.counted !== f.seeded) console.log(`COUNTING MISMATCH: ${f.counted} counted, ${f.seeded} seeded`);
  const m = r.month;
  if (!m) return;
  console.log(`month: ${m.runs} reconciles after T + 1 h, at T + ${m.stepHours} h × k, to ${m.to}: median ${s(m.medianMs)}, max ${s(m.maxMs)}, total ${(m.totalMs / 60_000).toFixed(1)} min, max peak RSS ${m.maxPeakMiB.toFixed(0)} MiB; ${m.emailRequests} email-security requests (median ${m.medianEmailRequests} a run), ${m.tickets} tickets, outcomes ${fmt(m.outcomes)}`);
  console.log(`state after the month: ${st(m.state)}`);
  const db = (m.state.files["state.db"] ?? 0) + (m.state.files["state.db-wal"] ?? 0);
  console.log(`state.db + -wal: ${MiB(db)}; ${(m.state.bytes.detection_counts / m.state.rows.detection_counts).toFixed(1)} bytes per detection_counts row (pages included)`);
}

export const FULL_DETECTION_CUSTOMERS = 1000;

/** The summary table's rows. */
export function detectionRows(r) {
  const env = {
    BENCH_DETECTION_CUSTOMERS: r.n !== FULL_DETECTION_CUSTOMERS ? r.n : undefined,
    BENCH_DETECTION_MONTH: r.month ? undefined : 0,
    BENCH_DETECTION_STEP_HOURS: r.stepHours !== 6 ? r.stepHours : undefined,
    BENCH_DETECTION_LATENCY_MS: r.emailLatencyMs !== 20 ? r.emailLatencyMs : undefined,
  };
  const cmd = command("bench/detections.mjs", env);
  const small = shrunk(r.n, FULL_DETECTION_CUSTOMERS, "customers");
  const targets = r.targetsPerCustomer * r.n;
  const what = `${r.n.toLocaleString("en-US")} customers × 2 domains (${targets.toLocaleString("en-US")} poll targets), ConnectWise ${r.cwLatencyMs} ms latency`;
  const floorRef = (x) => (x.tx && Number.isFinite(x.floorMs)
    ? `commit floor: plain node:sqlite, ${x.tx.count.toLocaleString("en-US")} single-row INSERT transactions (as many as the run's write transactions), WAL + synchronous=FULL, same directory: ${s(x.floorMs)}`
    : "— (the run's write transactions were not counted)");
  const runValue = (x) => `${s(x.ms)} wall; ${x.emailRequests.toLocaleString("en-US")} email-security requests; ${x.tx ? `${x.tx.count.toLocaleString("en-US")} write transactions, ${s(x.tx.ms)} in them; ` : ""}peak RSS ${x.peakMiB.toFixed(0)} MiB`;
  const rows = [
    {
      figure: `\`cwsync reconcile\` first poll (72 h back, also applies the customers), ${what}`,
      command: cmd, settings: settings([small]),
      value: runValue(r.first), reference: floorRef(r.first), ratio: ratio(r.first.ms, r.first.floorMs),
      target: "— (none set)", met: undefined,
    },
    {
      figure: `\`cwsync reconcile\` polling one hour of events (T + 1 h), ${what}`,
      command: cmd, settings: settings([small]),
      value: runValue(r.hour), reference: floorRef(r.hour), ratio: ratio(r.hour.ms, r.hour.floorMs),
      target: "— (none set)", met: undefined,
    },
  ];
  if (r.slow) {
    rows.push({
      figure: `the same T + 1 h poll with ${r.emailLatencyMs} ms added to every email-security request (a proxy in the bench), ${what}`,
      command: cmd, settings: settings([small]),
      value: runValue(r.slow), reference: `the same poll without the added latency (row above): ${s(r.hour.ms)}`, ratio: ratio(r.slow.ms, r.hour.ms),
      target: "— (none set)", met: undefined,
    });
  }
  const a = r.afterHour;
  rows.push({
    figure: `events counted after T + 1 h (exact counting), ${what}`,
    command: cmd, settings: settings([small]),
    value: `${a.counted.toLocaleString("en-US")} events in the counters`,
    reference: `the events the fakes' generator seeds for the polled span, computed: ${a.seeded.toLocaleString("en-US")}`,
    ratio: ratio(a.counted, a.seeded), target: "exactly equal", met: a.counted === a.seeded,
  });
  const m = r.month;
  if (m) {
    const monthSet = settings([small, `the month's reconciles with the ConnectWise limiter raised (${Object.entries(r.monthTuning).map(([k, v]) => `${k}=${v}`).join(" ")}): not the shipped defaults`, r.stepHours !== 6 ? `a reconcile every ${r.stepHours} h (default 6)` : undefined]);
    const db = (m.state.files["state.db"] ?? 0) + (m.state.files["state.db-wal"] ?? 0);
    rows.push({
      figure: `a simulated month of polls (${m.runs} reconciles at T + ${m.stepHours} h × k), ${what}`,
      command: cmd, settings: monthSet,
      value: `median ${s(m.medianMs)}, max ${s(m.maxMs)} a reconcile; ${m.tickets.toLocaleString("en-US")} tickets; max peak RSS ${m.maxPeakMiB.toFixed(0)} MiB`,
      reference: `the T + 1 h poll (same run, shipped limiter): ${s(r.hour.ms)}`, ratio: ratio(m.medianMs, r.hour.ms),
      target: "— (none set)", met: undefined,
    }, {
      figure: `state.db after the month, ${what}`,
      command: cmd, settings: monthSet,
      value: `${(db / 2 ** 20).toFixed(1)} MiB (${m.state.rows.detection_counts.toLocaleString("en-US")} counter rows, ${m.state.rows.ledger.toLocaleString("en-US")} ledger rows)`,
      reference: `— (none: a size; events counted ${m.state.counted.toLocaleString("en-US")} vs seeded ${m.state.seeded.toLocaleString("en-US")}: ${m.state.counted === m.state.seeded ? "exact" : "MISMATCH"})`,
      ratio: undefined, target: "— (none set)", met: undefined,
    });
  }
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const m = machine();
  const r = await benchDetections(Number(process.env.BENCH_DETECTION_CUSTOMERS ?? FULL_DETECTION_CUSTOMERS), {
    stepHours: Number(process.env.BENCH_DETECTION_STEP_HOURS ?? 6), month: process.env.BENCH_DETECTION_MONTH !== "0",
  });
  printDetections(r);
  printTable(detectionRows(r), m, join(root, "bench/out/summary-detections.md"));
}
