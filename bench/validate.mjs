// `cwsync validate` as a whole process, against its yardsticks, in alternating runs (A B A B …, so
// that a machine whose speed drifts moves both sides of each ratio alike):
//   - on N generated customer files (bench/generate.mjs; 10,000 by default) against the parse floor,
//     bench/parse-floor.mjs: reading every file the same way and parsing it with js-yaml, nothing
//     else (target: ratio ≤ 1.3), and against ajv-cli 5 checking the same files against the same
//     schema (schema checks only: no YAML safety, rules, cross-file rules or positions);
//   - cold `validate customers/` (this repository's examples) against `node -e 0` (target ≤ 2.5).
// Run: `node bench/validate.mjs` (after `npm run build`); BENCH_CUSTOMERS and BENCH_RUNS (default 5).
//
// `benchValidate(count)` returns:
//   count                 the number of customer files (plus the folder's _global.yaml)
//   runs                  timed runs of each command on the N files (after one untimed warm-up run
//                         of each); the cold pair runs twice as many
//   ours, floor, ajv      { label, medianMs, minMs, maxMs, peakMiB, walls: [ms …] }: cwsync validate
//                         --format json, the parse floor, ajv-cli 5 (wall time and peak RSS of the
//                         measured process)
//   floorRatio            median of the run-by-run ratios ours / floor (the ≤ 1.3 target)
//   ajvRatio              median of the run-by-run ratios ours / ajv
//   ratio                 ours.medianMs / ajv.medianMs (the figure of issue 2, kept for bench/run.mjs)
//   cold                  { ours, node, ratio }: `cwsync validate customers` and `node -e 0`
//                         ({ label, medianMs, … } as above, peakMiB NaN: both run without the
//                         peak-RSS hook), and the median of the run-by-run ratios ours / node
//                         (the ≤ 2.5 target)
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { generateCustomers } from "./generate.mjs";

const root = new URL("..", import.meta.url).pathname;
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

/** One whole-process run: wall time from spawn to exit, and the process's peak RSS (bench/peak-rss.mjs). */
function runOnce(cmd) {
  const rssFile = join(root, `bench/out/rss-${process.pid}.txt`);
  rmSync(rssFile, { force: true });
  const t0 = process.hrtime.bigint();
  // the peak-RSS hook is a preloaded module: a ~10 ms start-up cost that would flatter the cold ratio, so not there
  const hook = cmd.rss === false ? [] : ["--import", join(root, "bench/peak-rss.mjs")];
  const r = spawnSync(process.execPath, [...hook, ...cmd.args], {
    cwd: cmd.cwd ?? root,
    env: { ...process.env, BENCH_RSS_FILE: rssFile, CI: "", GITHUB_ACTIONS: "", ...cmd.env },
    stdio: ["ignore", "ignore", "pipe"],
    maxBuffer: 64 * 1024 * 1024,
  });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (!(cmd.okCodes ?? [0]).includes(r.status)) throw new Error(`${cmd.label} exited ${r.status}: ${r.stderr.toString().slice(0, 2000)}`);
  const peak = cmd.rss === false ? NaN : Math.max(...readFileSync(rssFile, "utf8").trim().split("\n").map(Number)) / 1024;
  rmSync(rssFile, { force: true });
  return { ms, peakMiB: peak };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Runs the commands in turn (A B C A B C …) `runs` times after one warm-up round; per command its figures. */
function alternate(cmds, runs = RUNS) {
  for (const c of cmds) runOnce(c);
  const results = cmds.map(() => []);
  for (let i = 0; i < runs; i++) cmds.forEach((c, k) => results[k].push(runOnce(c)));
  return results.map((rs, k) => {
    const walls = rs.map((r) => r.ms);
    return { label: cmds[k].label, medianMs: median(walls), minMs: Math.min(...walls), maxMs: Math.max(...walls), peakMiB: Math.max(...rs.map((r) => r.peakMiB)), walls };
  });
}

/** The median of the run-by-run ratios a / b (runs paired by their index, run next to each other). */
const pairedRatio = (a, b) => median(a.walls.map((w, i) => w / b.walls[i]));

export function benchValidate(count = 10_000) {
  // a folder of this process's own: another bench (or another run) generating its files at the same time cannot mix in
  const rel = `bench/out/validate-${process.pid}`;
  const dir = join(root, rel, "customers");
  generateCustomers(dir, count, join(root, "customers/_global.yaml"));
  try {
    const [ours, floor, ajv] = alternate([
      { label: "cwsync validate", args: ["dist/cli/main.js", "validate", `${rel}/customers`, "--format", "json"] },
      { label: "parse floor (read + js-yaml)", args: ["bench/parse-floor.mjs", `${rel}/customers`] },
      {
        label: "ajv-cli 5 validate",
        args: ["node_modules/ajv-cli/dist/index.js", "validate", "-s", "schemas/customer.schema.json", "-d", `${rel}/customers/c-*.yaml`, "--strict=false", "--errors=no"],
      },
    ]);
    // short runs: twice as many pairs as the long ones
    const [coldOurs, coldNode] = alternate([
      { label: "cwsync validate customers (cold)", args: ["dist/cli/main.js", "validate", "customers"], rss: false },
      { label: "node -e 0", args: ["-e", "0"], rss: false },
    ], RUNS * 2);
    return {
      count,
      runs: RUNS,
      ours,
      floor,
      ajv,
      floorRatio: pairedRatio(ours, floor),
      ajvRatio: pairedRatio(ours, ajv),
      ratio: ours.medianMs / ajv.medianMs,
      cold: { ours: coldOurs, node: coldNode, ratio: pairedRatio(coldOurs, coldNode) },
    };
  } finally {
    rmSync(join(root, rel), { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const v = benchValidate(Number(process.env.BENCH_CUSTOMERS ?? 10_000));
  const ms = (x) => `${x.toFixed(0)} ms`;
  const row = (x) => `| ${x.label} | ${ms(x.medianMs)} | ${ms(x.minMs)}–${ms(x.maxMs)} | ${Number.isNaN(x.peakMiB) ? "—" : `${x.peakMiB.toFixed(0)} MiB`} |`;
  console.log(`Node ${process.version}, ${v.count} files, ${v.runs} alternating runs each\n`);
  console.log("| command | median wall | range | peak RSS |\n| --- | --- | --- | --- |");
  for (const x of [v.ours, v.floor, v.ajv, v.cold.ours, v.cold.node]) console.log(row(x));
  console.log(`\ncwsync validate / parse floor: ${v.floorRatio.toFixed(2)} (median of run-by-run ratios; target ≤ 1.3)`);
  console.log(`cwsync validate / ajv-cli 5: ${v.ajvRatio.toFixed(2)}`);
  console.log(`cold validate customers/ / node -e 0: ${v.cold.ratio.toFixed(2)} (median of run-by-run ratios; target ≤ 2.5)`);
}
