// Verifies 5,000 companies and resolves their agreements against the sandbox with 20 ms of latency
// per request, through the client at its shipped limiter defaults (16 requests a second after a
// burst of 30, 8 at once: src/adapters/connectwise/limiter.ts): requests made and wall time, then
// the same with 5 % of requests answered 503. Each case runs BENCH_CW_RUNS times (default 3; the
// median wall is reported). The reference is computed, not measured: the bound the limiter and the
// latency set for the requests the run made — the larger of (requests − burst) ÷ rate (the burst goes
// at once, the rest at the rate) and ⌈requests ÷ concurrency⌉ × latency.
// Run alone: `node bench/connectwise.mjs` (after `npm run build`); BENCH_COMPANIES sets the count.
import { join } from "node:path";
import { command, machine, median, printTable, ratio, settings, shrunk } from "./table.mjs";

const root = new URL("..", import.meta.url).pathname;
const dist = (p) => import(join(root, "dist", p));

export const FULL_COMPANIES = 5000;
const RUNS = Number(process.env.BENCH_CW_RUNS ?? 3);
const LATENCY_MS = 20;
const TARGET_MS = 5000;
const TARGET_REQUESTS = 120;

export async function benchConnectWise(count = FULL_COMPANIES, runs = RUNS) {
  const { startConnectWiseSandbox } = await dist("sandbox/connectwise-sandbox.js");
  const { bulkSeed } = await dist("sandbox/seed.js");
  const { ConnectWiseTransport } = await dist("adapters/connectwise/transport.js");
  const { ConnectWiseClient } = await dist("adapters/connectwise/connectwise-client.js");
  const { systemClock } = await dist("adapters/clock-system.js");
  const { observeConnectWise } = await dist("observe/observe-connectwise.js");
  const { checkCustomer } = await dist("core/connectwise-checks.js");
  const { DEFAULT_CW_RATE, DEFAULT_CW_BURST, DEFAULT_CW_CONCURRENCY } = await dist("adapters/connectwise/limiter.js");
  const defaults = { ratePerSecond: DEFAULT_CW_RATE, burst: DEFAULT_CW_BURST, concurrency: DEFAULT_CW_CONCURRENCY };

  const global = {
    connectwise: { defaultAgreementTypes: ["TMRM Management Solution", "Managed Service"], tickets: { board: "Managed Services" } },
    products: { "wfbs-svc": { displayName: "WFBS-SVC", lmp: { productName: "WFBS-SVC" }, catalogItem: "TM-WFBSS", quantity: "used" } },
  };
  const customers = Array.from({ length: count }, (_, i) => ({
    name: `bulk-${i + 1}`, enabled: true, companyId: `BULK${String(i + 1).padStart(5, "0")}`, agreements: { "wfbs-svc": "default" },
  }));

  async function once(faultRate) {
    const sandbox = await startConnectWiseSandbox({ seed: bulkSeed(count) });
    try {
      sandbox.faults.latencyMs = LATENCY_MS;
      if (faultRate > 0) sandbox.faults.add({ kind: "status", status: 503, probability: faultRate });
      // no limiter options: the client's shipped defaults
      const http = new ConnectWiseTransport({ url: sandbox.url, ...sandbox.credentials }, { clock: systemClock });
      const t0 = performance.now();
      const snapshot = await observeConnectWise(new ConnectWiseClient(http), customers, global);
      const checks = customers.map((c) => checkCustomer(c, global, snapshot));
      const ms = performance.now() - t0;
      const resolved = checks.filter((c) => c.company.state === "found" && c.mappings.every((m) => m.state === "resolved")).length;
      const { ratePerSecond, burst, concurrency } = http.limiter;
      const requests = sandbox.requests.length;
      // the limiter's bound: the burst at once, every later request at the rate; and the latency's:
      // the requests in rounds of `concurrency`, each round one latency (both computed)
      const limiterMs = (Math.max(0, requests - burst) / ratePerSecond) * 1000;
      const latencyMs = Math.ceil(requests / concurrency) * LATENCY_MS;
      const boundMs = Math.max(limiterMs, latencyMs);
      return { ms, requests, failed: sandbox.requests.filter((q) => q.status >= 500).length, resolved, waitedMs: http.limiter.waitedMs, boundMs, limiterMs, latencyMs, limiter: { ratePerSecond, burst, concurrency } };
    } finally {
      await sandbox.close();
    }
  }

  async function run(label, faultRate) {
    const each = [];
    for (let i = 0; i < runs; i++) each.push(await once(faultRate));
    const ms = median(each.map((x) => x.ms));
    const mid = each.find((x) => x.ms === ms);
    return { label, faultRate, runs, each, ...mid, ms, ratio: ms / mid.boundMs };
  }
  return [await run("no faults", 0), await run("5% 503s", 0.05)].map((r) => ({ ...r, count, defaults }));
}

export function printConnectWise(cw) {
  const l = cw[0].limiter;
  console.log(`\n| verify + resolve agreements, ${cw[0].count} companies, ${LATENCY_MS} ms latency, limiter ${l.ratePerSecond}/s after ${l.burst}, ${l.concurrency} at once | requests (503s) | wall, median of ${cw[0].runs} | limiter / latency bound (computed) | ratio | resolved | limiter waits |\n| --- | --- | --- | --- | --- | --- | --- |`);
  for (const r of cw) console.log(`| ${r.label} | ${r.requests} (${r.failed}) | ${(r.ms / 1000).toFixed(2)} s | ${(r.boundMs / 1000).toFixed(2)} s | ${r.boundMs > 0 ? r.ratio.toFixed(2) : "—"} | ${r.resolved} | ${(r.waitedMs / 1000).toFixed(1)} s |`);
  console.log(`each run (s): ${cw.map((r) => `${r.label}: ${r.each.map((x) => (x.ms / 1000).toFixed(2)).join(" ")}`).join("; ")}`);
  console.log(`(targets: ≤ ${TARGET_REQUESTS} requests and ≤ ${TARGET_MS / 1000} s)`);
}

/** The summary table's rows: one per case. */
export function connectWiseRows(cw) {
  return cw.map((r) => {
    const l = r.limiter;
    const shipped = l.ratePerSecond === r.defaults.ratePerSecond && l.burst === r.defaults.burst && l.concurrency === r.defaults.concurrency;
    return {
      figure: `verify ${r.count.toLocaleString("en-US")} companies + resolve their agreements, in process, ${LATENCY_MS} ms latency${r.faultRate ? `, ${r.faultRate * 100} % of requests answered 503 (seeded)` : ""}`,
      command: command("bench/connectwise.mjs", { BENCH_COMPANIES: r.count !== FULL_COMPANIES ? r.count : undefined, BENCH_CW_RUNS: r.runs !== 3 ? r.runs : undefined }),
      settings: settings([shrunk(r.count, FULL_COMPANIES, "companies"), shrunk(r.runs, 3, "runs"), shipped ? undefined : `limiter ${l.ratePerSecond}/s after ${l.burst}, ${l.concurrency} at once`]),
      value: `${(r.ms / 1000).toFixed(2)} s, ${r.requests} requests (${r.failed} answered 503), ${r.resolved} resolved (median of ${r.runs})`,
      reference: `the bound the limiter and the latency set, computed (not measured): the larger of (${r.requests} − ${l.burst} burst) ÷ ${l.ratePerSecond}/s = ${(r.limiterMs / 1000).toFixed(2)} s${r.limiterMs > 0 ? "" : " (all within the burst)"} and ⌈${r.requests} ÷ ${l.concurrency} at once⌉ × ${LATENCY_MS} ms = ${(r.latencyMs / 1000).toFixed(2)} s`,
      ratio: ratio(r.ms, r.boundMs),
      target: `≤ ${TARGET_MS / 1000} s, ≤ ${TARGET_REQUESTS} requests`,
      met: r.ms <= TARGET_MS && r.requests <= TARGET_REQUESTS && r.resolved === r.count,
    };
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const m = machine();
  const cw = await benchConnectWise(Number(process.env.BENCH_COMPANIES ?? FULL_COMPANIES));
  printConnectWise(cw);
  printTable(connectWiseRows(cw), m, join(root, "bench/out/summary-connectwise.md"));
}
