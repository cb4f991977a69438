import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it, onTestFinished } from "vitest";
import { HTTP_LIMITS } from "../src/daemon/http-server.ts";
import { tempRepo } from "./helpers/git-repo.ts";
import { runCli } from "./helpers/run-cli.ts";
import { waitFor } from "./helpers/wait-for.ts";

// `cwsync run` as a user starts it (its own process, the built CLI, --sandbox): what it serves
// beyond loopback, and that a flood of connections or a full file table does not end it.

const CLI = resolve(import.meta.dirname, "../dist/cli/main.js");
const TOKEN = "http-bounds-token-0123456789";
const bearer = { authorization: `Bearer ${TOKEN}` };

interface Daemon {
  url: string;
  logs(): { msg: string; [k: string]: unknown }[];
  running(): boolean;
}

function stateDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "cwsync-bounds-"));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** `cwsync run --sandbox` on a bare clone of a repository of this project's customers; `nofile` runs it under `ulimit -n`. */
function startDaemon(args: string[], opts: { env?: Record<string, string>; nofile?: number } = {}): Promise<Daemon> {
  const repo = tempRepo();
  const bare = join(stateDir(), "customers.git");
  repo.git("clone", "-q", "--bare", repo.dir, bare);
  const argv = [CLI, "run", "--no-tui", "--sandbox", "--repo", pathToFileURL(bare).href, ...args];
  const [cmd, cmdArgs] = opts.nofile ? ["sh", ["-c", `ulimit -n ${opts.nofile} && exec "$0" "$@"`, process.execPath, ...argv]] : [process.execPath, argv];
  const env = { ...process.env, CWSYNC_STATE_DIR: stateDir(), CWSYNC_API_TOKEN: "", CWSYNC_LOG_LEVEL: "info", ...opts.env };
  const child = spawn(cmd as string, cmdArgs as string[], { env, stdio: ["ignore", "ignore", "pipe"] });
  onTestFinished(() => void (child.exitCode === null && child.kill("SIGKILL")));
  let stderr = "";
  const logs = () => stderr.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as { msg: string; [k: string]: unknown });
  return new Promise((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`the daemon did not start:\n${stderr}`)), 20_000);
    child.on("close", (code) => fail(new Error(`the daemon exited with ${code}:\n${stderr}`)));
    child.stderr!.setEncoding("utf8").on("data", (t: string) => {
      stderr += t;
      const started = logs().find((l) => l.msg === "daemon started");
      if (!started) return;
      clearTimeout(timer);
      done({ url: started.url as string, logs, running: () => child.exitCode === null && child.signalCode === null });
    });
  });
}

const get = async (url: string, headers: Record<string, string> = {}) => {
  const r = await fetch(url, { headers });
  return { status: r.status, text: await r.text() };
};

/** Idle connections (nothing sent); `closed` counts those the server ended. */
async function flood(url: string, n: number): Promise<{ closed: () => number; end: () => void }> {
  const port = Number(new URL(url).port);
  const sockets: Socket[] = [];
  let closed = 0;
  await Promise.all(Array.from({ length: n }, () => new Promise<void>((ready) => {
    const s = connect(port, "127.0.0.1");
    sockets.push(s);
    s.on("error", () => undefined);
    s.on("close", () => void closed++);
    s.on("connect", () => ready());
    s.on("close", () => ready());
  })));
  const end = () => sockets.forEach((s) => s.destroy());
  onTestFinished(end);
  return { closed: () => closed, end };
}

describe("cwsync run beyond loopback", () => {
  it("refuses to start without CWSYNC_API_TOKEN, saying how to fix it", async () => {
    const repo = tempRepo();
    const r = await runCli(["run", "--no-tui", "--sandbox", "--listen", "0.0.0.0:0"], { cwd: repo.dir, env: { CWSYNC_STATE_DIR: stateDir() } });
    expect(r.code).toBe(64);
    expect(r.stderr).toContain("--listen 0.0.0.0:0 is beyond loopback and CWSYNC_API_TOKEN is not set");
    expect(r.stderr).toContain("set CWSYNC_API_TOKEN");
    expect(r.stderr).toContain("listen on 127.0.0.1");
  });

  it("with a token, answers only /healthz without it; --metrics-public opens /metrics", { timeout: 60_000 }, async () => {
    const d = await startDaemon(["--listen", "0.0.0.0:0"], { env: { CWSYNC_API_TOKEN: TOKEN } });
    expect(await get(`${d.url}/healthz`)).toEqual({ status: 200, text: "ok\n" });
    for (const path of ["/readyz", "/metrics", "/api/status"]) {
      expect((await get(`${d.url}${path}`)).status, path).toBe(401);
      expect((await get(`${d.url}${path}`, bearer)).status, path).not.toBe(401);
    }

    const open = await startDaemon(["--listen", "0.0.0.0:0", "--metrics-public"], { env: { CWSYNC_API_TOKEN: TOKEN } });
    const metrics = await get(`${open.url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.text).toContain("cwsync_");
    expect((await get(`${open.url}/readyz`)).status).toBe(401);
    expect((await get(`${open.url}/api/status`)).status).toBe(401);
  });
});

describe("cwsync run under a flood of connections", () => {
  it("closes connections past its limit at once, and goes on serving", { timeout: 60_000 }, async () => {
    const d = await startDaemon(["--listen", "127.0.0.1:0"]);
    const f = await flood(d.url, HTTP_LIMITS.maxConnections + 10);
    await waitFor("the connections past the limit closed", async () => (f.closed() >= 10 ? true : undefined), 5_000);
    // the others are held (until the idle timeout, src/daemon/http-server.test.ts): not one more is let in meanwhile
    await new Promise((r) => setTimeout(r, 500));
    expect(f.closed()).toBe(10);
    f.end();
    expect(d.running()).toBe(true);
    expect((await get(`${d.url}/healthz`)).status).toBe(200);
    expect(d.logs().find((l) => l.msg === "http connection refused: too many connections")).toMatchObject({ max: HTTP_LIMITS.maxConnections });
  });

  it("out of file descriptors (EMFILE), logs git's failure and recovers; it does not exit", { timeout: 60_000 }, async () => {
    const d = await startDaemon(["--listen", "127.0.0.1:0", "--interval", "1s"], { nofile: 200 });
    const f = await flood(d.url, 300);
    await waitFor("git failing for want of file descriptors", async () => d.logs().find((l) => l.msg === "git sync failing" && String(l.error).includes("EMFILE")), 20_000);
    expect(d.logs().find((l) => l.msg === "git sync failing")!.error).toContain("cannot start git: too many open files (EMFILE)");
    f.end();
    await waitFor("git sync recovered", async () => d.logs().find((l) => l.msg === "git sync recovered"), 30_000);
    expect(d.running()).toBe(true);
    expect((await get(`${d.url}/healthz`)).status).toBe(200);
  });
});

describe("verify --company", () => {
  it("refuses an ID no customer file could hold (5,000 characters) as a usage error, before any request", async () => {
    let requests = 0;
    const cw = createServer((_, res) => {
      requests++;
      res.end("[]");
    });
    await new Promise<void>((ready) => cw.listen(0, "127.0.0.1", ready));
    onTestFinished(() => void cw.close());
    const port = (cw.address() as { port: number }).port;
    const env = { CW_URL: `http://127.0.0.1:${port}/v4_6_release/apis/3.0`, CW_COMPANY: "acme", CW_PUBLIC_KEY: "pub", CW_PRIVATE_KEY: "priv", CW_CLIENT_ID: "client" };
    const repo = tempRepo();
    for (const [id, problem] of [["A".repeat(5000), "it has 5000 characters"], ["Acme[1]", "it contains `[` `]`"], ["", "it is empty"]] as const) {
      const r = await runCli(["verify", "--company", id], { cwd: repo.dir, env });
      expect(r.code, id.slice(0, 10)).toBe(64);
      expect(r.stderr).toContain(`--company: not a valid company ID (${problem})`);
      expect(r.stderr).toContain("1–156 characters");
      expect(r.stderr.length).toBeLessThan(400);
    }
    expect(requests).toBe(0);
    // the same with --sandbox: refused before the fakes are asked
    const sandboxed = await runCli(["verify", "--sandbox", "--company", "A".repeat(5000)], { cwd: repo.dir, env: { CWSYNC_STATE_DIR: stateDir() } });
    expect(sandboxed.code).toBe(64);
    // a valid one is asked
    expect((await runCli(["verify", "--company", "AcmeCorp"], { cwd: repo.dir, env })).code).not.toBe(64);
    expect(requests).toBeGreaterThan(0);
  });
});
