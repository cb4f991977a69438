import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it, onTestFinished } from "vitest";
import type { CustomerView } from "../src/status/customer-view.ts";
import { reconcileWorld, type ReconcileWorld } from "./helpers/reconcile-world.ts";
import { runCli } from "./helpers/run-cli.ts";
import { waitFor } from "./helpers/wait-for.ts";

// `cwsync run` as its own process (build first: npm run build): the credentials are checked before
// it binds its port or clones anything, and a commit that later needs a missing one fails only the
// customers that need it.

const CLI = resolve(import.meta.dirname, "../dist/cli/main.js");
const BEFORE = "2026-11-30T12:00:00Z";
const DUE = "2026-12-01T07:00:00Z";
const TIMEOUT = 60_000;
const HES_MISSING = "cwsync: Hosted Email Security is not configured: set HES_URL, HES_ACCOUNT, HES_API_KEY (see the README), or pass --sandbox to use the embedded fakes\n"
  + "  Hosted Email Security is used by the hostedEmailSecurity reports of 5 customers: acme-corp, bluewater-dental, fabrikam-retail and 2 more\n";

interface Child {
  stderr(): string;
  logs(): { msg: string; [k: string]: unknown }[];
  exited: Promise<number | null>;
  kill(): void;
}

/** `cwsync run --no-tui …` in the repository with exactly this environment (plus PATH and HOME for git). */
function daemon(cwd: string, args: string[], env: Record<string, string>): Child {
  const child = spawn(process.execPath, [CLI, "run", "--no-tui", ...args], {
    cwd, env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env }, stdio: ["ignore", "ignore", "pipe"],
  });
  onTestFinished(() => void (child.exitCode === null && child.kill("SIGKILL")));
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (t: string) => void (stderr += t));
  return {
    stderr: () => stderr,
    logs: () => stderr.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as { msg: string }),
    exited: new Promise((done) => child.on("close", (code) => done(code))),
    kill: () => void child.kill("SIGTERM"),
  };
}

/** A port taken by a plain TCP server of the test: a daemon that tried to bind it would fail with EADDRINUSE. */
async function occupiedPort(): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  onTestFinished(() => new Promise<void>((done) => server.close(() => done())));
  return (server.address() as { port: number }).port;
}

function freshStateDir(): string {
  const parent = mkdtempSync(join(tmpdir(), "cwsync-run-"));
  onTestFinished(() => rmSync(parent, { recursive: true, force: true }));
  return join(parent, "state");
}

const without = (env: Record<string, string>, prefix: string) => Object.fromEntries(Object.entries(env).filter(([k]) => !k.startsWith(prefix)));

/** A bare repository the world's working repository pushes to, as a file:// URL. */
function origin(w: ReconcileWorld): { url: string; push(): void } {
  const parent = mkdtempSync(join(tmpdir(), "cwsync-origin-"));
  onTestFinished(() => rmSync(parent, { recursive: true, force: true }));
  const dir = join(parent, "customers.git");
  execFileSync("git", ["clone", "-q", "--bare", w.repo.dir, dir], { env: { ...process.env, GIT_CONFIG_NOSYSTEM: "1" } });
  w.repo.git("remote", "add", "origin", dir);
  return { url: pathToFileURL(dir).href, push: () => void w.repo.git("push", "-q", "origin", "HEAD:main") };
}


describe("cwsync run checks the credentials before it starts", () => {
  it("without the ConnectWise variables: exit 64 naming them, no port bound, no clone, no state directory", { timeout: TIMEOUT }, async () => {
    const w = await reconcileWorld();
    const stateDir = freshStateDir();
    const { CW_URL: _u, CW_COMPANY: _c, CW_PUBLIC_KEY: _p, CW_PRIVATE_KEY: _k, CW_CLIENT_ID: _i, ...rest } = w.env;
    // the port is taken: a daemon that bound it before checking would fail on it, not with the usage error
    const port = await occupiedPort();
    for (const repo of [".", origin(w).url]) {
      const d = daemon(w.repo.dir, ["--repo", repo, "--listen", `127.0.0.1:${port}`], { ...rest, CWSYNC_STATE_DIR: stateDir });
      expect(await d.exited).toBe(64);
      expect(d.stderr()).toBe(
        "cwsync: ConnectWise is not configured: set CW_URL, CW_COMPANY, CW_PUBLIC_KEY, CW_PRIVATE_KEY, CW_CLIENT_ID (see the README), or pass --sandbox to use the embedded fakes\n",
      );
      expect(existsSync(stateDir)).toBe(false);
    }
  });

  it("a local repository whose customers report Hosted Email Security, without HES_*: exit 64 naming the variables and customers, before any clone or bind", { timeout: TIMEOUT }, async () => {
    const w = await reconcileWorld();
    const stateDir = freshStateDir();
    const port = await occupiedPort();
    const d = daemon(w.repo.dir, ["--repo", ".", "--listen", `127.0.0.1:${port}`], { ...without(w.env, "HES_"), CWSYNC_STATE_DIR: stateDir });
    expect(await d.exited).toBe(64);
    expect(d.stderr()).toBe(HES_MISSING);
    // the configuration was read from the repository itself: nothing was cloned
    expect(existsSync(join(stateDir, "repo"))).toBe(false);
  });

  it("a git URL: cloned to learn what the configuration uses, then exit 64 before the port is bound", { timeout: TIMEOUT }, async () => {
    const w = await reconcileWorld();
    const stateDir = freshStateDir();
    const port = await occupiedPort();
    const d = daemon(w.repo.dir, ["--repo", origin(w).url, "--listen", `127.0.0.1:${port}`], { ...without(w.env, "HES_"), CWSYNC_STATE_DIR: stateDir });
    expect(await d.exited).toBe(64);
    expect(d.stderr().split("\n").filter((l) => !l.startsWith("{")).join("\n")).toBe(HES_MISSING);
    expect(d.logs().map((l) => l.msg)).not.toContain("daemon started");
  });
});

describe("cwsync run when a commit needs a source whose variables are missing", () => {
  it("starts without HES_* when no active customer reports HES; a customer a commit gives an HES report fails naming the variables, the others are billed", { timeout: TIMEOUT }, async () => {
    const w = await reconcileWorld();
    // the global block's weekly HES report reaches only contoso-legal, which is suspended
    const file = (name: string) => join(w.repo.dir, "customers", name);
    w.repo.write("customers/bluewater-dental.yaml", readFileSync(file("bluewater-dental.yaml"), "utf8")
      .replace(/^notifications: global.*$/m, 'notifications:\n  timezone: UTC\n  at: "06:00"\n  billing: { products: [wfbs-adv, cas, hes], dayOfMonth: 1 }'));
    for (const f of ["acme-corp.yaml", "fabrikam-retail.yaml", "northwind-logistics.yaml", "outback-mining.yaml"]) {
      w.repo.write(`customers/${f}`, readFileSync(file(f), "utf8").replace(/\n {2}hostedEmailSecurity:\n(?: {4}.*\n)+/, "\n"));
    }
    const head = w.repo.commit("no active customer reports Hosted Email Security");
    const env = without(w.env, "HES_");
    const o = origin(w);
    o.push();
    const first = await runCli(["reconcile", "--at", BEFORE], { cwd: w.repo.dir, env });
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    w.clock.now = Date.parse(DUE);

    const d = daemon(w.repo.dir, ["--repo", o.url, "--listen", "127.0.0.1:0", "--interval", "1s", "--poll-interval", "1s", "--at", DUE], env);
    const url = await waitFor("the daemon listening", async () => d.logs().find((l) => l.msg === "daemon started")?.url as string | undefined);
    const customer = async (name: string) => (await (await fetch(`${url}/api/customers/${name}`)).json()) as CustomerView;
    await waitFor("bluewater-dental billed", async () => (await customer("bluewater-dental")).lastSend?.report === "billing");

    const sakura = file("sakura-trading.yaml");
    w.repo.write("customers/sakura-trading.yaml", `${readFileSync(sakura, "utf8")}  hostedEmailSecurity:\n    every: day\n    detections: [spam, phishing]\n`);
    const next = w.repo.commit("sakura-trading: Hosted Email Security report");
    o.push();
    const failing = await waitFor("sakura-trading failing", async () => {
      const v = await customer("sakura-trading");
      return v.attemptedRevision === next && v.status.state === "failing" ? v : undefined;
    });
    expect(failing.status.reason).toBe("detections.unavailable");
    expect(failing.status.message).toContain("Hosted Email Security is not configured: set HES_URL, HES_ACCOUNT, HES_API_KEY");
    // the daemon runs on; the other customers are billed and not failing
    expect(d.logs().filter((l) => l.msg === "credentials missing")).toEqual([
      expect.objectContaining({ source: "Hosted Email Security", variables: ["HES_URL", "HES_ACCOUNT", "HES_API_KEY"], customers: ["sakura-trading"], count: 1 }),
    ]);
    // the first revision, synced before the daemon listened, is logged as the later one is
    expect(d.logs().filter((l) => l.msg === "new revision").map((l) => l.revision)).toEqual([head, next]);
    for (const name of ["bluewater-dental", "fabrikam-retail"]) {
      const v = await customer(name);
      expect(v.lastSend).toMatchObject({ report: "billing", periodKey: "2026-12" });
      expect(v.status.state).not.toBe("failing");
    }
    expect(w.hes.requests).toEqual([]);
    d.kill();
    expect(await d.exited).toBe(0);
  });
});
