import { EventEmitter } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { stripVTControlCharacters } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import type { DaemonSnapshot } from "../../daemon/snapshot.ts";
import { ExitError } from "../../errors.ts";
import type { CustomerView } from "../../status/customer-view.ts";
import { exitCodeOf, main } from "../cli-main.ts";
import { createDeps, type Deps } from "../../app/deps.ts";
import { dashboardCommand, type Terminal } from "./dashboard.ts";

/** expect.poll gives up after 1 s by default: too short on a loaded machine. */
const POLL = { timeout: 20_000 };

const acme: CustomerView = {
  name: "acme-corp",
  file: "customers/acme-corp.yaml",
  status: { state: "ready", reason: "ok", message: "in sync", since: "2026-01-02T08:00:00.000Z" },
  company: { identifier: "ACME", state: "active", id: 17, name: "Acme" },
  agreements: [],
  nextDue: [{ report: "billing", periodKey: "2026-01", due: "2026-01-31T07:00:00.000Z", overdue: false }],
  unfinished: [],
  missed: [],
  heldDecreases: [],
};

const SNAPSHOT: DaemonSnapshot = {
  at: "2026-01-05T06:00:00.000Z",
  repo: { source: "example/customers", applied: "abc123def4567890" },
  connectwise: { target: "cw.example", healthy: true, requests: { "2xx": 3 }, rateLimitWaits: 0 },
  states: { ready: 1 },
  customers: [acme],
};

/** A stand-in daemon: serves the snapshot and records what the dashboard asks of it. */
async function fakeDaemon(token?: string): Promise<{ url: string; requests: string[]; server: Server }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url} ${req.headers.authorization ?? "-"}`);
    req.resume();
    res.setHeader("content-type", "application/json");
    if (token && req.headers.authorization !== `Bearer ${token}`) return res.writeHead(401).end(JSON.stringify({ error: "missing or wrong bearer token" }));
    if (req.url === "/api/status") return res.end(JSON.stringify(SNAPSHOT));
    if (req.method === "POST" && (req.url === "/api/customers/acme-corp/reconcile" || req.url === "/api/reconcile")) return res.writeHead(202).end(JSON.stringify({ accepted: true }));
    if (req.method === "POST" && req.url === "/api/customers/acme-corp/send-now?report=billing")
      return res.end(JSON.stringify({ ok: true, message: "billing 2026-01 sent: ticket #4712" }));
    res.writeHead(404).end(JSON.stringify({ error: `no route ${req.method} ${req.url}` }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests, server };
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

/** A terminal in memory: what Ink writes, and keys to type. */
function fakeTerminal(isTTY = true): Terminal & { output: () => string; type: (key: string) => void } {
  let written = "";
  const stdout = Object.assign(new EventEmitter(), { isTTY, columns: 120, rows: 30, write: (s: string) => ((written += s), true) });
  let pending: string | null = null;
  const stdin = Object.assign(new EventEmitter(), {
    isTTY,
    setRawMode: () => stdin,
    setEncoding: () => stdin,
    resume: () => stdin,
    pause: () => stdin,
    ref: () => stdin,
    unref: () => stdin,
    read: () => {
      const data = pending;
      pending = null;
      return data;
    },
  });
  return {
    stdout: stdout as unknown as NodeJS.WriteStream,
    stdin: stdin as unknown as NodeJS.ReadStream,
    output: () => stripVTControlCharacters(written),
    type: (key) => {
      pending = key;
      stdin.emit("readable");
    },
  };
}

const io = (env: Record<string, string> = {}): Deps & { err: () => string } => {
  let err = "";
  return { ...createDeps({ stdout: () => undefined, stderr: (t) => void (err += t), env, cwd: process.cwd() }), err: () => err };
};

describe("dashboardCommand", () => {
  it("refuses without a terminal, or under CI, and points to cwsync status (exit 64)", async () => {
    const { url, requests } = await fakeDaemon();
    const noTty = dashboardCommand({ url }, io(), fakeTerminal(false));
    await expect(noTty).rejects.toThrow(ExitError);
    await expect(noTty).rejects.toMatchObject({
      code: 64,
      message: expect.stringContaining("the dashboard needs an interactive terminal (stdout is not a terminal); use `cwsync status`"),
    });
    await expect(dashboardCommand({ url }, io({ CI: "true" }), fakeTerminal())).rejects.toMatchObject({ code: 64, message: expect.stringContaining("(CI is set)") });
    expect(requests).toEqual([]);

    const cli = io({ CI: "1" });
    expect(await main(["dashboard", "--url", url], cli)).toBe(64);
    expect(cli.err()).toContain("cwsync: the dashboard needs an interactive terminal");
  });

  it("says no daemon answers, and how to start one, when nothing listens at --url (exit 1)", async () => {
    const { url, server } = await fakeDaemon();
    await new Promise((resolve) => server.close(resolve));
    const run = dashboardCommand({ url }, io(), fakeTerminal()).catch((e: unknown) => e);
    expect(exitCodeOf(await run)).toBe(1);
    await expect(run).resolves.toMatchObject({
      message: `no cwsync daemon answers at ${url} (GET ${url}/api/status: connection refused); start one with \`cwsync run\`, or pass --url with the address it listens on (its --listen)`,
    });
  });

  it("asks for CWSYNC_API_TOKEN when the daemon wants one", async () => {
    const { url } = await fakeDaemon("s3cret");
    const refused = await dashboardCommand({ url }, io(), fakeTerminal()).catch((e: unknown) => e);
    expect(exitCodeOf(refused)).toBe(1);
    expect(refused).toMatchObject({ message: expect.stringContaining("set CWSYNC_API_TOKEN") });
  });

  it("shows the daemon's customers, maps r, R and s+y to its POST routes with the token, and exits 0 on q", async () => {
    const { url, requests } = await fakeDaemon("s3cret");
    const term = fakeTerminal();
    const running = dashboardCommand({ url, pollMs: 50 }, io({ CWSYNC_API_TOKEN: "s3cret" }), term);
    // Ink listens for keys once it has mounted (under CI it prints only the last frame, so wait on that)
    await expect.poll(() => (term.stdin as unknown as EventEmitter).listenerCount("readable"), POLL).toBeGreaterThan(0);
    term.type("r");
    await expect.poll(() => requests, POLL).toContain("POST /api/customers/acme-corp/reconcile Bearer s3cret");
    term.type("R");
    await expect.poll(() => requests, POLL).toContain("POST /api/reconcile Bearer s3cret");
    // typed faster than React renders: each key still applies to the state the previous one left
    term.type("s");
    term.type("y");
    await expect.poll(() => requests, POLL).toContain("POST /api/customers/acme-corp/send-now?report=billing Bearer s3cret");
    await expect.poll(() => requests.filter((r) => r.startsWith("GET /api/status")).length, POLL).toBeGreaterThan(3);
    await new Promise((resolve) => setTimeout(resolve, 100));
    term.type("q");
    expect(await running).toBe(0);
    const out = term.output();
    expect(out).toContain("acme-corp");
    expect(out).toContain("send billing for acme-corp: billing 2026-01 sent: ticket #4712");
    // polling stops with the dashboard (a poll already on its way when q was pressed may still land)
    await new Promise((resolve) => setTimeout(resolve, 100));
    const polls = requests.length;
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(requests.length).toBe(polls);
  });

  it("keeps showing the last status, with a warning, while the daemon does not answer", async () => {
    const { url, server } = await fakeDaemon();
    const term = fakeTerminal();
    const running = dashboardCommand({ url, pollMs: 50 }, io(), term);
    await expect.poll(() => (term.stdin as unknown as EventEmitter).listenerCount("readable"), POLL).toBeGreaterThan(0);
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await new Promise((resolve) => setTimeout(resolve, 300));
    term.type("q");
    expect(await running).toBe(0);
    const last = term.output().split("cwsync applied").at(-1)!;
    expect(last).toContain("acme-corp");
    expect(last).toContain(`daemon not answering (GET ${url}/api/status: connection refused); retrying — figures from 01-05 06:00Z`);
  });
});
