import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { reconcileWorld } from "./helpers/reconcile-world.ts";
import { waitFor } from "./helpers/wait-for.ts";

const CLI = join(import.meta.dirname, "../dist/cli/main.js");
// deploy/cwsync.service: systemd kills what is left after this
const TIMEOUT_STOP_MS = 60_000;

/** The git processes of this machine whose command line contains `text` (Linux: /proc). */
function gitProcessesWith(text: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
      // git itself and its helpers (git-remote-http), not the daemon whose --repo names the URL
      if (cmdline.includes(text) && /^(\S*\/)?git(-remote-\S+)? /.test(cmdline)) found.push(`${pid}: ${cmdline}`);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

describe("stopping the daemon while git hangs", () => {
  it.runIf(process.platform === "linux")("SIGTERM during a fetch from a server that never answers: the daemon exits in time and leaves no git behind", async () => {
    // a git server that takes the connection and then says nothing
    const sockets = new Set<Socket>();
    const silent = createServer((s) => void sockets.add(s));
    await new Promise<void>((done) => silent.listen(0, "127.0.0.1", done));
    onTestFinished(() => {
      for (const s of sockets) s.destroy();
      silent.close();
    });
    const port = (silent.address() as { port: number }).port;
    const url = `http://127.0.0.1:${port}/customers.git`;
    const w = await reconcileWorld();
    const daemon = spawn(process.execPath, [CLI, "run", "--no-tui", "--listen", "127.0.0.1:0", "--repo", url], {
      cwd: w.repo.dir, env: { ...process.env, ...w.env }, stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    daemon.stderr!.setEncoding("utf8").on("data", (t: string) => void (stderr += t));
    const exited = new Promise<number | null>((done) => daemon.on("close", (code) => done(code)));
    onTestFinished(() => void (daemon.exitCode === null && daemon.kill("SIGKILL")));

    // the first sync is under way: git is talking to the silent server
    await waitFor("git to connect to the silent server", () => gitProcessesWith(`127.0.0.1:${port}`).length > 0, 30_000);
    daemon.kill("SIGTERM");
    // before systemd would SIGKILL it (git's own timeout is as long: the stop must not wait for it)
    const code = await Promise.race([exited, new Promise<"still running">((done) => setTimeout(() => done("still running"), TIMEOUT_STOP_MS - 5_000))]);
    expect(code, stderr).toBe(0);
    await waitFor("no git left talking to the silent server", () => gitProcessesWith(`127.0.0.1:${port}`).length === 0, 10_000);
  }, 120_000);
});
