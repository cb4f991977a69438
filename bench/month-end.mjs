// Month-end at ConnectWise's pace (issue 16): `cwsync reconcile` billing N customers (default
// 5,000) as a whole process against the sandbox with 50–150 ms of latency on every ConnectWise
// request and ConnectWise's throttle (the `throttle` fault: 1,000 requests a minute, a bucket of
// 50, 429 + Retry-After past it), at the client's shipped limiter defaults. Reports the wall time
// of the billing run against the throttle bound (its requests at 1,000 a minute), the 429s and
// their share, tickets per customer (must be exactly 1) and peak RSS.
// Run alone: `npm run build && node bench/month-end.mjs` (~15 minutes at 5,000; BENCH_MONTH_END_CUSTOMERS=1000
// for ~3). BENCH_CW_RATE / BENCH_CW_BURST / BENCH_CW_CONCURRENCY set the limiter (default: unset, the shipped defaults).
import { rmSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { bulkWorld, count, dist, reconcileJson } from "./bulk-world.mjs";


const LATENCY_MS = 50;
const LATENCY_JITTER_MS = 100;
export const THROTTLE_PER_MINUTE = 1000;
// billing is due on day 1 at 06:00 UTC (writeBulkCustomers)
const BEFORE = "2026-11-30T12:00:00Z";
const AFTER = "2026-12-01T06:01:00Z";


export async function benchMonthEnd(n = 5000, limits = {}) {
  const { work, repo, rssFile, cw, lmpi } = await bulkWorld(n, "month-end");
  cw.faults.latencyMs = LATENCY_MS;
  cw.faults.latencyJitterMs = LATENCY_JITTER_MS;
  cw.faults.add({ kind: "throttle", perMinute: THROTTLE_PER_MINUTE });
  const tuning = Object.fromEntries(Object.entries({ CWSYNC_CW_RATE: limits.rate, CWSYNC_CW_BURST: limits.burst, CWSYNC_CW_CONCURRENCY: limits.concurrency }).filter(([, v]) => v));
  const env = {
    ...process.env, CI: "",
    CW_URL: cw.url, CW_COMPANY: cw.credentials.company, CW_PUBLIC_KEY: cw.credentials.publicKey,
    CW_PRIVATE_KEY: cw.credentials.privateKey, CW_CLIENT_ID: cw.credentials.clientId,
    LMPI_URL: lmpi.url, LMPI_ACCESS_TOKEN: lmpi.credentials.accessToken, LMPI_SECRET_KEY: lmpi.credentials.secretKey,
    CWSYNC_STATE_DIR: join(work, "state"), ...tuning,
  };
  for (const k of ["CWSYNC_CW_RATE", "CWSYNC_CW_BURST", "CWSYNC_CW_CONCURRENCY"]) if (!(k in tuning)) delete env[k];

  async function reconcile(label, at) {
    const from = cw.requests.length;
    const { run: r, report } = await reconcileJson(label, repo, at, env, rssFile);
    const requests = cw.requests.slice(from);
    const throttled = requests.filter((q) => q.status === 429).length;
    const boundMs = (requests.length / THROTTLE_PER_MINUTE) * 60_000;
    const result = {
      label, ms: r.ms, peakMiB: r.peakMiB, exitCode: r.code,
      requests: requests.length, throttled, throttledShare: throttled / Math.max(1, requests.length),
      posts: requests.filter((q) => q.method === "POST").length,
      boundMs, ratio: r.ms / boundMs,
      busiestMinute: busiestMinute(requests.map((q) => q.at)),
      outcomes: count(report.outcomes, (o) => o.result),
      states: count(report.customers, (c) => c.state),
      failures: report.outcomes.filter((o) => o.result !== "done").slice(0, 5).map((o) => `${o.customer} ${o.result}: ${o.message}`),
    };
    console.error(`[month-end bench] ${label}: ${(r.ms / 1000).toFixed(1)} s, ${result.requests} requests, ${throttled} answered 429 (${(100 * result.throttledShare).toFixed(2)} %), bound ${(boundMs / 1000).toFixed(1)} s, ratio ${result.ratio.toFixed(3)}, busiest minute ${result.busiestMinute}, outcomes ${JSON.stringify(result.outcomes)}, exit ${r.code}`);
    return result;
  }

  try {
    const apply = await reconcile("1: apply (nothing due)", BEFORE);
    const ticketsBefore = cw.state.tickets.length;
    const billing = await reconcile("2: month-end billing", AFTER);
    const made = cw.state.tickets.slice(ticketsBefore);
    const perCompany = count(made, (t) => t.company.id);
    const counts = Object.values(perCompany);
    const tickets = {
      total: made.length, companies: counts.length,
      exactlyOne: counts.length === n && counts.every((c) => c === 1),
      most: Math.max(0, ...counts),
    };
    return { n, latencyMs: [LATENCY_MS, LATENCY_MS + LATENCY_JITTER_MS], throttlePerMinute: THROTTLE_PER_MINUTE, limits: tuning, apply, billing, tickets };
  } finally {
    await cw.close();
    await lmpi.close();
    rmSync(work, { recursive: true, force: true });
  }
}

/** The most requests that arrived in any 60 s window. */
function busiestMinute(at) {
  let most = 0;
  for (let i = 0, j = 0; i < at.length; i++) {
    while (at[i] - at[j] >= 60_000) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

export function printMonthEnd(r) {
  const b = r.billing;
  const limits = Object.keys(r.limits).length ? Object.entries(r.limits).map(([k, v]) => `${k}=${v}`).join(" ") : "the shipped limiter defaults";
  console.log(`\nMonth-end at ConnectWise's pace: ${r.n} customers, ${r.latencyMs[0]}–${r.latencyMs[1]} ms latency, sandbox throttle ${r.throttlePerMinute}/min, ${limits}`);
  console.log("| run | wall | requests | 429s (share) | throttle bound (requests at 1,000/min) | ratio | busiest minute | tickets per customer | peak RSS | outcomes |");
  console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
  for (const x of [r.apply, b]) {
    const tickets = x === b ? `${r.tickets.exactlyOne ? "exactly 1" : `NOT 1: ${r.tickets.total} tickets for ${r.tickets.companies} companies, most ${r.tickets.most}`}` : "–";
    console.log(`| ${x.label} | ${(x.ms / 1000).toFixed(1)} s | ${x.requests} | ${x.throttled} (${(100 * x.throttledShare).toFixed(2)} %) | ${(x.boundMs / 1000).toFixed(1)} s | ${x.ratio.toFixed(3)} | ${x.busiestMinute} | ${tickets} | ${x.peakMiB.toFixed(0)} MiB | ${JSON.stringify(x.outcomes)} |`);
  }
  console.log(`(targets: billing ratio ≤ 1.10, 429s < 2 %, exactly one ticket per customer, peak RSS ≤ 200 MB)${b.failures.length ? `; first failures: ${b.failures.join(" | ")}` : ""}`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(`machine: ${os.cpus().length} cores (${os.cpus()[0]?.model}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`);
  const r = await benchMonthEnd(Number(process.env.BENCH_MONTH_END_CUSTOMERS ?? 5000), {
    rate: process.env.BENCH_CW_RATE, burst: process.env.BENCH_CW_BURST, concurrency: process.env.BENCH_CW_CONCURRENCY,
  });
  printMonthEnd(r);
  console.log(JSON.stringify(r));
}
