import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import type { DaemonSnapshot } from "../src/daemon/snapshot.ts";
import { reconcileWorld, type ReconcileWorld } from "./helpers/reconcile-world.ts";
import { waitFor } from "./helpers/wait-for.ts";

// The daemon (`cwsync run --no-tui`, its own process; build first: npm run build) while every
// remote answers errors that quote our credentials back: no secret may reach its logs, its HTTP
// API, its metrics, the state directory, or `status` and `history` read from that state later.

const CLI = resolve(import.meta.dirname, "../dist/cli/main.js");
const BEFORE = "2026-11-30T12:00:00Z";
/** Billing (LMPI) and the daily detection reports (TMES, HES) are due. */
const DUE = "2026-12-01T07:00:00Z";
const TIMEOUT = 90_000;
const ECHOES = 10_000;

/** Every secret value of the world's environment by name, each also unpadded (base64) and URL-encoded. */
function secretsOf(w: ReconcileWorld): Record<string, string> {
  const { company, publicKey, privateKey } = w.cw.credentials;
  const basic = (pair: string) => Buffer.from(pair).toString("base64");
  const raw: Record<string, string> = {
    CW_PRIVATE_KEY: privateKey,
    "ConnectWise Basic auth": basic(`${company}+${publicKey}:${privateKey}`),
    LMPI_SECRET_KEY: w.lmpi.credentials.secretKey,
    LMPI_ACCESS_TOKEN: w.lmpi.credentials.accessToken,
    TMES_API_KEY: w.tmes.credentials.apiKey,
    "TMES Basic auth": basic(`${w.tmes.credentials.account}:${w.tmes.credentials.apiKey}`),
    HES_API_KEY: w.hes.credentials.apiKey,
    "HES Basic auth": basic(`${w.hes.credentials.account}:${w.hes.credentials.apiKey}`),
  };
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    out[name] = value;
    // unpadded base64 is what a scrubber that cuts at `=` would leave
    out[`${name} (unpadded)`] = value.replace(/=+$/, "");
    out[`${name} (URL-encoded)`] = encodeURIComponent(value);
  }
  return out;
}

/** The secrets (by name) found in a text, each with the text around it. */
function leaks(secrets: Record<string, string>, text: string): string[] {
  return Object.entries(secrets).flatMap(([name, value]) => {
    const at = text.indexOf(value);
    return at < 0 ? [] : [`${name}: …${text.slice(Math.max(0, at - 120), at + value.length + 40)}…`];
  });
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

function startDaemon(w: ReconcileWorld) {
  const child = spawn(process.execPath, [CLI, "run", "--no-tui", "--listen", "127.0.0.1:0", "--repo", ".", "--interval", "1s", "--poll-interval", "1s", "--at", DUE], {
    cwd: w.repo.dir, env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...w.env }, stdio: ["ignore", "pipe", "pipe"],
  });
  onTestFinished(() => void (child.exitCode === null && child.kill("SIGKILL")));
  let stdout = "";
  let stderr = "";
  child.stdout!.setEncoding("utf8").on("data", (t: string) => void (stdout += t));
  child.stderr!.setEncoding("utf8").on("data", (t: string) => void (stderr += t));
  const logs = () => stderr.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as { msg: string; [k: string]: unknown });
  return {
    stdout: () => stdout,
    stderr: () => stderr,
    logs,
    exited: new Promise<number | null>((done) => child.on("close", (code) => done(code))),
    stop: () => void child.kill("SIGTERM"),
  };
}

interface Case {
  remote: string;
  /** Makes the remote echo our credentials in its error bodies. */
  echo(w: ReconcileWorld): void;
  /** The start of the echoed error, up to the first credential, as `/api/status` or `/api/customers/<name>` shows it: proof the echo reached the user. */
  shows: RegExp;
}

/** Enough echoing answers for every request the daemon makes while the test watches. */
function echoes<F extends { kind: string }>(faults: F[], fault: F): void {
  for (let i = 0; i < ECHOES; i++) faults.push(fault);
}

const CASES: Case[] = [
  {
    remote: "ConnectWise, on every read of the companies",
    echo: (w) => void w.cw.faults.add({ kind: "echo-auth", status: 400, method: "GET", path: "/company/companies", times: Infinity }),
    shows: /ConnectWise GET company\/companies answered 400 — BadRequest: rejected request with Authorization: Basic /,
  },
  {
    remote: "ConnectWise, on every write",
    echo: (w) => void w.cw.faults.add({ kind: "echo-auth", status: 400, method: "POST", times: Infinity }),
    shows: /ConnectWise POST [^"]* answered 400 — BadRequest: rejected request with Authorization: Basic /,
  },
  {
    remote: "LMPI",
    echo: (w) => echoes(w.lmpi.faults, { kind: "echo-auth" }),
    shows: /LMPI POST \/LMPI\/v3\/reports\/summary answered 401 — InvalidSignature: rejected x-access-token: /,
  },
  {
    remote: "Trend Micro Email Security",
    echo: (w) => echoes(w.tmes.faults, { kind: "echo-auth" }),
    shows: /Trend Micro Email Security GET \/api\/v1\/log\/policyeventlog answered 401 — AuthenticationMissingOrInvalid: rejected Authorization: Basic /,
  },
  {
    remote: "Hosted Email Security",
    echo: (w) => echoes(w.hes.faults, { kind: "echo-auth" }),
    shows: /Hosted Email Security GET \/api\/v1\/log\/policyeventlog answered 401 — AuthenticationMissingOrInvalid: rejected Authorization: Basic /,
  },
];

describe("the daemon facing a remote that echoes our credentials in its error bodies", () => {
  for (const c of CASES) {
    it(`${c.remote}: no secret in the logs, /api/status, /api/customers, /metrics, the state directory, \`status\` or \`history\``, { timeout: TIMEOUT }, async () => {
      const w = await reconcileWorld();
      const first = await w.run("reconcile", "--at", BEFORE);
      expect(first.code).toBe(0);
      w.clock.now = Date.parse(DUE);
      const secrets = secretsOf(w);
      c.echo(w);

      const d = startDaemon(w);
      const url = await waitFor("the daemon listening", async () => d.logs().find((l) => l.msg === "daemon started")?.url as string | undefined);
      const get = async (path: string) => (await fetch(`${url}${path}`)).text();
      const snapshot = async () => JSON.parse(await get("/api/status")) as DaemonSnapshot;
      const everyCustomer = async () => {
        const names = (await snapshot()).customers.map((x) => x.name);
        return Promise.all(names.map(async (name) => ({ name, text: await get(`/api/customers/${name}`) })));
      };
      await waitFor(`the echoed ${c.remote} error in the API`, async () =>
        c.shows.test(await get("/api/status")) || (await everyCustomer()).some((x) => c.shows.test(x.text)));
      // one more cycle, so that what it met is recorded everywhere
      const seen = await snapshot();
      await waitFor("another reconcile or poll", async () => {
        const s = await snapshot();
        return JSON.stringify([s.lastReconcile, s.lastPoll]) !== JSON.stringify([seen.lastReconcile, seen.lastPoll]);
      });

      const found: Record<string, string[]> = {};
      const check = (where: string, text: string) => {
        const l = leaks(secrets, text);
        if (l.length) found[where] = l;
      };
      check("GET /api/status", await get("/api/status"));
      const customers = await everyCustomer();
      for (const x of customers) check(`GET /api/customers/${x.name}`, x.text);
      check("GET /metrics", await get("/metrics"));
      const api = [await get("/api/status"), ...customers.map((x) => x.text)].join("\n");

      d.stop();
      expect(await d.exited).toBe(0);
      check("daemon stdout", d.stdout());
      check("daemon stderr", d.stderr());
      const files = filesUnder(w.stateDir);
      expect(files.map((f) => f.slice(w.stateDir.length))).toContain("/state.db");
      for (const f of files) check(`state file ${f.slice(w.stateDir.length)}`, readFileSync(f).toString("latin1"));

      const status = await w.run("status", "--format", "json");
      check("cwsync status --format json", status.stdout + status.stderr);
      for (const x of customers) {
        const history = await w.run("history", x.name, "--format", "json");
        expect(history.code).toBe(0);
        check(`cwsync history ${x.name} --format json`, history.stdout + history.stderr);
      }
      expect(found).toEqual({});
      // and the user sees where the credentials were cut out
      expect(api).toMatch(new RegExp(`${c.shows.source}\\[redacted\\]`));
    });
  }
});
