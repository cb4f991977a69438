import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { onTestFinished } from "vitest";
import type { DaemonSnapshot } from "../../src/daemon/snapshot.ts";
import type { CustomerView } from "../../src/status/customer-view.ts";

const CLI = join(import.meta.dirname, "../../dist/cli/main.js");

export interface Daemon {
  url: string;
  child: ChildProcess;
  /** Log lines so far, parsed. */
  logs(): { msg: string; [k: string]: unknown }[];
  status(): Promise<DaemonSnapshot>;
  customer(name: string): Promise<CustomerView>;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
}

/** `cwsync run --no-tui` from the built CLI in `cwd`, on a free loopback port; resolves once it listens (killed after the test). */
export function startDaemon(cwd: string, env: Record<string, string | undefined>, args: string[]): Promise<Daemon> {
  const child = spawn(process.execPath, [CLI, "run", "--no-tui", "--listen", "127.0.0.1:0", ...args], {
    cwd, env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "pipe"],
  });
  onTestFinished(() => void (child.exitCode === null && child.kill("SIGKILL")));
  let stderr = "";
  const exited = new Promise<number | null>((done) => child.on("close", (code) => done(code)));
  const logs = () => stderr.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as { msg: string; [k: string]: unknown });
  return new Promise((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`the daemon did not start:\n${stderr}`)), 20_000);
    child.stderr!.setEncoding("utf8").on("data", (t: string) => {
      stderr += t;
      const started = logs().find((l) => l.msg === "daemon started");
      if (!started) return;
      clearTimeout(timer);
      const url = started.url as string;
      const get = async <T>(path: string) => (await (await fetch(`${url}${path}`)).json()) as T;
      done({ url, child, logs, exited, status: () => get<DaemonSnapshot>("/api/status"), customer: (n) => get<CustomerView>(`/api/customers/${n}`) });
    });
    void exited.then((code) => fail(new Error(`the daemon exited with ${code}:\n${stderr}`)));
  });
}
