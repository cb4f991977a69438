// `npm start`: the whole loop on this repository's customers/, against the embedded fakes, in the
// state directory .cwsync-demo/ (started afresh each time, kept afterwards) — validate, a first
// reconcile 32 days ago (history starts there), then one now that sends what fell due since:
// billing months and detection reports; on a terminal, then the daemon with its dashboard on that
// state until `q`. `npm start -- --fault <name>` (repeatable; `--fault list` lists them) switches
// fault presets on in every fake the commands start, through CWSYNC_SANDBOX_FAULTS.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { isAbsolute, join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";

const root = join(import.meta.dirname, "..");
const cli = join(root, "dist", "cli", "main.js");

const { values: args } = parseArgs({ options: { fault: { type: "string", multiple: true } }, strict: false });
const asked = [...(process.env.CWSYNC_SANDBOX_FAULTS ?? "").split(","), ...(args.fault ?? []).filter((f) => typeof f === "string")]
  .map((f) => f.trim()).filter((f) => f !== "");
if (asked.includes("list")) process.exit(spawnSync(process.execPath, [cli, "sandbox", "--fault", "list"], { stdio: "inherit" }).status ?? 1);
const { FAULT_PRESETS } = await import("../dist/sandbox/fault-presets.js");
const faults = [...new Set(asked)].map((name) => FAULT_PRESETS.find((p) => p.name === name) ?? name);
const unknown = faults.filter((f) => typeof f === "string");
if (unknown.length > 0) {
  console.error(`npm start: unknown sandbox fault ${unknown.map((n) => `\`${n}\``).join(", ")}; the faults are ${FAULT_PRESETS.map((p) => p.name).join(", ")} (npm start -- --fault list describes them)`);
  process.exit(64);
}
// CWSYNC_DEMO_STATE_DIR is for tests; never CWSYNC_STATE_DIR, which may name a real state
const stateDir = resolve(process.env.CWSYNC_DEMO_STATE_DIR || join(root, ".cwsync-demo"));
// only a folder this script made is cleared: the name could be someone's own
const MARK = ".made-by-npm-start";
if (existsSync(stateDir) && readdirSync(stateDir).length > 0 && !existsSync(join(stateDir, MARK))) {
  console.error(`${stateDir} exists and was not made by npm start; move it away, then run npm start again.`);
  process.exit(1);
}
rmSync(stateDir, { recursive: true, force: true });
mkdirSync(stateDir, { recursive: true });
writeFileSync(join(stateDir, MARK), "The state directory of `npm start` (scripts/demo.mjs); the next npm start deletes it.\n");

const env = { ...process.env, CWSYNC_STATE_DIR: stateDir, ...(faults.length ? { CWSYNC_SANDBOX_FAULTS: faults.map((f) => f.name).join(",") } : {}) };
const run = (args, opts = {}) => spawnSync(process.execPath, [cli, ...args], { env, encoding: "utf8", stdio: opts.capture ? "pipe" : "inherit" });
// bold headings on a terminal only, and not under NO_COLOR (no-color.org)
const bold = process.stdout.isTTY === true && !process.env.NO_COLOR;
const say = (text) => process.stdout.write(bold ? `\n\u001b[1m== ${text}\u001b[0m\n` : `\n== ${text}\n`);
// a ticket's body as ConnectWise shows it, set off from the demo's own lines
const quote = (text) => console.log(text.trimEnd().split("\n").map((l) => `  │ ${l}`.trimEnd()).join("\n"));
const shown = (path) => {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith("..") && !isAbsolute(rel) ? rel : path;
};

if (faults.length) {
  console.log(`Faults on (CWSYNC_SANDBOX_FAULTS=${faults.map((f) => f.name).join(",")}), expect: ${faults.map((f) => `${f.name}: ${f.expect}`).join("; ")}.`);
}
say("cwsync validate customers");
if (run(["validate", "customers"]).status !== 0) process.exit(1);
const now = new Date();
const before = new Date(now.getTime() - 32 * 24 * 3600_000);
say(`cwsync reconcile --sandbox --at ${before.toISOString()}  (first reconcile: history starts here)`);
run(["reconcile", "--sandbox", "--at", before.toISOString()]);
say("cwsync reconcile --sandbox  (sends what fell due since, exactly once)");
const json = run(["reconcile", "--sandbox", "--at", now.toISOString(), "--format", "json"], { capture: true });
if (json.status !== 0 && !json.stdout.trim()) {
  process.stderr.write(json.stderr);
  process.exit(json.status ?? 1);
}
const result = JSON.parse(json.stdout);
for (const c of result.customers) console.log(`  ${c.name.padEnd(24)} ${c.state.padEnd(9)} ${c.reason}${c.location ? ` (${c.location})` : ""}`);
const sentKeys = new Set(result.outcomes.filter((o) => o.result === "done").map((o) => o.key));
console.log(`  ${sentKeys.size} tickets sent; ${result.actions.filter((a) => a.kind === "record").length} periods recorded as missed or skipped`);

const billing = result.actions.find((a) => a.kind === "billing" && sentKeys.has(a.key));
if (billing) {
  say(`a billing ticket: ${billing.summary}`);
  quote(billing.description);
}

// The two reconciles are 32 days apart with no polling in between, and the email-security services keep
// events for 72 hours: reports of older periods go out saying "Data incomplete", as they would after a
// daemon outage that long. A report whose period the second reconcile polled in full shows what a
// running daemon (it polls every 15 minutes) sends every time.
const reports = result.actions.filter((a) => a.kind === "report" && sentKeys.has(a.key));
const complete = reports.filter((a) => !a.incomplete);
const report = [...complete].sort((a, b) => b.end.localeCompare(a.end) || b.total - a.total)[0] ?? reports.at(-1);
if (report) {
  say(`a detection report ticket: ${report.summary}`);
  const incomplete = reports.length - complete.length;
  console.log(`  ${reports.length} detection reports sent, ${complete.length} with every event counted${incomplete ? `; ${incomplete} say "Data incomplete":` : "."}`);
  if (incomplete) console.log("  their periods began before the 72 hours of events the services keep, and nothing polled between the two reconciles.");
  console.log(`  ${report.incomplete ? "None was complete; the latest" : "The latest complete one"} (${report.customer}, ${report.periodKey}, ${report.total} detections):\n`);
  quote(report.description);
}

say("cwsync status");
run(["status"]);
const ci = ["CI", "CONTINUOUS_INTEGRATION"].some((k) => process.env[k] !== undefined && process.env[k] !== "0" && process.env[k] !== "false");
if (process.stdout.isTTY && process.stdin.isTTY && !ci) {
  say("cwsync run --sandbox  (the daemon and its dashboard on the same state: / filter, Enter detail, r reconcile, s send now, q quit)");
  run(["run", "--sandbox", "--listen", "127.0.0.1:0"]);
}

const dir = shown(stateDir);
const log = join(stateDir, "cwsync.log");
console.log(`\nThe state is kept in ${dir}/ (state.db${existsSync(log) ? `; the daemon's log: ${shown(log)}` : ""}); the next npm start begins it afresh.`);
console.log(`Look again with: CWSYNC_STATE_DIR=${dir} node dist/cli/main.js status`);
console.log("The fakes lived only for each command. See the README to run cwsync for real.");
