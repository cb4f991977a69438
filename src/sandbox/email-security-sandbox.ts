import { createServer, STATUS_CODES, type IncomingMessage, type ServerResponse } from "node:http";
import { UsageError } from "../errors.ts";
import type { DetectionService, PolicyEvent, PolicyEventKind } from "../ports/detection-source.ts";
import { parseLogQuery, encodeToken, type EmailSecurityFailure, type LogQuery } from "./email-security-query.ts";
import { asPolicyEvent, byTime, eventsInRange, orderKey, type EventSeedOptions, type SeededLog } from "./email-security-seed.ts";
import { listenOn } from "./listen.ts";
import { stableHash } from "./seed-builder.ts";

export interface EmailSecuritySandboxCredentials {
  account: string;
  apiKey: string;
}

/** One request as the fake saw it: never the `Authorization` header. */
export interface EmailSecurityRecordedRequest {
  method: string;
  /** Path and query as received. */
  path: string;
  /** The query parameters, decoded. */
  query: Record<string, string>;
  /** The status answered; 0 when the connection was destroyed instead. */
  status: number;
  /** The fake's clock when the request arrived (epoch ms). */
  at: number;
  /** `code` of the answer, when it was an error. */
  code?: string;
  /** How many logs a 200 carried. */
  logs?: number;
  fault?: EmailSecurityFault["kind"];
}

/**
 * Injected before authentication, as a gateway in front of the service would fail: one per
 * request, in order. A `status` fault answers the service's own `{code, message}` for 400, 403,
 * 404 and 500 unless a body is given, and plain text for the others. `pass` lets its request
 * through, so that a fault can aim at a later page.
 */
export type EmailSecurityFault =
  | { kind: "status"; status: number; retryAfter?: string; body?: unknown }
  | { kind: "reset" }
  | { kind: "pass" }
  /** 200 with a proxy's HTML error page (`text/html`), as a captive portal or a WAF answers. */
  | { kind: "html" }
  /** `status` (default 401) with a `{code, message}` body that echoes the `Authorization` header, decoded too, as some gateways do. */
  | { kind: "echo-auth"; status?: number }
  /** 200 `application/json` with the real answer cut off halfway (a dropped upstream connection). */
  | { kind: "truncated" };

/** Events that reach the log late: a share of them is served only `delayMs` after its `genTime`. */
export interface LateEvents {
  delayMs: number;
  /** One event in `every` is late (chosen by a hash of its message id); default 1, all of them. */
  every?: number;
}

export interface EmailSecuritySandbox {
  service: DetectionService;
  /** The TMES_URL/HES_URL: `http://127.0.0.1:<port>`. */
  url: string;
  credentials: EmailSecuritySandboxCredentials;
  requests: EmailSecurityRecordedRequest[];
  /** Queue of faults; each request takes the first one. */
  faults: EmailSecurityFault[];
  /** A fault every request meets while the queue is empty, until unset: a fault for the fake's lifetime. */
  setStandingFault(fault: EmailSecurityFault | undefined): void;
  /** Turns the account's Log Retrieval off (404 `ResourceNotAvailable`) or on. */
  setLogRetrieval(enabled: boolean): void;
  /** From now on (or, with `undefined`, no longer) some events reach the log late. */
  setLateEvents(late: LateEvents | undefined): void;
  /** A broken service that answers every authorized request with no logs and a fresh `nextToken`, for ever. */
  setEndlessTokens(on: boolean): void;
  /**
   * The seeded events of a domain and kind with `start <= genTime < end`, whatever the fake's
   * clock: the exact events a client should return for that window (while it is within the
   * look-back), in the port's shape.
   */
  eventsBetween(domain: string, event: PolicyEventKind, start: Date, end: Date): PolicyEvent[];
  close(): Promise<void>;
}

export interface EmailSecuritySandboxOptions {
  service: DetectionService;
  /** Loopback only; default 127.0.0.1, port 0 (any free port). */
  listen?: { host?: string; port?: number };
  credentials?: Partial<EmailSecuritySandboxCredentials>;
  /** The fake's clock (epoch ms): the look-back, the default window and "nothing after now" (default: the system clock). */
  now?: () => number;
  /** The most spam events per domain and hour (default 12); other kinds get a fraction of it. */
  eventsPerHour?: number;
  /** Mixed into every hash: the same seed serves the same events (default 1). */
  seed?: number | string;
  /**
   * The account's domains: only these have events, and a request naming no domain gets all of
   * theirs. Absent, every domain a request names has events (and a request naming none gets none).
   */
  domains?: readonly string[];
  /** Some messages carry two policy events of one kind (e.g. Malware and Suspicious Objects): same messageID, other type. */
  multiEventMessages?: boolean;
  /** See `setLateEvents`. */
  lateEvents?: LateEvents;
}

export const DEFAULT_EMAIL_SECURITY_CREDENTIALS: Readonly<Record<DetectionService, EmailSecuritySandboxCredentials>> = {
  tmes: { account: "sandbox-tmes-admin", apiKey: "sandbox-tmes-api-key-00000000000000000001" },
  hes: { account: "sandbox-hes-admin", apiKey: "sandbox-hes-api-key-000000000000000000002" },
};

const PATH = "/api/v1/log/policyeventlog";

const FAULT_BODY: Readonly<Record<number, { code: string; message: string }>> = {
  400: { code: "InvalidFormat", message: "The request is not in a valid format." },
  403: { code: "AuthorizationRequestDenied", message: "The request is not authorized." },
  404: { code: "ResourceNotAvailable", message: "The requested resource is not available." },
  500: { code: "InternalServerError", message: "An internal server error occurred." },
};

function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^(::ffff:)?127\.\d+\.\d+\.\d+$/.test(h);
}

function writeJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.destroyed) return;
  const payload = JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json; charset=utf-8", "Content-Length": String(Buffer.byteLength(payload)), ...headers });
  res.end(payload);
}

/** Whether `Authorization` is Basic `account:apiKey` for these credentials. */
function authorized(header: string | undefined, creds: EmailSecuritySandboxCredentials): boolean {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? "");
  if (!m) return false;
  const decoded = Buffer.from(m[1], "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  return colon >= 0 && decoded.slice(0, colon) === creds.account && decoded.slice(colon + 1) === creds.apiKey;
}

/**
 * Starts a fake Trend Micro Email Security (or Hosted Email Security: the same log model at its
 * own URL, with its own credentials and events) on loopback, serving `GET
 * /api/v1/log/policyeventlog` as documented (tmrm.md §5.3): Basic `account:apiKey`, parameter
 * validation, the default windows, the 72-hour look-back, `limit` paging with an opaque
 * `nextToken` (sent URL-encoded, as the real API does), 204 when there are no logs, `{code,
 * message}` errors, and injectable gateway faults. Events are generated from a seed, per domain,
 * kind and hour, so any window of any domain has the same events on every run.
 */
export async function startEmailSecuritySandbox(opts: EmailSecuritySandboxOptions): Promise<EmailSecuritySandbox> {
  const host = opts.listen?.host ?? "127.0.0.1";
  if (!isLoopback(host)) throw new UsageError(`the email security sandbox listens on loopback only; ${host} is not`);
  const service = opts.service;
  const credentials: EmailSecuritySandboxCredentials = { ...DEFAULT_EMAIL_SECURITY_CREDENTIALS[service], ...opts.credentials };
  const now = opts.now ?? Date.now;
  const seed: EventSeedOptions = { service, seed: opts.seed ?? 1, eventsPerHour: opts.eventsPerHour ?? 12, multiEventMessages: opts.multiEventMessages };
  let late = opts.lateEvents;
  let endless = false;
  let endlessCount = 0;
  /** Whether the log already shows this event at the fake's `now`. */
  const arrived = (l: SeededLog, at: number) => !late || stableHash(l.messageID + l.eventType) % (late.every ?? 1) !== 0 || Date.parse(l.genTime) + late.delayMs <= at;
  const domains = opts.domains?.map((d) => d.toLowerCase());
  const requests: EmailSecurityRecordedRequest[] = [];
  const faults: EmailSecurityFault[] = [];
  let standing: EmailSecurityFault | undefined;
  let logRetrieval = true;

  /** The logs a query matches, both bounds inclusive, in serving order. */
  function matching(q: LogQuery): SeededLog[] {
    if (q.from > q.to) return [];
    const names = q.domain !== undefined ? (domains && !domains.includes(q.domain) ? [] : [q.domain]) : (domains ?? []);
    const logs: SeededLog[] = [];
    for (const d of names) {
      for (const kind of q.events) if (kind !== "anomaly") logs.push(...eventsInRange(seed, d, kind, q.from, q.to + 1));
    }
    const at = now();
    return (q.direction ? logs.filter((l) => l.direction === q.direction) : logs).filter((l) => arrived(l, at)).sort(byTime);
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const method = (req.method ?? "GET").toUpperCase();
    const url = new URL(req.url ?? "/", "http://email-security");
    const record: EmailSecurityRecordedRequest = { method, path: req.url ?? "/", query: Object.fromEntries(url.searchParams), status: 0, at: now() };
    requests.push(record);
    // the service's own clock, as a real one's `Date` header shows it
    res.setHeader("Date", new Date(now()).toUTCString());
    const answer = (f: EmailSecurityFailure) => {
      record.status = f.status;
      record.code = f.code;
      writeJson(res, f.status, { code: f.code, message: f.message });
    };

    const fault = faults.shift() ?? standing;
    if (fault?.kind === "html") {
      record.status = 200;
      record.fault = fault.kind;
      res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
      return void res.end("<!DOCTYPE html>\n<html><head><title>Service temporarily unavailable</title></head><body><h1>Please try again later</h1></body></html>\n");
    }
    if (fault?.kind === "echo-auth") {
      record.fault = fault.kind;
      const header = req.headers.authorization ?? "(none)";
      const decoded = Buffer.from(header.replace(/^Basic\s+/i, ""), "base64").toString("utf8");
      return answer({ status: fault.status ?? 401, code: "AuthenticationMissingOrInvalid", message: `rejected Authorization: ${header} (${decoded})` });
    }
    if (fault && fault.kind !== "pass" && fault.kind !== "truncated") {
      record.fault = fault.kind;
      if (fault.kind === "reset") return void req.socket.destroy();
      const body = fault.body ?? FAULT_BODY[fault.status];
      record.status = fault.status;
      const headers: Record<string, string> = fault.retryAfter ? { "Retry-After": fault.retryAfter } : {};
      if (body !== undefined) {
        if (typeof body === "object" && body && typeof (body as { code?: unknown }).code === "string") record.code = (body as { code: string }).code;
        return writeJson(res, fault.status, body, headers);
      }
      res.writeHead(fault.status, { "Content-Type": "text/plain", ...headers });
      return void res.end(`${fault.status} ${STATUS_CODES[fault.status] ?? ""}`.trim());
    }

    if (url.pathname !== PATH) {
      record.status = 404;
      res.writeHead(404, { "Content-Type": "text/plain" });
      return void res.end("Not Found");
    }
    if (!authorized(req.headers.authorization, credentials)) {
      return answer({ status: 401, code: "AuthenticationMissingOrInvalid", message: "The authentication information is missing or invalid." });
    }
    if (method !== "GET") return answer({ status: 400, code: "InvalidMethod", message: `The method ${method} is not supported.` });
    if (!logRetrieval) return answer({ status: 404, code: "ResourceNotAvailable", message: "Log retrieval is not enabled." });
    if (endless) {
      record.status = 200;
      record.logs = 0;
      return writeJson(res, 200, { logs: [], nextToken: encodeURIComponent(`endless-${++endlessCount}`) });
    }
    const q = parseLogQuery(url.searchParams, now());
    if ("status" in q) return answer(q);
    const after = q.after;
    const rest = matching(q).filter((l) => !after || Date.parse(l.genTime) > after.t || (Date.parse(l.genTime) === after.t && orderKey(l) > after.m));
    const page = rest.slice(0, q.limit);
    if (fault?.kind === "truncated") {
      record.status = 200;
      record.fault = fault.kind;
      const whole = JSON.stringify({ logs: page.length ? page : [{ genTime: new Date(q.from).toISOString(), eventType: "Spam" }] });
      const cut = whole.slice(0, Math.max(10, Math.floor(whole.length / 2)));
      res.writeHead(200, { "Content-Type": "application/json; charset=utf-8", "Content-Length": String(Buffer.byteLength(cut)) });
      return void res.end(cut);
    }
    if (page.length === 0) {
      record.status = 204;
      res.writeHead(204);
      return void res.end();
    }
    record.status = 200;
    record.logs = page.length;
    const last = page[page.length - 1];
    // a full page carries a token even when nothing follows: the next call then answers 204
    const nextToken = page.length === q.limit ? encodeURIComponent(encodeToken(q.fingerprint, { t: Date.parse(last.genTime), m: orderKey(last) })) : undefined;
    writeJson(res, 200, nextToken ? { logs: page, nextToken } : { logs: page });
  }

  const server = createServer((req, res) => {
    // a GET has no body worth reading; drain it so the connection stays usable
    req.resume();
    try {
      handle(req, res);
    } catch (e) {
      if (!res.headersSent && !res.destroyed) writeJson(res, 500, { code: "InternalServerError", message: e instanceof Error ? e.message : String(e) });
    }
  });
  const origin = await listenOn(server, host, opts.listen?.port);
  return {
    service,
    url: origin,
    credentials,
    requests,
    faults,
    setStandingFault: (fault) => {
      standing = fault;
    },
    setLogRetrieval: (enabled) => {
      logRetrieval = enabled;
    },
    setLateEvents: (l) => {
      late = l;
    },
    setEndlessTokens: (on) => {
      endless = on;
    },
    eventsBetween: (domain, event, start, end) => eventsInRange(seed, domain, event, start.getTime(), end.getTime()).map(asPolicyEvent),
    close: () => new Promise<void>((resolve, reject) => {
      server.close((e) => (e ? reject(e) : resolve()));
      server.closeAllConnections();
    }),
  };
}
