import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { describe, expect, it, onTestFinished } from "vitest";
import { systemClock } from "../src/adapters/clock-system.ts";
import { SEND_NOW_QUEUE } from "../src/daemon/request-queue.ts";
import type { DaemonControl } from "../src/daemon/http-server.ts";
import { createMetrics } from "../src/daemon/metrics.ts";
import { createDeps } from "../src/app/deps.ts";
import { runDaemon, type DaemonOptions } from "../src/daemon/run-daemon.ts";
import { reconcileWorld, type ReconcileWorld } from "./helpers/reconcile-world.ts";
import { runCli } from "./helpers/run-cli.ts";

// The CLI's --url mode against the daemon run in-process (test/daemon.test.ts runs it as its own
// process): what a client sees when nothing listens, when a token is wanted, when the queue is full.

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function emptyDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "cwsync-url-"));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** `cwsync run` in this process, on the world's fakes; stopped when the test ends. */
async function daemonInProcess(w: ReconcileWorld, opts: Partial<DaemonOptions> = {}): Promise<{ url: string; control: DaemonControl }> {
  const stop = new AbortController();
  let listening!: (d: { url: string; control: DaemonControl }) => void;
  const started = new Promise<{ url: string; control: DaemonControl }>((resolve) => (listening = resolve));
  const exited = runDaemon(
    {
      repo: ".", intervalMs: 3_600_000, pollIntervalMs: 3_600_000, listen: { host: "127.0.0.1", port: 0 }, allowMassRemoval: false, sandbox: false,
      settleMs: 0, connectwise: { concurrency: 8, ratePerSecond: 1000, burst: 1000 }, ...opts,
    },
    { io: createDeps({ stdout: () => undefined, stderr: () => undefined, env: w.env, cwd: w.repo.dir }), log: pino({ level: "silent" }), metrics: createMetrics(), clock: systemClock, stop: stop.signal, onListening: listening },
  );
  onTestFinished(async () => {
    stop.abort();
    await exited;
  });
  return Promise.race([started, exited.then((code) => Promise.reject(new Error(`the daemon exited with ${code}`)))]);
}

describe("--url: reaching the daemon", () => {
  it("names the URL and asks whether cwsync run runs there when nothing listens (exit 1)", async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const cwd = emptyDir();
    for (const argv of [["send-now", "acme-corp", "--url", url], ["reconcile", "--url", url], ["reconcile", "--format", "json"]]) {
      const r = await runCli(argv, { cwd, env: { CWSYNC_URL: url } });
      expect(r.stdout, argv.join(" ")).toBe("");
      expect(r.stderr).toBe(`cwsync: no cwsync daemon answers at ${url} (connection refused): is \`cwsync run\` running there? Start it, or pass the address it listens on (its --listen) with --url or CWSYNC_URL\n`);
      expect(r.code).toBe(1);
    }
  });

  it("refuses, as usage errors naming them, the flags a daemon cannot honour and the flags that need --url", async () => {
    const cwd = emptyDir();
    const url = "http://127.0.0.1:9";
    const run = (argv: string[], env: Record<string, string> = {}) => runCli(argv, { cwd, env });

    const flags = await run(["reconcile", "--url", url, "--repo", "elsewhere", "--at", "2027-01-01T00:00:00Z", "--allow-mass-removal"]);
    expect(flags.code).toBe(64);
    expect(flags.stderr).toMatch(/^cwsync: --repo, --at, --allow-mass-removal cannot be sent to the daemon \(--url http:\/\/127\.0\.0\.1:9\): /);
    const viaEnv = await run(["send-now", "acme-corp", "--sandbox"], { CWSYNC_URL: url });
    expect(viaEnv.code).toBe(64);
    expect(viaEnv.stderr).toMatch(/^cwsync: --sandbox cannot be sent to the daemon \(CWSYNC_URL=http:\/\/127\.0\.0\.1:9\): .*unset CWSYNC_URL/);

    const key = await run(["send-now", "acme-corp", "--idempotency-key", "k1"]);
    expect(key.code).toBe(64);
    expect(key.stderr).toContain("--idempotency-key applies only with --url");

    const bad = await run(["reconcile", "--url", "127.0.0.1:9464"]);
    expect(bad.code).toBe(64);
    expect(bad.stderr).toContain("is not an http:// or https:// URL");
  });
});

describe("--url against a daemon", () => {
  it("sends CWSYNC_API_TOKEN as a bearer token, and says so when the daemon wants one", { timeout: 30_000 }, async () => {
    const w = await reconcileWorld();
    const d = await daemonInProcess(w, { apiToken: "api-token-for-tests" });
    const none = await runCli(["reconcile", "--url", d.url], { cwd: w.repo.dir, env: w.env });
    expect(none.code).toBe(1);
    expect(none.stderr).toBe(`cwsync: the daemon at ${d.url} wants its API token: set CWSYNC_API_TOKEN to the value the daemon runs with\n`);
    const withToken = await runCli(["reconcile", "--url", d.url, "--format", "json"], { cwd: w.repo.dir, env: { ...w.env, CWSYNC_API_TOKEN: "api-token-for-tests" } });
    expect(withToken.stderr).toBe("");
    expect(withToken.code).toBe(0);
    expect((JSON.parse(withToken.stdout) as { customers: unknown[] }).customers).toHaveLength(8);
  });

  it("bounds the send-now queue: past it a request is refused as busy, nothing queued", { timeout: 30_000 }, async () => {
    const w = await reconcileWorld();
    const { control } = await daemonInProcess(w);
    // asked all at once, before the daemon's worker takes the first
    const answers = await Promise.all(Array.from({ length: SEND_NOW_QUEUE + 3 }, () => control.requestSendNow("nobody-here", "billing")));
    expect(answers.filter((a) => a.refused === "busy")).toHaveLength(3);
    expect(answers.filter((a) => a.refused === undefined)).toHaveLength(SEND_NOW_QUEUE);
    expect(answers.find((a) => a.refused === "busy")?.message).toMatch(/^the daemon has \d+ send-now requests waiting; try again shortly$/);
  });
});
