// What the benches that run cwsync as a whole process share: a packed git repository of the
// generated customers, and a child run with its peak RSS recorded.
import { execFileSync, spawn } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;

const GIT_ENV = {
  ...process.env, GIT_CONFIG_NOSYSTEM: "1",
  GIT_AUTHOR_NAME: "cwsync bench", GIT_AUTHOR_EMAIL: "bench@cwsync.invalid",
  GIT_COMMITTER_NAME: "cwsync bench", GIT_COMMITTER_EMAIL: "bench@cwsync.invalid",
};

/**
 * Makes `dir` a git repository with everything in it committed on `main`, packed — as a clone or
 * any repository past git's auto-gc is (5,000 loose objects add ~1 s to each read).
 */
export function commitAll(dir, message) {
  const git = (...args) => execFileSync("git", args, { cwd: dir, env: GIT_ENV, stdio: ["ignore", "pipe", "pipe"] });
  git("init", "-q", "-b", "main");
  git("add", "-A");
  git("commit", "-q", "-m", message);
  git("gc", "-q");
}

/**
 * Runs a node script as a child with peak-rss.mjs preloaded (`flags` before it, e.g. --cpu-prof);
 * asynchronous, so the fakes in this process keep answering.
 */
export function child(args, env, rssFile, flags = []) {
  rmSync(rssFile, { force: true });
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    // BENCH_CHILD_NODE_FLAGS: more node flags for every measured cwsync process (e.g. --heapsnapshot-near-heap-limit=1 --max-old-space-size=60)
    const extra = process.env.BENCH_CHILD_NODE_FLAGS?.split(/\s+/).filter(Boolean) ?? [];
    const p = spawn(process.execPath, [...flags, ...extra, "--import", join(root, "bench/peak-rss.mjs"), ...args], {
      cwd: root, env: { ...env, BENCH_RSS_FILE: rssFile }, stdio: ["ignore", "pipe", "pipe"],
    });
    const out = [];
    const err = [];
    p.stdout.on("data", (b) => out.push(b));
    p.stderr.on("data", (b) => err.push(b));
    p.on("error", reject);
    p.on("close", (code) => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      const peakMiB = Math.max(...readFileSync(rssFile, "utf8").trim().split("\n").map(Number)) / 1024;
      resolve({ code, ms, peakMiB, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") });
    });
  });
}
