// `npm start`: the whole loop on this repository's customers/, against the embedded fakes, in a
// throw-away state directory — validate, a first reconcile 32 days ago (history starts there),
// then one now that sends what fell due since: billing months and detection reports; on a terminal,
// then the daemon with its dashboard on that state until `q`.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const cli = join(import.meta.dirname, "..", "dist", "cli", "main.js");
const stateDir = mkdtempSync(join(tmpdir(), "cwsync-demo-"));
const env = { ...process.env, CWSYNC_STATE_DIR: stateDir };
const run = (args, opts = {}) => spawnSync(process.execPath, [cli, ...args], { env, encoding: "utf8", stdio: opts.capture ? "pipe" : "inherit" });
const say = (text) => process.stdout.write(`\n\u001b[1m== ${text}\u001b[0m\n`);

try {
  say("cwsync validate customers");
  if (run(["validate", "customers"]).status !== 0) process.exit(1);
  const now = new Date();
  const before = new Date(now.getTime() - 32 * 24 * 3600_000);
  say(`cwsync reconcile --sandbox --at ${before.toISOString()}  (first reconcile: history starts here)`);
  run(["reconcile", "--sandbox", "--at", before.toISOString()]);
  say("cwsync reconcile --sandbox  (sends what fell due since, exactly once)");
  const json = run(["reconcile", "--sandbox", "--at", now.toISOString(), "--format", "json"], { capture: true });
  const result = JSON.parse(json.stdout);
  for (const c of result.customers) console.log(`  ${c.name.padEnd(24)} ${c.state.padEnd(9)} ${c.reason}${c.location ? ` (${c.location})` : ""}`);
  const sent = result.outcomes.filter((o) => o.result === "done").length;
  console.log(`  ${sent} tickets sent; ${result.actions.filter((a) => a.kind === "record").length} periods recorded as missed or skipped`);
  for (const kind of ["billing", "report"]) {
    const a = result.actions.find((x) => x.kind === kind);
    if (!a) continue;
    say(`a ${kind === "billing" ? "billing" : "detection report"} ticket: ${a.summary}`);
    console.log(a.description);
  }
  say("cwsync status");
  run(["status"]);
  const ci = ["CI", "CONTINUOUS_INTEGRATION"].some((k) => process.env[k] !== undefined && process.env[k] !== "0" && process.env[k] !== "false");
  if (process.stdout.isTTY && process.stdin.isTTY && !ci) {
    say("cwsync run --sandbox  (the daemon and its dashboard on the same state: / filter, Enter detail, r reconcile, s send now, q quit)");
    run(["run", "--sandbox", "--listen", "127.0.0.1:0"]);
  }
  console.log("\nThe fakes lived only for each command; the state directory was temporary. See the README to run cwsync for real.");
} finally {
  rmSync(stateDir, { recursive: true, force: true });
}
