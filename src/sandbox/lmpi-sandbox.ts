import { createServer, STATUS_CODES, type IncomingMessage, type ServerResponse } from "node:http";
import { UsageError } from "../errors.ts";
import { readBody } from "./http-io.ts";
import { checkLmpiAuth, DEFAULT_TIME_WINDOW_SECONDS, type LmpiFailure } from "./lmpi-auth.ts";
import { seedRows, type LmpiSeed, type LmpiSummaryRow } from "./lmpi-seed.ts";
import { listenOn } from "./listen.ts";

export interface LmpiSandboxCredentials {
  accessToken: string;
  secretKey: string;
}

/** One request as the fake saw it: never the signature or the token, only what they led to. */
export interface LmpiRecordedRequest {
  method: string;
  /** Path and query as received. */
  path: string;
  body?: unknown;
  /** The status answered; 0 when the connection was destroyed instead. */
  status: number;
  /** The sandbox clock when the request arrived (epoch ms). */
  at: number;
  posixTime?: string;
  traceId?: string;
  /** `error_subject` of the answer, when it was an error. */
  errorSubject?: string;
  fault?: LmpiFault["kind"];
}

/**
 * One per request, in order. `status`, `reset` and `html` are injected before authentication, as a
 * gateway in front of LMPI would fail; the others change an authenticated answer, as the real
 * service sends it on a bad day (real-services.md, hostile-trial.md M7).
 */
export type LmpiFault =
  | { kind: "status"; status: number; retryAfter?: string }
  | { kind: "reset" }
  /** 200 with a proxy's HTML page (`text/html`), not the report. */
  | { kind: "html" }
  /**
   * `status` (default 401) with an error body that quotes the request's credentials, the access
   * token, the signature and the secret key it was checked against, as a debugging gateway does.
   */
  | { kind: "echo-auth"; status?: number }
  /** 200 `application/json` with the first half of the real answer: a body cut off in transit. */
  | { kind: "truncated" }
  /** 200 `{"summary": []}`: the month's report not generated yet. */
  | { kind: "empty-summary" }
  /**
   * The real answer with fields of the matching rows replaced (`used: null`, `used: 1e308`,
   * `provisioned: -3`, `used: "12 seats"`…); a field set to `undefined` is left out of the row.
   */
  | { kind: "rows"; customer?: string; product?: string; set: Readonly<Record<string, unknown>> };

export interface LmpiSandbox {
  /** The LMPI_URL: `http://127.0.0.1:<port>`. */
  url: string;
  credentials: LmpiSandboxCredentials;
  requests: LmpiRecordedRequest[];
  /** Queue of faults; each request takes the first one. */
  faults: LmpiFault[];
  /** A fault every request meets while the queue is empty, until unset: a fault for the fake's lifetime. */
  setStandingFault(fault: LmpiFault | undefined): void;
  /** Replaces the report data. */
  setRows(seed: LmpiSeed | undefined): void;
  close(): Promise<void>;
}

export interface LmpiSandboxOptions {
  /** Loopback only; default 127.0.0.1, port 0 (any free port). */
  listen?: { host?: string; port?: number };
  credentials?: Partial<LmpiSandboxCredentials>;
  rows?: LmpiSeed;
  /** The fake's clock (epoch ms) for `x-posix-time` checks and the two-year retention (default: the system clock). */
  now?: () => number;
  /** Allowed distance between `x-posix-time` and `now`, in seconds (default ±15 minutes). */
  timeWindowSeconds?: number;
}

export const DEFAULT_LMPI_CREDENTIALS: Readonly<LmpiSandboxCredentials> = {
  accessToken: "5ad0b0c5-1a2b-4c3d-8e4f-00000000a11c",
  secretKey: "sandboxLmpiSecretKey",
};

const SUMMARY = /^\/LMPI\/v[23]\/reports\/summary$/;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Report data is retained for two years (tmrm.md §5.2). */
const RETENTION_MONTHS = 24;

function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^(::ffff:)?127\.\d+\.\d+\.\d+$/.test(h);
}

const fail = (status: number, subject: string, message: string): LmpiFailure => ({ status, subject, message });

/** The report month the body asks for, or why it is refused. */
function reportMonth(body: unknown, nowMs: number): { year: number; month: number } | LmpiFailure {
  if (!body || typeof body !== "object" || Array.isArray(body)) return fail(400, "InvalidParameter", "The request body must be a JSON object.");
  const b = body as Record<string, unknown>;
  if (typeof b.report_cycle_year !== "string" || !/^\d{4}$/.test(b.report_cycle_year)) {
    return fail(400, "InvalidParameter", 'report_cycle_year is required: a string in ISO 8601 format "YYYY".');
  }
  if (typeof b.report_cycle_month !== "string" || !/^(0[1-9]|1[0-2])$/.test(b.report_cycle_month)) {
    return fail(400, "InvalidParameter", 'report_cycle_month is required: a string in ISO 8601 format "MM".');
  }
  for (const k of ["partner_id", "product_id"] as const) {
    if (b[k] !== undefined && (typeof b[k] !== "string" || !GUID.test(b[k] as string))) return fail(400, "InvalidParameter", `${k} must be a GUID.`);
  }
  if (b.language_code !== undefined && (typeof b.language_code !== "string" || !/^[a-z]{2}-[A-Z]{2}$/.test(b.language_code))) {
    return fail(400, "InvalidParameter", "language_code must be a language code such as en-US.");
  }
  const year = Number(b.report_cycle_year);
  const month = Number(b.report_cycle_month);
  const now = new Date(nowMs);
  const age = (now.getUTCFullYear() - year) * 12 + (now.getUTCMonth() + 1 - month);
  if (age > RETENTION_MONTHS) return fail(400, "InvalidParameter", "Report data is only retained for two years.");
  return { year, month };
}

const GATEWAY_PAGE = "<!DOCTYPE html>\n<html><head><title>Sign in</title></head><body><h1>Session expired</h1><p>Please sign in again.</p></body></html>";

const norm = (s: string) => s.replace(/\s+/g, " ").trim().toLowerCase();

/** A row with the fault's fields replaced, when it matches the fault's customer and product. */
function withFields(row: LmpiSummaryRow, f: Extract<LmpiFault, { kind: "rows" }>): Record<string, unknown> {
  if (f.customer !== undefined && norm(f.customer) !== norm(row.customer)) return { ...row };
  if (f.product !== undefined && norm(f.product) !== norm(row.product_name)) return { ...row };
  const out: Record<string, unknown> = { ...row, ...f.set };
  for (const [k, v] of Object.entries(f.set)) if (v === undefined) delete out[k];
  return out;
}

function writeJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.destroyed) return;
  const payload = JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json; charset=utf-8", "Content-Length": String(Buffer.byteLength(payload)), ...headers });
  res.end(payload);
}

/**
 * Starts a fake Licensing Management Platform API on loopback: the Customer Summary report
 * (`POST /LMPI/v3/reports/summary`, and v2) with LMPI's HMAC authentication verified by
 * recomputing the signature, the timestamp window, the documented error bodies, two-year
 * retention, and injectable gateway faults. Months ahead of the fake's clock are served, so
 * `--at` previews of coming months have data.
 */
export async function startLmpiSandbox(opts: LmpiSandboxOptions = {}): Promise<LmpiSandbox> {
  const host = opts.listen?.host ?? "127.0.0.1";
  if (!isLoopback(host)) throw new UsageError(`the LMPI sandbox listens on loopback only; ${host} is not`);
  const credentials: LmpiSandboxCredentials = { ...DEFAULT_LMPI_CREDENTIALS, ...opts.credentials };
  const now = opts.now ?? Date.now;
  const window = opts.timeWindowSeconds ?? DEFAULT_TIME_WINDOW_SECONDS;
  const requests: LmpiRecordedRequest[] = [];
  const faults: LmpiFault[] = [];
  let standing: LmpiFault | undefined;
  let seed = opts.rows;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? "GET").toUpperCase();
    const requestUri = req.url ?? "/";
    const read = await readBody(req);
    const raw = read ?? Buffer.alloc(0);
    const record: LmpiRecordedRequest = { method, path: requestUri, status: 0, at: now() };
    const posixTime = req.headers["x-posix-time"];
    const traceId = req.headers["x-traceid"];
    if (typeof posixTime === "string") record.posixTime = posixTime;
    if (typeof traceId === "string") record.traceId = traceId;
    let body: unknown;
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw.toString("utf8"));
      } catch {
        body = raw.toString("utf8");
      }
      record.body = body;
    }
    requests.push(record);
    const answer = (f: LmpiFailure) => {
      record.status = f.status;
      record.errorSubject = f.subject;
      writeJson(res, f.status, { error_subject: f.subject, error_message: f.message });
    };

    const fault = faults.shift() ?? standing;
    if (fault) record.fault = fault.kind;
    if (fault?.kind === "reset") return void req.socket.destroy();
    if (fault?.kind === "status") {
      record.status = fault.status;
      res.writeHead(fault.status, { "Content-Type": "text/plain", ...(fault.retryAfter ? { "Retry-After": fault.retryAfter } : {}) });
      return void res.end(`${fault.status} ${STATUS_CODES[fault.status] ?? ""}`.trim());
    }
    if (fault?.kind === "html") {
      record.status = 200;
      res.writeHead(200, { "Content-Type": "text/html; charset=UTF-8" });
      return void res.end(GATEWAY_PAGE);
    }

    if (fault?.kind === "echo-auth") {
      const quoted = `x-access-token: ${String(req.headers["x-access-token"] ?? "(none)")}, x-signature: ${String(req.headers["x-signature"] ?? "(none)")}`;
      return answer(fail(fault.status ?? 401, "InvalidSignature", `rejected ${quoted}; expected a signature made with secret key ${credentials.secretKey}`));
    }
    if (read === undefined) return answer(fail(413, "RequestTooLarge", "The request body is too large."));
    const path = new URL(requestUri, "http://lmpi").pathname;
    if (!SUMMARY.test(path)) return answer(fail(404, "NotFound", `No resource at ${path}.`));
    if (method !== "POST") return answer(fail(405, "MethodNotAllowed", "The method is not allowed."));
    const denied = checkLmpiAuth({ method, requestUri, headers: req.headers, body: raw }, credentials, now(), window);
    if (denied) return answer(denied);
    if (typeof body === "string" || body === undefined) return answer(fail(400, "InvalidParameter", "The request body must be JSON."));
    const asked = reportMonth(body, now());
    if ("status" in asked) return answer(asked);
    record.status = 200;
    const rows = fault?.kind === "empty-summary" ? [] : seedRows(seed, asked.year, asked.month);
    const answer200 = { summary: fault?.kind === "rows" ? rows.map((r) => withFields(r, fault)) : rows };
    if (fault?.kind !== "truncated") return writeJson(res, 200, answer200);
    const text = JSON.stringify(answer200);
    const cut = text.slice(0, Math.max(1, Math.floor(text.length / 2)));
    res.writeHead(200, { "Content-Type": "application/json; charset=utf-8", "Content-Length": String(Buffer.byteLength(cut)) });
    res.end(cut);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent && !res.destroyed) {
        writeJson(res, 500, { error_subject: "InternalError", error_message: e instanceof Error ? e.message : String(e) });
      }
    });
  });
  const origin = await listenOn(server, host, opts.listen?.port);
  return {
    url: origin,
    credentials,
    requests,
    faults,
    setStandingFault: (fault) => {
      standing = fault;
    },
    setRows: (next) => {
      seed = next;
    },
    close: () => new Promise<void>((resolve, reject) => {
      server.close((e) => (e ? reject(e) : resolve()));
      server.closeAllConnections();
    }),
  };
}
