// The world the reconcile benches run in: N bulk customers billing on day 1, committed to a git
// repository, and the fake ConnectWise and LMPI seeded from them (dist/, so build first).
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { child, commitAll } from "./child-process.mjs";

const root = new URL("..", import.meta.url).pathname;
export const dist = (p) => import(join(root, "dist", p));

/** How many of `xs` fall under each `key`. */
export const count = (xs, key) => xs.reduce((m, x) => ((m[key(x)] = (m[key(x)] ?? 0) + 1), m), {});

/** A temp work folder (`name` in its name) with the repository of `n` customers, and the two fakes seeded from it. */
export async function bulkWorld(n, name) {
  const { startConnectWiseSandbox } = await dist("sandbox/connectwise-sandbox.js");
  const { startLmpiSandbox } = await dist("sandbox/lmpi-sandbox.js");
  const { loadSandboxCustomers, seedFromCustomers } = await dist("sandbox/seed.js");
  const { seedLmpiFromCustomers } = await dist("sandbox/lmpi-seed.js");
  const { writeBulkCustomers } = await dist("sandbox/bulk-customers.js");

  const work = mkdtempSync(join(tmpdir(), `cwsync-bench-${name}-`));
  const repo = join(work, "repo");
  writeBulkCustomers(repo, n, { dayOfMonth: 1 });
  commitAll(repo, `${n} bulk customers`);
  const { customers, global } = loadSandboxCustomers(repo);
  const cw = await startConnectWiseSandbox({ seed: seedFromCustomers(customers, global) });
  const lmpi = await startLmpiSandbox({ rows: seedLmpiFromCustomers(customers, global) });
  return { work, repo, rssFile: join(work, "rss.txt"), cw, lmpi };
}

/** `cwsync reconcile --format json` at `at` as a whole process: its run (time, peak RSS) and its report. */
export async function reconcileJson(label, repo, at, env, rssFile) {
  const run = await child(["dist/cli/main.js", "reconcile", "--repo", repo, "--at", at, "--format", "json"], env, rssFile);
  try {
    return { run, report: JSON.parse(run.stdout) };
  } catch {
    throw new Error(`${label}: cwsync reconcile exited ${run.code} without a JSON report: ${run.stderr.slice(0, 2000)}`);
  }
}
