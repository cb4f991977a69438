import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { UsageError } from "../errors.ts";
import { additionRoutes } from "./addition-routes.ts";
import { faultReply, loginPage, truncatedReply } from "./fault-reply.ts";
import { Faults, type FaultController, type FaultKind } from "./faults.ts";
import { apiVersion, BAD_JSON, basicAuthMatches, parseJson, readBody, writeReply } from "./http-io.ts";
import { createSandboxState, type ConnectWiseSeed, type SandboxState } from "./model.ts";
import { readRoutes } from "./read-routes.ts";
import { replies, type Reply } from "./replies.ts";
import type { RequestContext, Route } from "./route.ts";
import { ticketRoutes } from "./ticket-routes.ts";
import { listenOn } from "./listen.ts";

export interface SandboxCredentials {
  company: string;
  publicKey: string;
  privateKey: string;
  clientId: string;
}

/** One request as the sandbox saw it. The Authorization header is never kept: only whether it matched. */
export interface RecordedRequest {
  method: string;
  /** The path under the API root (`/company/companies`), or the raw path for anything outside it. No query. */
  path: string;
  query: Record<string, string>;
  /** The JSON body (the raw text when it was not JSON). */
  body?: unknown;
  /** The status answered; 0 when the connection was destroyed instead. */
  status: number;
  /** `Date.now()` when the request arrived. */
  at: number;
  authenticated: boolean;
  /** Whether a `clientId` header was present. */
  clientId: boolean;
  /** The fault that hit the request, if any. */
  fault?: FaultKind;
}

export interface ConnectWiseSandbox {
  /** The CW_URL: `http://127.0.0.1:<port>/<codebase>/apis/3.0`. */
  url: string;
  credentials: SandboxCredentials;
  /** The live data: tests may read and change it between requests. */
  state: SandboxState;
  requests: RecordedRequest[];
  faults: FaultController;
  close(): Promise<void>;
}

export interface SandboxOptions {
  /** Default 127.0.0.1, port 0 (any free port). */
  listen?: { host?: string; port?: number };
  seed?: ConnectWiseSeed;
  credentials?: Partial<SandboxCredentials>;
  /** Default `v4_6_release`. */
  codebase?: string;
  /** Listening on a non-loopback address exposes fake credentials to the network: refused unless set. */
  allowNonLoopback?: boolean;
  /** Seed of the generator behind probabilistic faults (default 1). */
  randomSeed?: number;
  /** The clock written into `_info` and used for dates (default: the system clock). */
  now?: () => Date;
}

export const DEFAULT_SANDBOX_CREDENTIALS: Readonly<SandboxCredentials> = {
  company: "sandbox",
  publicKey: "sandboxPublicKey",
  privateKey: "sandboxPrivateKey",
  clientId: "5ad0b0c5-0000-4000-8000-000000000001",
};

const ROUTES: readonly Route[] = [...readRoutes, ...additionRoutes, ...ticketRoutes];
const API_MEMBER = "APIMember";

function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^(::ffff:)?127\.\d+\.\d+\.\d+$/.test(h);
}

function dispatch(ctx: RequestContext, apiPath: string): Reply {
  const path = apiPath.length > 1 ? apiPath.replace(/\/+$/, "") : apiPath;
  for (const route of ROUTES) {
    const m = route.pattern.exec(path);
    if (!m) continue;
    const handler = route.methods[ctx.method as keyof Route["methods"]];
    if (!handler) return replies.methodNotAllowed(ctx.method, Object.keys(route.methods));
    return handler(ctx, m.slice(1));
  }
  return replies.noRoute(path);
}

/** `GET /login/companyinfo/{company}`: unauthenticated codebase discovery; an unknown company gets `null`. */
function companyInfo(company: string, creds: SandboxCredentials, codebase: string): Reply {
  if (company.toLowerCase() !== creds.company.toLowerCase()) return { status: 200, body: null, headers: { "Content-Type": "application/json; charset=utf-8" } };
  return {
    status: 200,
    headers: { "Content-Type": "application/json; charset=utf-8" },
    body: { CompanyName: "Sandbox MSP", Codebase: `${codebase}/`, VersionCode: "v2025.1", VersionNumber: "v4.6.2025.1", CompanyID: creds.company, IsCloud: false },
  };
}

/** Resolves when `res` can take more, or is closed; leaves no listener behind (thousands of waits add up). */
function drained(res: ServerResponse): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}

/** A 200 JSON list of about `bytes` bytes, written in chunks as the client reads them. */
async function streamHugeList(res: ServerResponse, bytes: number): Promise<void> {
  res.writeHead(200, { "Content-Type": "application/json; charset=utf-8" });
  const row = JSON.stringify({ id: 1, identifier: "X".repeat(200), name: "huge" });
  const chunk = Buffer.from(Array.from({ length: 256 }, () => row).join(",") + ",");
  res.write("[");
  for (let sent = 0; sent < bytes && !res.destroyed; sent += chunk.length) {
    if (!res.write(chunk)) await drained(res);
  }
  if (!res.destroyed) res.end(row + "]");
}

/**
 * Starts a fake ConnectWise Manage REST API on loopback: the endpoints cwsync uses, with
 * ConnectWise's auth, paging, conditions, validation and error bodies, plus injectable faults.
 */
export async function startConnectWiseSandbox(opts: SandboxOptions = {}): Promise<ConnectWiseSandbox> {
  const host = opts.listen?.host ?? "127.0.0.1";
  if (!isLoopback(host) && !opts.allowNonLoopback) {
    throw new UsageError(`the ConnectWise sandbox listens on loopback only; ${host} is not (pass allowNonLoopback to override)`);
  }
  const codebase = (opts.codebase ?? "v4_6_release").replace(/^\/+|\/+$/g, "");
  const base = `/${codebase}/apis/3.0`;
  const credentials: SandboxCredentials = { ...DEFAULT_SANDBOX_CREDENTIALS, ...opts.credentials };
  const state = createSandboxState(opts.seed);
  const faults = new Faults(opts.randomSeed ?? 1);
  const requests: RecordedRequest[] = [];
  const now = opts.now ?? (() => new Date());
  let origin = "";

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = Date.now();
    const url = new URL(req.url ?? "/", "http://sandbox");
    const method = (req.method ?? "GET").toUpperCase();
    const lower = url.pathname.toLowerCase();
    const inApi = lower === base.toLowerCase() || lower.startsWith(`${base.toLowerCase()}/`);
    const path = inApi ? url.pathname.slice(base.length) || "/" : url.pathname;
    const raw = await readBody(req);
    const body = raw === undefined ? undefined : parseJson(raw);
    const record: RecordedRequest = {
      method, path, query: Object.fromEntries(url.searchParams), status: 0, at,
      authenticated: basicAuthMatches(req.headers.authorization, credentials),
      clientId: typeof req.headers.clientid === "string" && req.headers.clientid.trim() !== "",
    };
    if (body !== undefined) record.body = body === BAD_JSON ? raw?.toString("utf8") : body;
    requests.push(record);
    const version = apiVersion(req.headers.accept);
    const answer = (reply: Reply) => {
      record.status = reply.status;
      writeReply(res, reply, version);
    };

    const { delayMs, fault, retryAfter } = faults.take(method, path);
    if (delayMs > 0) await sleep(delayMs);
    if (fault) record.fault = fault.kind;
    if (fault?.kind === "reset") {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === "commit-late") {
      req.socket.destroy();
      await sleep(fault.ms);
    }
    if (fault?.kind === "status" || fault?.kind === "html429") return answer(faultReply(fault));
    // throttled: refused before anything is handled, as ConnectWise answers past its limit
    if (fault?.kind === "throttle") return answer(faultReply({ kind: "status", status: 429, retryAfter }));
    if (fault?.kind === "html200") return answer(loginPage());
    if (fault?.kind === "redirect-to-login") {
      return answer({ status: 302, headers: { Location: `http://127.0.0.2:${new URL(origin).port}/login?returnUrl=${encodeURIComponent(url.pathname)}` } });
    }
    if (fault?.kind === "echo-auth") {
      const status = fault.status ?? 400;
      return answer({ status, body: { code: "BadRequest", message: `rejected request with Authorization: ${req.headers.authorization ?? "(none)"}` } });
    }
    if (fault?.kind === "huge-body") {
      record.status = 200;
      await streamHugeList(res, fault.bytes);
      return;
    }
    if (fault?.kind === "ignore-page") url.searchParams.delete("page");

    let reply: Reply;
    const info = /^\/login\/companyinfo\/([^/]+)\/?$/i.exec(url.pathname);
    if (info && !inApi) reply = method === "GET" ? companyInfo(decodeURIComponent(info[1]), credentials, codebase) : replies.methodNotAllowed(method, ["GET"]);
    else if (!inApi) reply = replies.noRoute(url.pathname);
    else if (!record.authenticated) reply = replies.unauthenticated();
    else if (!record.clientId) reply = replies.noClientId();
    else if (raw === undefined) reply = { status: 413, body: { code: "RequestTooLarge", message: "The request body is too large." } };
    else if (body === BAD_JSON) reply = replies.badRequest("The request body is not valid JSON.");
    else {
      const ctx: RequestContext = {
        state, method, query: url.searchParams, body, now, member: API_MEMBER,
        selfUrl: `${origin}${url.pathname}`,
        forwardOnly: String(req.headers["pagination-type"] ?? "").toLowerCase() === "forward-only",
      };
      const kept = fault?.kind === "lost-write" ? structuredClone(state) : undefined;
      try {
        reply = dispatch(ctx, path);
      } catch (e) {
        reply = replies.serverError(e instanceof Error ? e.message : String(e));
      }
      if (kept) Object.assign(state, kept);
    }

    if (fault?.kind === "reset-after-commit" || fault?.kind === "commit-late") {
      if (!req.socket.destroyed) req.socket.destroy();
      return;
    }
    if (fault?.kind === "truncated-json" && reply.status < 300) reply = truncatedReply(reply);
    const created = reply.body as { id?: unknown } | undefined;
    if (fault?.kind === "redirect-after-commit" && reply.status === 201 && typeof created?.id === "number") {
      // cloud proxies answer a create with a redirect to plain http: the record exists at Location
      reply = { status: 302, headers: { Location: `http://${origin.replace(/^https?:\/\//, "")}${url.pathname.replace(/\/+$/, "")}/${created.id}` } };
    }
    answer(reply);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent && !res.destroyed) writeReply(res, replies.serverError(e instanceof Error ? e.message : String(e)), "2025.1");
    });
  });
  origin = await listenOn(server, host, opts.listen?.port);

  return {
    url: `${origin}${base}`,
    credentials,
    state,
    requests,
    faults,
    close: () => new Promise<void>((resolve, reject) => {
      server.close((e) => (e ? reject(e) : resolve()));
      server.closeAllConnections();
    }),
  };
}
