import type { Dispatcher } from "undici";
import { daemonExchange, type DaemonExchange } from "../adapters/daemon-http.ts";
import type { ReconcileResult, SendNowResult } from "../daemon/api-types.ts";
import { OperationError } from "../errors.ts";
import type { ReportName } from "../ports/state-store.ts";

export interface DaemonApiOptions {
  /** CWSYNC_API_TOKEN, sent as `Authorization: Bearer`. */
  token?: string;
  dispatcher?: Dispatcher;
  /** How long to wait for the daemon's answer (a reconcile of thousands of customers takes minutes). */
  timeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

export interface PostOptions {
  headers?: Record<string, string>;
  /** Statuses besides 2xx whose JSON answer the caller reads itself (409: tried and failed, 503: refused). */
  accept?: readonly number[];
  /** What to tell the user when the request went out and no answer came (reset, timeout): what may have happened, and how to find out. */
  unanswered: string;
}

export interface DaemonAnswer<T> {
  status: number;
  body: T;
  retryAfterSeconds?: number;
}

/**
 * A running daemon's API as the CLI asks it (`send-now --url`, `reconcile --url`, and `release`
 * to come): JSON over HTTP, the bearer token when set. Every failure is an OperationError (exit 1) that says
 * what happened and what to do: nothing listens, a token is wanted, the answer was lost.
 */
export interface DaemonApi {
  readonly url: string;
  /** POSTs to an /api path; resolves with a JSON object answered 2xx or with a status in `accept`. */
  post<T extends object>(path: string, opts: PostOptions): Promise<DaemonAnswer<T>>;
  /** Asks for a reconcile of everything (or one customer) and resolves with its result once it ran. */
  reconcile(customer?: string): Promise<ReconcileResult>;
  /**
   * Asks for a send-now, made once per `idempotencyKey`: a repeat gets the first request's result.
   * A full queue is waited out (Retry-After) a few times. Resolves with the result, sent or not.
   */
  sendNow(customer: string, report: ReportName | undefined, idempotencyKey: string): Promise<SendNowResult>;
}

const DEFAULT_TIMEOUT_MS = 15 * 60_000;
const BUSY_ATTEMPTS = 4;
const MAX_RETRY_AFTER_S = 30;

export function createDaemonApi(baseUrl: string, opts: DaemonApiOptions = {}): DaemonApi {
  const base = baseUrl.replace(/\/+$/, "");
  const timeout = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const customerPath = (name: string, action: string) => `/api/customers/${encodeURIComponent(name)}/${action}`;

  async function post<T extends object>(path: string, p: PostOptions): Promise<DaemonAnswer<T>> {
    let res: DaemonExchange;
    try {
      res = await daemonExchange(base, "POST", path, { token: opts.token, dispatcher: opts.dispatcher, timeoutMs: timeout, headers: p.headers });
    } catch (e) {
      throw unanswered(e, p.unanswered);
    }
    const { status, json: body, text } = res;
    if ((status < 300 || p.accept?.includes(status)) && typeof body === "object" && body !== null) {
      const retryAfter = Number(res.headers["retry-after"]);
      return { status, body: body as T, ...(Number.isFinite(retryAfter) ? { retryAfterSeconds: retryAfter } : {}) };
    }
    throw refused(path, status, body, text);
  }

  function unanswered(e: unknown, what: string): OperationError {
    const code = (e as { code?: string }).code ?? "";
    if (code === "ECONNREFUSED" || code === "ENOTFOUND" || code === "EAI_AGAIN" || code === "EHOSTUNREACH") {
      const why = code === "ECONNREFUSED" ? "connection refused" : code === "EHOSTUNREACH" ? "host unreachable" : "host not found";
      return new OperationError(`no cwsync daemon answers at ${base} (${why}): is \`cwsync run\` running there? Start it, or pass the address it listens on (its --listen) with --url or CWSYNC_URL`);
    }
    const why = /TIMEOUT/.test(code) ? `no answer within ${Math.round(timeout / 1000)} s` : `the connection was lost (${code || (e as Error).message})`;
    return new OperationError(`the daemon at ${base} took the request but ${why}: ${what}`);
  }

  function refused(path: string, status: number, body: unknown, text: string): OperationError {
    const said = typeof body === "object" && body !== null ? String((body as { error?: unknown; message?: unknown }).error ?? (body as { message?: unknown }).message ?? "") : "";
    if (status === 401) return new OperationError(`the daemon at ${base} wants its API token: set CWSYNC_API_TOKEN to the value the daemon runs with`);
    if (said) return new OperationError(`the daemon at ${base} answered ${status}: ${said.slice(0, 500)}`);
    const first = text.trim().split("\n")[0]?.slice(0, 200);
    return new OperationError(`POST ${base}${path} answered ${status}${first ? ` (${first})` : ""}, not as a cwsync daemon does: is ${base} the address of \`cwsync run\`?`);
  }

  return {
    url: base,
    post,
    async reconcile(customer) {
      const path = `${customer === undefined ? "/api/reconcile" : customerPath(customer, "reconcile")}?wait=1`;
      const { body } = await post<ReconcileResult>(path, {
        accept: [503],
        unanswered: `the reconcile goes on in the daemon; \`cwsync status\` or ${base}/api/status shows its outcome`,
      });
      if (body.stopping) throw new OperationError(`the daemon at ${base} is shutting down; it did not reconcile`);
      if (typeof body.repo !== "object" || body.repo === null) throw refused(path, 200, undefined, "");
      return body;
    },
    async sendNow(customer, report, idempotencyKey) {
      const path = customerPath(customer, "send-now") + (report ? `?report=${encodeURIComponent(report)}` : "");
      for (let attempt = 1; ; attempt++) {
        const a = await post<SendNowResult>(path, {
          headers: { "idempotency-key": idempotencyKey },
          accept: [409, 503],
          unanswered:
            `the send may still go out. Run the same command with --idempotency-key ${idempotencyKey} to get its result without sending twice ` +
            `(the daemon remembers the key for a day, unless it restarts), or see \`cwsync history ${customer}\``,
        });
        if (a.body.refused === "busy" && attempt < BUSY_ATTEMPTS) {
          await sleep(Math.min(MAX_RETRY_AFTER_S, Math.max(1, a.retryAfterSeconds ?? 5)) * 1000);
          continue;
        }
        if (a.body.refused) throw new OperationError(`the daemon at ${base} did not send: ${a.body.message}`);
        if (!Array.isArray(a.body.sends)) throw refused(path, a.status, undefined, "");
        return a.body;
      }
    },
  };
}
