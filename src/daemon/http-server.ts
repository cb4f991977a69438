import type { Audit } from "../core/audit.ts";
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { ReleaseAnswer, ReleaseRequest } from "../app/release.ts";
import { OperationError } from "../errors.ts";
import type { ReportName } from "../ports/state-store.ts";
import { createApiRoutes } from "./api-routes.ts";
import type { ReconcileResult, SendNowResult } from "./api-types.ts";
import { accepted, json, notAllowed, text } from "./http-replies.ts";
import type { Logger } from "./logger.ts";
import type { Metrics } from "./metrics.ts";
import { guardSlowClients } from "./slow-clients.ts";
import type { DaemonSnapshot } from "./snapshot.ts";

export type { ReconcileResult, SendResult, SendNowResult } from "./api-types.ts";

/** What the HTTP server asks of the running daemon. */
export interface DaemonControl {
  snapshot(): DaemonSnapshot;
  /** true when the last reconcile is recent (within 3 intervals) and a revision is loaded */
  ready(): { ready: boolean; reason?: string };
  /** Ask for a reconcile soon (the daemon debounces); false when shutting down. */
  requestReconcile(reason: string, customer?: string): boolean;
  /** Asks for a reconcile as `requestReconcile` does, and resolves with that reconcile's result once it ran (`stopping` when the daemon stopped first). */
  reconcileNow(reason: string, customer?: string): Promise<ReconcileResult>;
  /** Send a customer's report now (the daemon runs it under its lease); resolves with what happened, or why nothing was tried (`refused`). */
  requestSendNow(customer: string, report?: ReportName): Promise<SendNowResult>;
  /** Apply a customer's held decreases (`cwsync release`) under the daemon's lease; resolves with what was released, or why nothing was tried (`refused`). */
  requestRelease(request: ReleaseRequest): Promise<ReleaseAnswer>;
  /** The last billing audit (`/api/audit`), computed at most once per full verification interval; absent: the route answers 404. */
  audit?(): AuditAnswer;
}

/** `/api/audit`: the audit with when it was computed, or why there is none yet (`running`: the first is being computed). */
export interface AuditAnswer {
  audit?: Audit & { at: string };
  error?: string;
  running: boolean;
  /** When the next audit is due, ISO UTC. */
  nextAt?: string;
}

export interface HttpServerOptions {
  listen: { host: string; port: number };
  /**
   * CWSYNC_API_TOKEN: when set, /api and POST routes need `Authorization: Bearer <token>` (constant-time
   * compare); on an address beyond loopback, /readyz and /metrics need it too (only /healthz is open).
   */
  token?: string;
  /** `--metrics-public`: /metrics answers without the token on an address beyond loopback (a Prometheus without credentials). */
  metricsPublic?: boolean;
  /** CWSYNC_WEBHOOK_SECRET: when absent, POST /hooks/github answers 404 (not configured). */
  webhookSecret?: string;
  control: DaemonControl;
  metrics: Metrics;
  log: Logger;
  /** HTTP_LIMITS, for tests that cannot wait for or open that many. */
  limits?: Partial<typeof HTTP_LIMITS>;
}

const MAX_BODY = 1024 * 1024;
/** Webhook bodies read at once (each up to MAX_BODY, before its signature can be checked); more wait for GitHub's redelivery or the next interval. */
const WEBHOOK_READS = 8;

/**
 * What one daemon's HTTP side may hold. Connections past `maxConnections` are closed as they are
 * accepted; a socket with no request in progress is closed after `idleMs` (the headers timeout
 * spares a connection that never sends a byte); a slow client is cut off by the header and request
 * timeouts, kept by a timer per connection (slow-clients.ts): an idle daemon with no connection
 * open has no timer of Node's HTTP server to wake it. 256 connections stay well under LimitNOFILE=4096.
 */
export const HTTP_LIMITS = { maxConnections: 256, headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, keepAliveTimeoutMs: 5_000, idleMs: 10_000 };
/**
 * Node's own check of every connection's header and request timeouts runs this often, connections
 * open or not: the longest a Node timer takes (~24.8 days), so that it never wakes an idle daemon
 * (each wake-up costs ~1–3 ms of CPU here). guardSlowClients keeps those timeouts instead.
 */
const NODE_CHECK_EVERY_MS = 2_147_483_647;
/** Accept errors (EMFILE, ENFILE) and dropped connections come in bursts: one log line per this many ms. */
const LOG_EVERY_MS = 10_000;

/**
 * The daemon's HTTP side (node:http, no framework): health, readiness, Prometheus metrics, the
 * JSON API the dashboard reads, and the GitHub webhook (a hint to fetch, never content).
 */
export async function startHttpServer(opts: HttpServerOptions): Promise<{ url: string; close(): Promise<void> }> {
  let access: ApiAccess = { mode: "refused", reason: "not listening yet" };
  let boundTo = "";
  const reading = { webhooks: 0 };
  const api = createApiRoutes(opts.control, opts.log);
  const limits = { ...HTTP_LIMITS, ...opts.limits };
  const server = createServer({
    headersTimeout: limits.headersTimeoutMs, requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs, connectionsCheckingInterval: NODE_CHECK_EVERY_MS,
  }, (req, res) => {
    const started = Date.now();
    const path = (req.url ?? "/").split("?")[0];
    res.on("finish", () => opts.log.debug({ method: req.method, path, status: res.statusCode, ms: Date.now() - started }, "http request"));
    handle(req, res, opts, { access, bound: boundTo, reading }, api).catch((err: unknown) => {
      opts.log.error({ err, method: req.method, path }, "http handler failed");
      if (!res.headersSent) json(res, 500, { error: "internal error; see the daemon log" });
      else res.destroy();
    });
  });
  limitConnections(server, limits, opts.log);
  guardSlowClients(server, limits);
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      reject(new OperationError(`cannot listen on ${formatHost(opts.listen.host)}:${opts.listen.port}: ${err.code ?? err.message}; choose another --listen`));
    };
    server.once("error", onError);
    server.listen(opts.listen.port, opts.listen.host, () => {
      server.off("error", onError);
      resolve();
    });
  });
  // EMFILE/ENFILE on accept: the server keeps listening (libuv sheds the pending connection)
  const serverError = throttled((err: NodeJS.ErrnoException, skipped) => opts.log.error({ err, code: err.code, skipped }, "http server error"));
  server.on("error", serverError);
  const address = server.address() as AddressInfo;
  access = apiAccess(address.address, opts.token);
  boundTo = address.address;
  if (access.mode === "refused") opts.log.warn({ address: address.address, port: address.port }, "api disabled: not loopback and no CWSYNC_API_TOKEN");
  const url = `http://${formatHost(connectableHost(address.address))}:${address.port}`;
  return {
    url,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/** The connection limit and the idle-socket timeout (the header and request timeouts: guardSlowClients). */
function limitConnections(server: Server, limits: typeof HTTP_LIMITS, log: Logger): void {
  server.maxConnections = limits.maxConnections;
  server.on("drop", throttled((_: unknown, skipped) => log.warn({ max: limits.maxConnections, skipped }, "http connection refused: too many connections")));
  // a socket with a request in progress waits for its answer (`?wait=1`, a send-now): only idle ones are closed
  const busy = new WeakSet<Socket>();
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    busy.add(req.socket);
    res.once("close", () => busy.delete(req.socket));
  });
  server.setTimeout(limits.idleMs, (socket: Socket) => {
    if (!busy.has(socket)) socket.destroy();
  });
}

/** `fn` at most once per LOG_EVERY_MS, told how many calls it skipped. */
function throttled<T>(fn: (value: T, skipped: number) => void): (value: T) => void {
  let last = -Infinity;
  let skipped = 0;
  return (value) => {
    const now = Date.now();
    if (now - last < LOG_EVERY_MS) return void skipped++;
    last = now;
    fn(value, skipped);
    skipped = 0;
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, opts: HttpServerOptions, { access, bound, reading }: { access: ApiAccess; bound: string; reading: { webhooks: number } }, api: ReturnType<typeof createApiRoutes>): Promise<void> {
  const url = new URL(req.url ?? "/", "http://localhost");
  const path = url.pathname;
  const method = req.method ?? "GET";
  if (path === "/healthz" || path === "/readyz" || path === "/metrics") {
    req.resume();
    if (method !== "GET" && method !== "HEAD") return notAllowed(res, "GET");
    if (path === "/healthz") return text(res, 200, "ok\n");
    // beyond loopback only /healthz is open: the readiness reason and the metrics tell a stranger too much
    if (!isLoopback(bound) && !(path === "/metrics" && opts.metricsPublic)) {
      const denied = authorize(req, access, opts.token);
      if (denied) return json(res, denied.status, { error: denied.error }, denied.headers);
    }
    if (path === "/readyz") {
      const r = opts.control.ready();
      return r.ready ? text(res, 200, "ready\n") : text(res, 503, `not ready: ${r.reason ?? "unknown"}\n`);
    }
    const body = await opts.metrics.registry.metrics();
    res.writeHead(200, { "content-type": opts.metrics.registry.contentType, "cache-control": "no-store" });
    res.end(body);
    return;
  }
  if (path === "/hooks/github") return webhook(req, res, opts, reading);

  req.resume();
  const denied = authorize(req, access, opts.token);
  if (denied) return json(res, denied.status, { error: denied.error }, denied.headers);

  return api(req, res, url);
}

async function webhook(req: IncomingMessage, res: ServerResponse, opts: HttpServerOptions, reading: { webhooks: number }): Promise<void> {
  if (!opts.webhookSecret) {
    req.resume();
    return json(res, 404, { error: "the GitHub webhook is not configured: set CWSYNC_WEBHOOK_SECRET" });
  }
  if (req.method !== "POST") {
    req.resume();
    return notAllowed(res, "POST");
  }
  if (reading.webhooks >= WEBHOOK_READS) {
    req.resume();
    return json(res, 503, { error: `${WEBHOOK_READS} webhook deliveries are being read already; the next interval fetches anyway` }, { "retry-after": "5" });
  }
  reading.webhooks++;
  const body = await readBody(req, MAX_BODY).finally(() => reading.webhooks--);
  if (body === "aborted") return void res.destroy();
  if (body === "too-large") return json(res, 413, { error: `the payload is larger than ${MAX_BODY} bytes` });
  if (!verifyGithubSignature(opts.webhookSecret, body, req.headers["x-hub-signature-256"])) {
    opts.log.warn({ path: "/hooks/github" }, "webhook signature missing or invalid");
    return json(res, 401, { error: "missing or invalid X-Hub-Signature-256; the webhook secret must equal CWSYNC_WEBHOOK_SECRET" });
  }
  const event = req.headers["x-github-event"];
  if (event === "ping") return json(res, 200, { message: "pong" });
  if (event !== "push") {
    return json(res, 400, { error: `event "${String(event ?? "")}" is not handled; configure the webhook to send push events` });
  }
  const ok = opts.control.requestReconcile("webhook");
  opts.log.info({ event, ref: refOf(body), accepted: ok }, "webhook received");
  return accepted(res, ok);
}

/** Whether `X-Hub-Signature-256` is `sha256=` + hex HMAC-SHA256(secret, raw body), compared in constant time. */
export function verifyGithubSignature(secret: string, body: Buffer, header: string | string[] | undefined): boolean {
  if (typeof header !== "string" || !header.startsWith("sha256=")) return false;
  const given = Buffer.from(header.slice("sha256=".length), "utf8");
  const expected = Buffer.from(createHmac("sha256", secret).update(body).digest("hex"), "utf8");
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** How the API and POST routes (all but /healthz, /readyz, /metrics and the signed webhook; beyond loopback also /readyz and /metrics) may be reached. */
export type ApiAccess = { mode: "open" | "token" } | { mode: "refused"; reason: string };

/**
 * The access decision for a server bound to `address`: a token, when configured, is always
 * required; without one the API is open on loopback only, and refused elsewhere.
 */
export function apiAccess(address: string, token: string | undefined): ApiAccess {
  if (token) return { mode: "token" };
  if (isLoopback(address)) return { mode: "open" };
  return {
    mode: "refused",
    reason: `the API is disabled: the daemon listens on ${address}, which is not a loopback address, and CWSYNC_API_TOKEN is not set; set CWSYNC_API_TOKEN (clients send "Authorization: Bearer <token>") or listen on 127.0.0.1`,
  };
}

function authorize(req: IncomingMessage, access: ApiAccess, token: string | undefined): { status: number; error: string; headers?: Record<string, string> } | undefined {
  if (access.mode === "refused") return { status: 403, error: access.reason };
  if (access.mode === "token") {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? "");
    if (m && token && sameSecret(m[1], token)) return undefined;
    return { status: 401, error: "missing or wrong bearer token: send Authorization: Bearer <CWSYNC_API_TOKEN>", headers: { "www-authenticate": "Bearer" } };
  }
  // Open on loopback: a web page in the operator's browser can still reach 127.0.0.1, by a
  // cross-site POST or by DNS rebinding; neither can forge a loopback Host or Origin.
  const host = (req.headers.host ?? "").replace(/:\d+$/, "");
  const origin = req.headers.origin;
  if (!isLoopback(host) || (origin !== undefined && !isLoopbackOrigin(origin))) {
    return { status: 403, error: "requests from web pages are refused: the API answers loopback clients without an Origin, or set CWSYNC_API_TOKEN" };
  }
  return undefined;
}

function sameSecret(given: string, expected: string): boolean {
  // hashing first makes the comparison constant-time in the length too
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b);
}

/** Whether a host or address is loopback: `localhost`, `::1`, 127.0.0.0/8 (also `::ffff:`-mapped). */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^(::ffff:)?127\.\d+\.\d+\.\d+$/.test(h);
}

function isLoopbackOrigin(origin: string): boolean {
  try {
    return isLoopback(new URL(origin).hostname);
  } catch {
    return false;
  }
}

function formatHost(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}

function connectableHost(address: string): string {
  if (address === "0.0.0.0") return "127.0.0.1";
  if (address === "::") return "::1";
  return address;
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer | "too-large" | "aborted"> {
  return new Promise((resolve) => {
    if (Number(req.headers["content-length"] ?? 0) > limit) {
      req.resume();
      return resolve("too-large");
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > limit) over = true;
      else chunks.push(c);
    });
    req.on("end", () => resolve(over ? "too-large" : Buffer.concat(chunks)));
    // a client gone mid-body ("aborted"): the read ends (its slot among WEBHOOK_READS with it), nothing to answer
    req.on("error", () => resolve("aborted"));
    req.on("close", () => resolve("aborted"));
  });
}

/** The pushed ref, for the log only: nothing else is read from the payload. */
function refOf(body: Buffer): string | undefined {
  try {
    const ref = (JSON.parse(body.toString("utf8")) as { ref?: unknown }).ref;
    return typeof ref === "string" ? ref.slice(0, 200) : undefined;
  } catch {
    return undefined;
  }
}
