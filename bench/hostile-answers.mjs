// What a reconcile costs when a remote answers without end (issue 12): ConnectWise's company lookup
// answered 200 with a 1 GiB JSON array (a broken proxy, a runaway query), and a Trend Micro Email
// Security whose `nextToken` never ends. Each is a whole `cwsync reconcile` process against a small
// server on loopback; the figures are its peak RSS (the systemd unit's MemoryMax is 1G), wall time,
// exit code and the requests it made.
// The reference, measured in the same run: the same reconcile against the same server answering
// plainly (empty lists, no events). Settings: shipped defaults (no CWSYNC_* variable).
// Run alone: `node bench/hostile-answers.mjs` (after `npm run build`); BENCH_HOSTILE_MIB sets the size,
// BENCH_HOSTILE_SECONDS (default 120) how long a run may go before it is killed. `npm run bench` runs
// it with BENCH_HOSTILE=1.
import { spawn } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { commitAll } from "./child-process.mjs";
import { command, machine, printTable, ratio, settings } from "./table.mjs";

const root = new URL("..", import.meta.url).pathname;
const AT = "2026-12-01T12:00:00Z";
const CHUNK = Buffer.from(`${'{"id":1,"identifier":"X","name":"padding padding padding padding padding padding"},'.repeat(1000)}`);

/** How long a run may take before it is stopped and reported as not giving up. */
const LIMIT_MS = Number(process.env.BENCH_HOSTILE_SECONDS ?? 120) * 1000;

/** `mode`: `huge-companies` (page 1 of the company lookup is `mib` MiB), `endless-pages` (every page is full), `endless-tokens`, or `plain` (the reference: empty answers). */
function hostileServer(mode, mib) {
  const counts = { all: 0, companies: 0, policyEvents: 0 };
  const server = createServer((req, res) => {
    counts.all++;
    const url = new URL(req.url, "http://x");
    if (url.pathname.endsWith("/company/companies") && mode === "endless-pages") {
      counts.companies++;
      res.writeHead(200, { "content-type": "application/json" });
      return void res.end(JSON.stringify(Array.from({ length: Number(url.searchParams.get("pageSize") ?? 25) }, (_, i) => ({ id: i + 1, identifier: `P${i}`, name: "page" }))));
    }
    if (url.pathname.endsWith("/company/companies") && mode === "huge-companies" && (url.searchParams.get("page") ?? "1") === "1") {
      counts.companies++;
      res.writeHead(200, { "content-type": "application/json" });
      let sent = 0;
      const limit = mib * 2 ** 20;
      res.write("[");
      const pump = () => {
        while (sent < limit) {
          sent += CHUNK.length;
          if (!res.write(CHUNK)) return void res.once("drain", pump);
        }
        res.end('{"id":2}]');
      };
      res.on("close", () => (sent = limit + 1));
      return pump();
    }
    if (url.pathname === "/api/v1/log/policyeventlog") {
      counts.policyEvents++;
      if (mode !== "endless-tokens") return void res.writeHead(204).end();
      res.writeHead(200, { "content-type": "application/json" });
      return void res.end(JSON.stringify({
        logs: [{ messageID: `<m${counts.policyEvents}@x>`, genTime: new Date(Date.parse(AT) - 3_600_000).toISOString(), eventType: "Spam", domainName: "x" }],
        nextToken: `t${counts.policyEvents}`,
      }));
    }
    res.writeHead(200, { "content-type": "application/json" });
    res.end("[]");
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve({ server, counts, url: `http://127.0.0.1:${server.address().port}` })));
}

async function one(mode, mib) {
  const work = mkdtempSync(join(tmpdir(), "cwsync-bench-hostile-"));
  const { server, counts, url } = await hostileServer(mode, mib);
  try {
    const repo = join(work, "repo");
    cpSync(join(root, "customers"), join(repo, "customers"), { recursive: true });
    commitAll(repo, "customers");
    const env = {
      ...process.env, CWSYNC_STATE_DIR: join(work, "state"),
      // the shipped limiter: none of the bench's own tuning variables
      CWSYNC_CW_RATE: undefined, CWSYNC_CW_BURST: undefined, CWSYNC_CW_CONCURRENCY: undefined,
      CW_URL: `${url}/v4_6_release/apis/3.0`, CW_COMPANY: "c", CW_PUBLIC_KEY: "p", CW_PRIVATE_KEY: "k", CW_CLIENT_ID: "id",
      LMPI_URL: url, LMPI_ACCESS_TOKEN: "t", LMPI_SECRET_KEY: "s",
      TMES_URL: url, TMES_ACCOUNT: "a", TMES_API_KEY: "k", HES_URL: url, HES_ACCOUNT: "a", HES_API_KEY: "k",
    };
    const r = await measured(["dist/cli/main.js", "reconcile", "--repo", repo, "--at", AT, "--format", "json"], env);
    return { mode, mib, ...r, requests: { ...counts } };
  } finally {
    server.closeAllConnections();
    server.close();
    rmSync(work, { recursive: true, force: true });
  }
}

/** Runs a node script as a child, sampling its peak RSS (VmHWM) until it exits or LIMIT_MS passes (then SIGKILL). */
function measured(args, env) {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const p = spawn(process.execPath, args, { cwd: root, env, stdio: ["ignore", "ignore", "pipe"] });
    const err = [];
    let peakKiB = 0;
    let killed = false;
    const sample = () => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${p.pid}/status`, "utf8"));
        if (m) peakKiB = Math.max(peakKiB, Number(m[1]));
      } catch {
        // exited between two samples
      }
      if (Date.now() - t0 > LIMIT_MS && !killed) {
        killed = true;
        p.kill("SIGKILL");
      }
    };
    const timer = setInterval(sample, 100);
    p.stderr.on("data", (b) => err.push(b));
    p.on("error", reject);
    p.on("exit", () => sample());
    p.on("close", (code, signal) => {
      clearInterval(timer);
      resolve({ code: killed ? `killed after ${LIMIT_MS / 1000} s` : (code ?? signal), ms: Date.now() - t0, peakMiB: peakKiB / 1024, stderr: Buffer.concat(err).toString("utf8") });
    });
  });
}

export async function benchHostile(mib = 1024) {
  return [await one("plain", 0), await one("huge-companies", mib), await one("endless-pages", 0), await one("endless-tokens", 0)];
}

const WHAT = {
  plain: "plain answers (empty lists, no events): the reference",
  "huge-companies": (r) => `companies: 200 with a ${r.mib} MiB array`,
  "endless-pages": "companies: every page full, without end",
  "endless-tokens": "Email Security: a new nextToken on every page",
};
const what = (r) => (typeof WHAT[r.mode] === "function" ? WHAT[r.mode](r) : WHAT[r.mode]);
/** The systemd unit's MemoryMax (deploy/cwsync.service). */
const MEMORY_MAX_MIB = 1024;

/** The summary table's rows: one per hostile answer, against the plain run. */
export function hostileRows(rows) {
  const ref = rows.find((r) => r.mode === "plain");
  const mib = rows.find((r) => r.mode === "huge-companies")?.mib ?? 1024;
  const cmd = command("bench/hostile-answers.mjs", { BENCH_HOSTILE_MIB: mib !== 1024 ? mib : undefined, BENCH_HOSTILE_SECONDS: process.env.BENCH_HOSTILE_SECONDS });
  return rows.filter((r) => r.mode !== "plain").map((r) => {
    const stopped = typeof r.code === "number";
    return {
      figure: `\`cwsync reconcile\` of this repository's customers/ against a server answering ${what(r)}: peak RSS`,
      command: cmd,
      settings: settings([mib < 1024 && r.mode === "huge-companies" ? `shrunken: a ${mib} MiB body (full: 1,024)` : undefined]),
      value: `${r.peakMiB.toFixed(0)} MiB; exit ${r.code} after ${(r.ms / 1000).toFixed(1)} s; ${r.mode === "endless-tokens" ? `${r.requests.policyEvents} policy-event pages` : `${r.requests.companies} company pages`}`,
      reference: ref ? `the same reconcile against plain answers, same run: ${ref.peakMiB.toFixed(0)} MiB, exit ${ref.code}, ${(ref.ms / 1000).toFixed(1)} s` : "— (the plain run did not run)",
      ratio: ref ? ratio(r.peakMiB, ref.peakMiB) : undefined,
      target: `stops by itself, peak RSS ≤ ${MEMORY_MAX_MIB} MiB (the unit's MemoryMax)`,
      met: stopped && r.peakMiB <= MEMORY_MAX_MIB,
    };
  });
}

export function printHostile(rows) {
  console.log("\n| remote answer | exit | wall | peak RSS | requests |\n| --- | --- | --- | --- | --- |");
  for (const r of rows) {
    const reqs = r.mode === "endless-tokens" ? `${r.requests.policyEvents} policy-event pages` : `${r.requests.companies} company pages`;
    console.log(`| ${what(r)} | ${r.code} | ${(r.ms / 1000).toFixed(1)} s | ${r.peakMiB.toFixed(0)} MiB | ${reqs} |`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const m = machine();
  const rows = await benchHostile(Number(process.env.BENCH_HOSTILE_MIB ?? 1024));
  printHostile(rows);
  printTable(hostileRows(rows), m, join(root, "bench/out/summary-hostile.md"));
}
