import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { OperationError } from "../errors.ts";
import type { ReportName } from "../ports/state-store.ts";
import { createApiRoutes } from "./api-routes.ts";
import type { ReconcileResult, SendNowResult } from "./api-types.ts";
import { accepted, json, notAllowed, text } from "./http-replies.ts";
import type { Logger } from "./logger.ts";
import type { Metrics } from "./metrics.ts";
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
}

export interface HttpServerOptions {
  listen: { host: string; port: number };
  /** CWSYNC_API_TOKEN: when set, /api and POST routes need `Authorization: Bearer <token>` (constant-time compare). */
  token?: string;
  /** CWSYNC_WEBHOOK_SECRET: when absent, POST /hooks/github answers 404 (not configured). */
  webhookSecret?: string;
  control: DaemonControl;
  metrics: Metrics;
  log: Logger;
}

const MAX_BODY = 1024 * 1024;

/**
 * The daemon's HTTP side (node:http, no framework): health, readiness, Prometheus metrics, the
 * JSON API the dashboard reads, and the GitHub webhook (a hint to fetch, never content).
 */
export async function startHttpServer(opts: HttpServerOptions): Promise<{ url: string; close(): Promise<void> }> {
  let access: ApiAccess = { mode: "refused", reason: "not listening yet" };
  const api = createApiRoutes(opts.control, opts.log);
  const server = createServer((req, res) => {
    const started = Date.now();
    const path = (req.url ?? "/").split("?")[0];
    res.on("finish", () => opts.log.debug({ method: req.method, path, status: res.statusCode, ms: Date.now() - started }, "http request"));
    handle(req, res, opts, access, api).catch((err: unknown) => {
      opts.log.error({ err, method: req.method, path }, "http handler failed");
      if (!res.headersSent) json(res, 500, { error: "internal error; see the daemon log" });
      else res.destroy();
    });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
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
  server.on("error", (err) => opts.log.error({ err }, "http server error"));
  const bound = server.address() as AddressInfo;
  access = apiAccess(bound.address, opts.token);
  if (access.mode === "refused") opts.log.warn({ address: bound.address, port: bound.port }, "api disabled: not loopback and no CWSYNC_API_TOKEN");
  const url = `http://${formatHost(connectableHost(bound.address))}:${bound.port}`;
  return {
    url,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, opts: HttpServerOptions, access: ApiAccess, api: ReturnType<typeof createApiRoutes>): Promise<void> {
  const url = new URL(req.url ?? "/", "http://localhost");
  const path = url.pathname;
  const method = req.method ?? "GET";
  if (path === "/healthz" || path === "/readyz" || path === "/metrics") {
    req.resume();
    if (method !== "GET" && method !== "HEAD") return notAllowed(res, "GET");
    if (path === "/healthz") return text(res, 200, "ok\n");
    if (path === "/readyz") {
      const r = opts.control.ready();
      return r.ready ? text(res, 200, "ready\n") : text(res, 503, `not ready: ${r.reason ?? "unknown"}\n`);
    }
    const body = await opts.metrics.registry.metrics();
    res.writeHead(200, { "content-type": opts.metrics.registry.contentType, "cache-control": "no-store" });
    res.end(body);
    return;
  }
  if (path === "/hooks/github") return webhook(req, res, opts);

  req.resume();
  const denied = authorize(req, access, opts.token);
  if (denied) return json(res, denied.status, { error: denied.error }, denied.headers);

  return api(req, res, url);
}

async function webhook(req: IncomingMessage, res: ServerResponse, opts: HttpServerOptions): Promise<void> {
  if (!opts.webhookSecret) {
    req.resume();
    return json(res, 404, { error: "the GitHub webhook is not configured: set CWSYNC_WEBHOOK_SECRET" });
  }
  if (req.method !== "POST") {
    req.resume();
    return notAllowed(res, "POST");
  }
  const body = await readBody(req, MAX_BODY);
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

/** How the API and POST routes (all but /healthz, /readyz, /metrics and the signed webhook) may be reached. */
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

function isLoopback(host: string): boolean {
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

function readBody(req: IncomingMessage, limit: number): Promise<Buffer | "too-large"> {
  return new Promise((resolve, reject) => {
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
    req.on("error", reject);
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
