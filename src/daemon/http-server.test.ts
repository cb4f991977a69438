import { createHmac } from "node:crypto";
import { request, type IncomingHttpHeaders } from "node:http";
import { connect, type Socket } from "node:net";
import { Writable } from "node:stream";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import type { ReleaseAnswer, ReleaseRequest } from "../app/release.ts";
import { exitCodeOf } from "../cli/cli-main.ts";
import type { CustomerView } from "../status/customer-view.ts";
import { apiAccess, startHttpServer, verifyGithubSignature, type DaemonControl, type HttpServerOptions, type ReconcileResult, type SendNowResult } from "./http-server.ts";
import { createMetrics } from "./metrics.ts";
import type { DaemonSnapshot } from "./snapshot.ts";

const SECRET = "whsec-0123456789";
const TOKEN = "api-token-abcdef123456";

const view = (name: string): CustomerView => ({
  name, file: `customers/${name}.yaml`,
  status: { state: "ready", reason: "ok", message: "ready", since: "2027-01-04T06:00:00.000Z" },
  agreements: [], nextDue: [{ report: "billing", periodKey: "2027-01", due: "2027-02-01T06:00:00.000Z", overdue: false }],
  unfinished: [], missed: [], heldDecreases: [],
});

const SNAPSHOT: DaemonSnapshot = {
  at: "2027-01-04T06:00:00.000Z",
  repo: { source: "https://github.com/msp/customers.git", branch: "main", applied: "abc123" },
  connectwise: { target: "ConnectWise sandbox", healthy: true, requests: { "2xx": 4 }, rateLimitWaits: 0 },
  states: { ready: 2 },
  customers: [view("acme-corp"), view("beta ltd")],
};

class FakeControl implements DaemonControl {
  readyState: { ready: boolean; reason?: string } = { ready: true };
  reconciles: { reason: string; customer?: string; wait?: boolean }[] = [];
  sends: { customer: string; report?: string }[] = [];
  shuttingDown = false;
  sendResult: SendNowResult = {
    ok: true, customer: "acme-corp", message: "billing 2027-01: sent, ticket #42 (key cws-0123456789)", at: "2027-01-04T06:00:00.000Z", revision: "abc123",
    sends: [{ report: "billing", periodKey: "2027-01", result: "sent", ticketId: 42, key: "cws-0123456789" }],
  };
  /** Each send waits for this before it answers. */
  sendGate: Promise<void> = Promise.resolve();
  reconcileResult: ReconcileResult = {
    ok: true, reason: "api", at: "2027-01-04T06:00:01.000Z", durationMs: 850, repo: { source: "https://github.com/msp/customers.git", applied: "abc123" },
    report: { revision: "abc123", at: "2027-01-04T06:00:00.000Z", dryRun: false, globalProblem: null, massRemoval: null, unclaimedLmp: [], customers: [], actions: [], outcomes: [] },
  };
  snapshot = () => SNAPSHOT;
  ready = () => this.readyState;
  requestReconcile = (reason: string, customer?: string) => {
    if (this.shuttingDown) return false;
    this.reconciles.push(customer === undefined ? { reason } : { reason, customer });
    return true;
  };
  reconcileNow = async (reason: string, customer?: string): Promise<ReconcileResult> => {
    if (this.shuttingDown) return { ...this.reconcileResult, ok: false, stopping: true, error: "the daemon is shutting down", report: undefined };
    this.reconciles.push(customer === undefined ? { reason, wait: true } : { reason, customer, wait: true });
    return this.reconcileResult;
  };
  requestSendNow = async (customer: string, report?: "billing" | "hostedEmailSecurity" | "emailSecurity") => {
    this.sends.push(report === undefined ? { customer } : { customer, report });
    await this.sendGate;
    return this.sendResult;
  };
  releases: ReleaseRequest[] = [];
  requestRelease = async (r: ReleaseRequest): Promise<ReleaseAnswer> => {
    this.releases.push(r);
    return { ok: true, customer: r.customer, released: [], message: `${r.customer}: no held decrease to release; nothing changed` };
  };
}

interface Reply { status: number; headers: IncomingHttpHeaders; text: string; json: () => any }

function call(base: string, method: string, path: string, init: { headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, base), { method, headers: init.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) });
      });
    });
    req.on("error", reject);
    req.end(init.body);
  });
}

const running: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

async function start(extra: Partial<HttpServerOptions> = {}) {
  const control = new FakeControl();
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString("utf8").split("\n").filter(Boolean)) lines.push(JSON.parse(l));
      done();
    },
  });
  const metrics = createMetrics();
  const server = await startHttpServer({
    listen: { host: "127.0.0.1", port: 0 }, control, metrics, log: pino({ level: "debug" }, sink), ...extra,
  });
  running.push(server);
  return { url: server.url, control, lines, metrics, server };
}

const sign = (body: string, secret = SECRET) => "sha256=" + createHmac("sha256", secret).update(body).digest("hex");
const PUSH = JSON.stringify({ ref: "refs/heads/main", after: "def456", commits: [{ id: "def456" }] });
const hook = (body: string, event: string, signature?: string) => ({
  body, headers: { "content-type": "application/json", "x-github-event": event, ...(signature ? { "x-hub-signature-256": signature } : {}) },
});

describe("health, readiness and metrics", () => {
  it("answers /healthz with ok and /readyz with 200, or 503 and the reason", async () => {
    const { url, control } = await start();
    expect(await call(url, "GET", "/healthz")).toMatchObject({ status: 200, text: "ok\n" });
    expect((await call(url, "GET", "/readyz")).status).toBe(200);
    control.readyState = { ready: false, reason: "no reconcile for 3 intervals (last at 2027-01-04T05:00:00Z)" };
    const r = await call(url, "GET", "/readyz");
    expect(r.status).toBe(503);
    expect(r.text).toContain("no reconcile for 3 intervals");
  });

  it("serves the registry on /metrics in the Prometheus text format", async () => {
    const { url, metrics } = await start();
    metrics.send("billing", "sent");
    const r = await call(url, "GET", "/metrics");
    expect(r.status).toBe(200);
    expect(r.headers["content-type"]).toContain("text/plain; version=0.0.4");
    expect(r.text).toContain('cwsync_sends_total{report="billing",result="sent"} 1');
    expect(r.text).toContain("cwsync_process_cpu_user_seconds_total");
  });
});

describe("the JSON API", () => {
  it("returns the snapshot on /api/status", async () => {
    const { url } = await start();
    const r = await call(url, "GET", "/api/status");
    expect(r.status).toBe(200);
    expect(r.headers["content-type"]).toContain("application/json");
    expect(r.json()).toEqual(SNAPSHOT);
  });

  it("returns one customer, percent-decoded, or 404 with a JSON error", async () => {
    const { url } = await start();
    expect((await call(url, "GET", "/api/customers/acme-corp")).json()).toEqual(view("acme-corp"));
    expect((await call(url, "GET", "/api/customers/beta%20ltd")).json().name).toBe("beta ltd");
    const missing = await call(url, "GET", "/api/customers/nobody");
    expect(missing.status).toBe(404);
    expect(missing.json().error).toContain('no customer named "nobody"');
  });

  it("accepts a reconcile request for a customer with 202, and 503 while shutting down", async () => {
    const { url, control } = await start();
    const r = await call(url, "POST", "/api/customers/acme-corp/reconcile");
    expect(r.status).toBe(202);
    expect(r.json()).toEqual({ accepted: true });
    expect(control.reconciles).toEqual([{ reason: "api", customer: "acme-corp" }]);
    expect((await call(url, "POST", "/api/customers/nobody/reconcile")).status).toBe(404);
    control.shuttingDown = true;
    expect((await call(url, "POST", "/api/customers/acme-corp/reconcile")).status).toBe(503);
  });

  it("accepts a reconcile of everything on POST /api/reconcile", async () => {
    const { url, control } = await start();
    expect((await call(url, "POST", "/api/reconcile")).status).toBe(202);
    expect(control.reconciles).toEqual([{ reason: "api" }]);
    expect((await call(url, "GET", "/api/reconcile")).status).toBe(405);
  });

  it("runs send-now and answers 200 with the result, 409 when it did not send, 400 for an unknown report", async () => {
    const { url, control } = await start();
    const ok = await call(url, "POST", "/api/customers/acme-corp/send-now?report=billing");
    expect(ok.status).toBe(200);
    expect(ok.json()).toEqual(control.sendResult);
    control.sendResult = { ok: false, customer: "acme-corp", message: "billing 2027-01 was already sent", sends: [] };
    const refused = await call(url, "POST", "/api/customers/acme-corp/send-now");
    expect(refused.status).toBe(409);
    expect(refused.json().message).toBe("billing 2027-01 was already sent");
    expect(control.sends).toEqual([{ customer: "acme-corp", report: "billing" }, { customer: "acme-corp" }]);
    const bad = await call(url, "POST", "/api/customers/acme-corp/send-now?report=invoices");
    expect(bad.status).toBe(400);
    expect(bad.json().error).toContain("billing, hostedEmailSecurity, emailSecurity");
    expect(control.sends).toHaveLength(2);
  });

  it("releases a customer's held decreases on POST /api/customers/NAME/release, by whom the query names", async () => {
    const { url, control } = await start();
    const ok = await call(url, "POST", "/api/customers/acme-corp/release?by=alice&product=hes&month=2027-01");
    expect(ok.status).toBe(200);
    expect(ok.json().message).toBe("acme-corp: no held decrease to release; nothing changed");
    expect((await call(url, "POST", "/api/customers/acme-corp/release?month=January")).status).toBe(400);
    expect((await call(url, "GET", "/api/customers/acme-corp/release")).status).toBe(405);
    expect(control.releases).toEqual([{ customer: "acme-corp", by: "alice", product: "hes", month: "2027-01" }]);
  });

  it("makes one send of ten identical requests with one Idempotency-Key, answering each with its result; a repeat while it runs waits for it", async () => {
    const { url, control, lines } = await start();
    let open!: () => void;
    control.sendGate = new Promise((resolve) => (open = resolve));
    const headers = { "idempotency-key": "3f0c6c1e-5b1a-4c53-9d1e-2b8f1d0e7a11" };
    const replies = Array.from({ length: 10 }, () => call(url, "POST", "/api/customers/acme-corp/send-now?report=billing", { headers }));
    // all ten arrive while the first still runs
    await new Promise((resolve) => setTimeout(resolve, 100));
    open();
    const answers = await Promise.all(replies);
    expect(control.sends).toEqual([{ customer: "acme-corp", report: "billing" }]);
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
    expect(answers.map((a) => a.json())).toEqual(Array(10).fill(control.sendResult));
    expect(answers.filter((a) => a.headers["idempotent-replayed"] === "true")).toHaveLength(9);
    // later, the same key answers from memory; without a key each request is a send
    expect((await call(url, "POST", "/api/customers/acme-corp/send-now?report=billing", { headers })).headers["idempotent-replayed"]).toBe("true");
    await call(url, "POST", "/api/customers/acme-corp/send-now?report=billing");
    expect(control.sends).toHaveLength(2);
    expect(lines.filter((l) => l.msg === "send-now requested over http")).toHaveLength(2);
  });

  it("refuses a key reused for another request (422) and a malformed key (400), sending nothing", async () => {
    const { url, control } = await start();
    const headers = { "idempotency-key": "key-1" };
    expect((await call(url, "POST", "/api/customers/acme-corp/send-now?report=billing", { headers })).status).toBe(200);
    const other = await call(url, "POST", "/api/customers/acme-corp/send-now", { headers });
    expect(other.status).toBe(422);
    expect(other.json().error).toBe("Idempotency-Key key-1 was used for send-now of acme-corp billing; use a new key for another request");
    const bad = await call(url, "POST", "/api/customers/acme-corp/send-now", { headers: { "idempotency-key": "x".repeat(201) } });
    expect(bad.status).toBe(400);
    expect(bad.json().error).toContain("1 to 200");
    expect(control.sends).toHaveLength(1);
  });

  it("answers 503 with Retry-After when the send-now queue is full, without spending the key; 503 while shutting down", async () => {
    const { url, control } = await start();
    const headers = { "idempotency-key": "key-busy" };
    control.sendResult = { ok: false, customer: "acme-corp", message: "the daemon has 8 send-now requests waiting; try again shortly", sends: [], refused: "busy" };
    const busy = await call(url, "POST", "/api/customers/acme-corp/send-now", { headers });
    expect(busy.status).toBe(503);
    expect(busy.headers["retry-after"]).toBe("5");
    expect(busy.json()).toMatchObject({ ok: false, error: "the daemon has 8 send-now requests waiting; try again shortly" });
    control.sendResult = { ok: false, customer: "acme-corp", message: "the daemon is shutting down; nothing was sent", sends: [], refused: "stopping" };
    const stopping = await call(url, "POST", "/api/customers/acme-corp/send-now", { headers });
    expect(stopping.status).toBe(503);
    expect(stopping.headers["retry-after"]).toBeUndefined();
    control.sendResult = { ok: true, customer: "acme-corp", message: "billing 2027-01: sent", sends: [] };
    expect((await call(url, "POST", "/api/customers/acme-corp/send-now", { headers })).status).toBe(200);
    expect(control.sends).toHaveLength(3);
  });

  it("with ?wait=1, answers a reconcile request with that reconcile's result once it ran; 503 while shutting down", async () => {
    const { url, control } = await start();
    const all = await call(url, "POST", "/api/reconcile?wait=1");
    expect(all.status).toBe(200);
    expect(all.json()).toEqual(control.reconcileResult);
    const one = await call(url, "POST", "/api/customers/acme-corp/reconcile?wait=true");
    expect(one.status).toBe(200);
    expect(control.reconciles).toEqual([{ reason: "api", wait: true }, { reason: "api", customer: "acme-corp", wait: true }]);
    // wait=0 is the plain request
    expect((await call(url, "POST", "/api/reconcile?wait=0")).status).toBe(202);
    control.shuttingDown = true;
    const stopping = await call(url, "POST", "/api/reconcile?wait=1");
    expect(stopping.status).toBe(503);
    expect(stopping.json()).toMatchObject({ ok: false, stopping: true, error: "the daemon is shutting down" });
  });

  it("answers 404 JSON for unknown routes and 405 for a wrong method", async () => {
    const { url, control } = await start();
    const r = await call(url, "GET", "/nope");
    expect(r.status).toBe(404);
    expect(r.json().error).toContain("/nope");
    const wrong = await call(url, "GET", "/api/customers/acme-corp/send-now");
    expect(wrong.status).toBe(405);
    expect(wrong.headers.allow).toBe("POST");
    expect(control.sends).toHaveLength(0);
  });

  it("refuses requests from web pages when open on loopback (cross-site Origin, rebinding Host)", async () => {
    const { url, control } = await start();
    const port = new URL(url).port;
    const csrf = await call(url, "POST", "/api/customers/acme-corp/send-now", { headers: { origin: "https://evil.example" } });
    expect(csrf.status).toBe(403);
    const rebound = await call(url, "GET", "/api/status", { headers: { host: `evil.example:${port}` } });
    expect(rebound.status).toBe(403);
    expect(control.sends).toHaveLength(0);
    expect((await call(url, "GET", "/api/status", { headers: { origin: `http://localhost:${port}` } })).status).toBe(200);
  });

  it("logs each request at debug with method, path and status only", async () => {
    const { url, lines } = await start({ token: TOKEN });
    await call(url, "GET", "/api/status?verbose=1", { headers: { authorization: `Bearer ${TOKEN}` } });
    const entry = lines.find((l) => l.msg === "http request");
    expect(entry).toMatchObject({ level: 20, method: "GET", path: "/api/status", status: 200 });
    expect(JSON.stringify(lines)).not.toContain(TOKEN);
    expect(JSON.stringify(lines)).not.toContain("verbose");
  });
});

describe("API token", () => {
  it("requires Authorization: Bearer <token> on /api and POST routes, not on health and metrics", async () => {
    const { url, control } = await start({ token: TOKEN });
    const none = await call(url, "GET", "/api/status");
    expect(none.status).toBe(401);
    expect(none.headers["www-authenticate"]).toBe("Bearer");
    expect((await call(url, "GET", "/api/status", { headers: { authorization: "Bearer wrong-token" } })).status).toBe(401);
    expect((await call(url, "GET", "/api/status", { headers: { authorization: `Bearer ${TOKEN}x` } })).status).toBe(401);
    expect((await call(url, "POST", "/api/customers/acme-corp/reconcile")).status).toBe(401);
    expect(control.reconciles).toHaveLength(0);
    expect((await call(url, "GET", "/api/status", { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    for (const p of ["/healthz", "/readyz", "/metrics"]) expect((await call(url, "GET", p)).status).toBe(200);
  });

  it("decides API access by the bound address: open on loopback, refused elsewhere without a token", () => {
    expect(apiAccess("127.0.0.1", undefined)).toEqual({ mode: "open" });
    expect(apiAccess("::1", undefined)).toEqual({ mode: "open" });
    expect(apiAccess("::ffff:127.0.0.1", undefined)).toEqual({ mode: "open" });
    for (const address of ["0.0.0.0", "::", "192.168.1.10"]) {
      const a = apiAccess(address, undefined);
      expect(a.mode).toBe("refused");
      expect(a.mode === "refused" && a.reason).toContain("CWSYNC_API_TOKEN");
    }
    expect(apiAccess("0.0.0.0", TOKEN)).toEqual({ mode: "token" });
    expect(apiAccess("127.0.0.1", TOKEN)).toEqual({ mode: "token" });
  });
});

describe("listening beyond loopback", () => {
  const beyond = (extra: Partial<HttpServerOptions> = {}) => start({ listen: { host: "0.0.0.0", port: 0 }, ...extra });
  const bearer = { headers: { authorization: `Bearer ${TOKEN}` } };

  it("opens only /healthz without the token: /readyz, /metrics and the API answer 401", async () => {
    const { url } = await beyond({ token: TOKEN });
    expect((await call(url, "GET", "/healthz")).status).toBe(200);
    for (const p of ["/readyz", "/metrics", "/api/status"]) {
      const r = await call(url, "GET", p);
      expect(r.status, p).toBe(401);
      expect(r.headers["www-authenticate"], p).toBe("Bearer");
      expect(r.text, p).not.toContain("cwsync_");
      expect((await call(url, "GET", p, bearer)).status, p).toBe(200);
    }
  });

  it("opens /metrics too with metricsPublic (--metrics-public), and nothing else", async () => {
    const { url } = await beyond({ token: TOKEN, metricsPublic: true });
    const m = await call(url, "GET", "/metrics");
    expect(m.status).toBe(200);
    expect(m.text).toContain("cwsync_");
    expect((await call(url, "GET", "/readyz")).status).toBe(401);
    expect((await call(url, "GET", "/api/status")).status).toBe(401);
  });

  it("refuses /readyz and /metrics without a token configured, as the API", async () => {
    const { url, control } = await beyond();
    control.readyState = { ready: false, reason: "git sync failing: cannot reach https://internal.example/repo.git" };
    expect((await call(url, "GET", "/healthz")).status).toBe(200);
    for (const p of ["/readyz", "/metrics"]) {
      const r = await call(url, "GET", p);
      expect(r.status, p).toBe(403);
      expect(r.text, p).not.toContain("internal.example");
    }
  });

  it("keeps loopback as it was: health, readiness and metrics open", async () => {
    const { url } = await start({ token: TOKEN });
    for (const p of ["/healthz", "/readyz", "/metrics"]) expect((await call(url, "GET", p)).status, p).toBe(200);
  });
});

describe("connection limits", () => {
  /** A client that sends `head`, then one more line every 50 ms; resolves to how long the server took to close it, and what it answered. */
  const trickle = (url: string, head: string, line: string) =>
    new Promise<{ ms: number; answer: string }>((resolve) => {
      const socket = connect(Number(new URL(url).port), "127.0.0.1");
      socket.on("error", () => undefined); // a write after the server closed it
      let answer = "";
      socket.setEncoding("utf8").on("data", (t: string) => (answer += t));
      const t0 = Date.now();
      socket.write(head);
      const drip = setInterval(() => socket.writable && socket.write(line), 50);
      socket.once("close", () => {
        clearInterval(drip);
        resolve({ ms: Date.now() - t0, answer });
      });
    });

  it("cuts off a client that trickles its headers with a 408, also once an earlier connection has closed (each connection has its own timer)", async () => {
    const { url } = await start({ limits: { headersTimeoutMs: 300, idleMs: 10_000 } });
    const slow = () => trickle(url, "GET /healthz HTTP/1.1\r\nHost: x\r\n", "X-Slow: 1\r\n");
    const first = await slow();
    expect(first.ms).toBeLessThan(2000);
    expect(first.answer).toMatch(/^HTTP\/1\.1 408 /);
    // no connection open in between: the next one is watched all the same
    expect((await slow()).ms).toBeLessThan(2000);
    expect((await call(url, "GET", "/healthz")).status).toBe(200);
  });

  it("cuts off a client that trickles its body, and the headers timer of a kept-alive connection's next request", async () => {
    const { url, control } = await start({ webhookSecret: SECRET, limits: { headersTimeoutMs: 200, requestTimeoutMs: 400, keepAliveTimeoutMs: 200, idleMs: 10_000 } });
    const body = await trickle(url, "POST /hooks/github HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{", " ");
    expect(body.ms).toBeLessThan(2000);
    expect(body.answer).toMatch(/^HTTP\/1\.1 408 /);
    // one request answered, then the next one's headers trickle: cut off within keep-alive + headers timeout
    const again = await trickle(url, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n", "X-Slow: 1\r\n");
    expect(again.ms).toBeLessThan(2000);
    expect(again.answer).toMatch(/^HTTP\/1\.1 200 [^]*HTTP\/1\.1 408 /);
    expect(control.reconciles).toEqual([]);
  });

  const sockets: Socket[] = [];
  afterEach(() => sockets.splice(0).forEach((s) => s.destroy()));
  /** Opens a connection that sends nothing; resolves once connected, with when it was closed. */
  const idle = (url: string) =>
    new Promise<{ closedAt: () => number | undefined }>((resolve) => {
      let closedAt: number | undefined;
      const s = connect(Number(new URL(url).port), "127.0.0.1");
      sockets.push(s);
      s.on("error", () => undefined);
      s.on("close", () => (closedAt = Date.now()));
      s.on("connect", () => resolve({ closedAt: () => closedAt }));
    });
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it("closes connections past the limit at once and idle ones after idleMs, and goes on answering", async () => {
    const { url, lines } = await start({ limits: { maxConnections: 5, idleMs: 600 } });
    const opened = Date.now();
    const conns = [];
    for (let i = 0; i < 8; i++) conns.push(await idle(url));
    await sleep(300);
    // the 3 past the limit are gone before the idle timeout
    expect(conns.filter((c) => c.closedAt() !== undefined)).toHaveLength(3);
    expect(lines.find((l) => l.msg === "http connection refused: too many connections")).toMatchObject({ level: 40, max: 5 });
    await sleep(900);
    // the 5 within it sent nothing: closed after idleMs (Node's headersTimeout spares them)
    expect(conns.every((c) => c.closedAt() !== undefined && c.closedAt()! - opened < 1500)).toBe(true);
    expect((await call(url, "GET", "/healthz")).status).toBe(200);
  });

  it("leaves a request that waits for its answer longer than idleMs and the header and request timeouts alone", async () => {
    const { url, control } = await start({ limits: { idleMs: 200, headersTimeoutMs: 200, requestTimeoutMs: 300 } });
    let open!: () => void;
    control.sendGate = new Promise((r) => (open = r));
    const answer = call(url, "POST", "/api/customers/acme-corp/send-now");
    await sleep(600);
    open();
    expect((await answer).status).toBe(200);
  });

  it("reads at most 8 webhook bodies at once: a 9th is answered 503 with Retry-After", async () => {
    const { url, control } = await start({ webhookSecret: SECRET });
    const port = Number(new URL(url).port);
    for (let i = 0; i < 8; i++) {
      const s = connect(port, "127.0.0.1");
      sockets.push(s);
      s.on("error", () => undefined);
      s.write(`POST /hooks/github HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"ref":`);
    }
    await sleep(200);
    const ninth = await call(url, "POST", "/hooks/github", hook(PUSH, "push", sign(PUSH)));
    expect(ninth.status).toBe(503);
    expect(ninth.headers["retry-after"]).toBe("5");
    sockets.splice(0).forEach((s) => s.destroy());
    await sleep(100);
    // the slots came back when those clients went away
    expect((await call(url, "POST", "/hooks/github", hook(PUSH, "push", sign(PUSH)))).status).toBe(202);
    expect(control.reconciles).toEqual([{ reason: "webhook" }]);
  });
});

describe("POST /hooks/github", () => {
  it("answers 404 when no webhook secret is configured", async () => {
    const { url, control } = await start();
    const r = await call(url, "POST", "/hooks/github", hook(PUSH, "push", sign(PUSH)));
    expect(r.status).toBe(404);
    expect(r.json().error).toContain("CWSYNC_WEBHOOK_SECRET");
    expect(control.reconciles).toHaveLength(0);
  });

  it("requests a reconcile on a correctly signed push and logs the ref", async () => {
    const { url, control, lines } = await start({ webhookSecret: SECRET });
    const r = await call(url, "POST", "/hooks/github", hook(PUSH, "push", sign(PUSH)));
    expect(r.status).toBe(202);
    expect(control.reconciles).toEqual([{ reason: "webhook" }]);
    expect(lines.find((l) => l.msg === "webhook received")).toMatchObject({ event: "push", ref: "refs/heads/main" });
  });

  it("answers a signed ping with pong and no reconcile", async () => {
    const { url, control } = await start({ webhookSecret: SECRET });
    const r = await call(url, "POST", "/hooks/github", hook("{}", "ping", sign("{}")));
    expect(r.status).toBe(200);
    expect(r.json()).toEqual({ message: "pong" });
    expect(control.reconciles).toHaveLength(0);
  });

  it("answers 401 to a missing, wrong-secret, tampered or malformed signature", async () => {
    const { url, control } = await start({ webhookSecret: SECRET });
    const bad = [undefined, sign(PUSH, "another-secret"), sign(PUSH + " "), sign(PUSH).replace("sha256=", "sha1="), "sha256=00", sign(PUSH).toUpperCase()];
    for (const signature of bad) {
      const r = await call(url, "POST", "/hooks/github", hook(PUSH, "push", signature));
      expect(r.status, String(signature)).toBe(401);
    }
    expect(control.reconciles).toHaveLength(0);
  });

  it("refuses signed events other than push and ping", async () => {
    const { url, control } = await start({ webhookSecret: SECRET });
    const r = await call(url, "POST", "/hooks/github", hook(PUSH, "issues", sign(PUSH)));
    expect(r.status).toBe(400);
    expect(r.json().error).toContain("push");
    expect(control.reconciles).toHaveLength(0);
  });

  it("answers 413 to a payload over 1 MiB", async () => {
    const { url, control } = await start({ webhookSecret: SECRET });
    const big = "x".repeat(1024 * 1024 + 1);
    expect((await call(url, "POST", "/hooks/github", hook(big, "push", sign(big)))).status).toBe(413);
    expect(control.reconciles).toHaveLength(0);
  });

  it("is authenticated by its signature, not the API token", async () => {
    const { url, control } = await start({ webhookSecret: SECRET, token: TOKEN });
    expect((await call(url, "POST", "/hooks/github", hook(PUSH, "push", sign(PUSH)))).status).toBe(202);
    expect(control.reconciles).toEqual([{ reason: "webhook" }]);
  });

  it("verifies signatures of the raw bytes in constant time, length-checked", () => {
    const body = Buffer.from(PUSH);
    expect(verifyGithubSignature(SECRET, body, sign(PUSH))).toBe(true);
    expect(verifyGithubSignature(SECRET, body, sign(PUSH).slice(0, -1))).toBe(false);
    expect(verifyGithubSignature(SECRET, body, [sign(PUSH)])).toBe(false);
    expect(verifyGithubSignature(SECRET, body, undefined)).toBe(false);
  });
});

describe("lifecycle and --listen", () => {
  it("closes while a keep-alive connection is open", async () => {
    const { url, server } = await start();
    await fetch(`${url}/healthz`).then((r) => r.text());
    await server.close();
    running.splice(0);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });

  it("fails with a clear error when the port is taken", async () => {
    const { url } = await start();
    const port = Number(new URL(url).port);
    const err = await start({ listen: { host: "127.0.0.1", port } }).catch((e: unknown) => e);
    // a failure the user can act on (exit 1), not a bug
    expect(exitCodeOf(err)).toBe(1);
    expect((err as Error).message).toContain(`cannot listen on 127.0.0.1:${port}: EADDRINUSE`);
  });
});
