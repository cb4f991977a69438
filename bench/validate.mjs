// Times `cwsync validate` on 10,000 customer files as a whole process (wall time, peak memory),
// and ajv-cli 5 validating the same files against the same schema, for the ratio.
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { generateCustomers } from "./generate.mjs";

const root = new URL("..", import.meta.url).pathname;
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

function measure(label, args, okCodes = [0]) {
  const rssFile = join(root, "bench/out/rss.txt");
  const walls = [];
  const rss = [];
  for (let i = 0; i < RUNS; i++) {
    rmSync(rssFile, { force: true });
    const t0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, ["--import", join(root, "bench/peak-rss.mjs"), ...args], {
      cwd: root,
      env: { ...process.env, BENCH_RSS_FILE: rssFile, CI: "" },
      stdio: ["ignore", "ignore", "pipe"],
      maxBuffer: 64 * 1024 * 1024,
    });
    walls.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (!okCodes.includes(r.status)) throw new Error(`${label} exited ${r.status}: ${r.stderr.toString().slice(0, 2000)}`);
    rss.push(Math.max(...readFileSync(rssFile, "utf8").trim().split("\n").map(Number)) / 1024);
  }
  walls.sort((a, b) => a - b);
  return { label, medianMs: walls[Math.floor(walls.length / 2)], minMs: walls[0], peakMiB: Math.max(...rss) };
}

export function benchValidate(count = 10_000) {
  const dir = join(root, "bench/out/customers");
  generateCustomers(dir, count, join(root, "customers/_global.yaml"));
  const ours = measure("cwsync validate", ["dist/cli/main.js", "validate", "bench/out/customers", "--format", "json"]);
  const ajv = measure("ajv-cli 5 validate", [
    "node_modules/ajv-cli/dist/index.js", "validate", "-s", "schemas/customer.schema.json",
    "-d", "bench/out/customers/c-*.yaml", "--strict=false", "--errors=no",
  ]);
  return { count, ours, ajv, ratio: ours.medianMs / ajv.medianMs };
}
