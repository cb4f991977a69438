import { randomUUID } from "node:crypto";
import type { Dispatcher } from "undici";
import { daemonExchange, type DaemonExchange } from "../adapters/daemon-http.ts";
import type { DaemonSnapshot } from "../daemon/snapshot.ts";

/** A request to the daemon that got no answer, or an answer that was not a success. */
export class DaemonRequestError extends Error {
  constructor(
    message: string,
    /** Undefined when nothing answered (refused, reset, timed out). */
    readonly status?: number,
    /** The daemon's own `error` or `message`, when it answered with one. */
    readonly said?: string,
  ) {
    super(message);
    this.name = "DaemonRequestError";
  }
}

/** The running daemon's HTTP API, as the attached dashboard uses it. */
export interface DaemonClient {
  readonly url: string;
  status(signal?: AbortSignal): Promise<DaemonSnapshot>;
  /** Asks for a reconcile of one customer, or of all; resolves to a line for the status bar. */
  reconcile(customer?: string): Promise<string>;
  /** One call per confirmation: each carries a new Idempotency-Key, so a repeat of the same request never sends twice. */
  sendNow(customer: string, report?: string): Promise<string>;
  /** Applies the customer's held decreases, journaled as `by`; resolves to the daemon's lines, rejects with its message when it could not. */
  release(customer: string, by?: string): Promise<string>;
}

export interface DaemonClientOptions {
  /** CWSYNC_API_TOKEN, sent as `Authorization: Bearer`. */
  token?: string;
  dispatcher?: Dispatcher;
  timeoutMs?: number;
}

export function createDaemonClient(baseUrl: string, opts: DaemonClientOptions = {}): DaemonClient {
  const base = baseUrl.replace(/\/+$/, "");
  const timeout = opts.timeoutMs ?? 10_000;

  async function call(method: "GET" | "POST", path: string, signal?: AbortSignal, extra: Record<string, string> = {}): Promise<{ status: number; body: unknown }> {
    let res: DaemonExchange;
    try {
      res = await daemonExchange(base, method, path, { token: opts.token, dispatcher: opts.dispatcher, timeoutMs: timeout, headers: extra, signal });
    } catch (e) {
      const code = (e as { code?: string }).code;
      throw new DaemonRequestError(`${method} ${base}${path}: ${code === "ECONNREFUSED" ? "connection refused" : (code ?? (e as Error).message)}`);
    }
    // a proxy's HTML error page, say: shown as text
    const body = res.json ?? res.text;
    if (res.status >= 300) {
      const said = typeof body === "object" && body !== null ? (body as { error?: unknown; message?: unknown }) : undefined;
      const reason = said ? String(said.error ?? said.message ?? "") : String(body).trim().split("\n")[0];
      throw new DaemonRequestError(`${method} ${path} answered ${res.status}${reason ? `: ${reason.slice(0, 300)}` : ""}`, res.status, reason || undefined);
    }
    return { status: res.status, body };
  }

  const customerPath = (name: string, action: string) => `/api/customers/${encodeURIComponent(name)}/${action}`;

  return {
    url: base,
    async status(signal) {
      const { body } = await call("GET", "/api/status", signal);
      if (!body || typeof body !== "object" || !Array.isArray((body as DaemonSnapshot).customers)) {
        throw new DaemonRequestError(`GET ${base}/api/status did not answer with a daemon status (no customers list): is --url a cwsync daemon?`);
      }
      return body as DaemonSnapshot;
    },
    async reconcile(customer) {
      await call("POST", customer === undefined ? "/api/reconcile" : customerPath(customer, "reconcile"));
      return "queued; the daemon reconciles shortly";
    },
    async sendNow(customer, report) {
      try {
        const path = customerPath(customer, "send-now") + (report ? `?report=${encodeURIComponent(report)}` : "");
        const { body } = await call("POST", path, undefined, { "idempotency-key": randomUUID() });
        return String((body as { message?: unknown }).message ?? "sent");
      } catch (e) {
        // 409: the daemon tried and refused or failed; its message is the whole story
        if (e instanceof DaemonRequestError && e.status === 409 && e.said) throw new DaemonRequestError(e.said, 409, e.said);
        throw e;
      }
    },
    async release(customer, by) {
      try {
        const { body } = await call("POST", customerPath(customer, "release") + (by ? `?by=${encodeURIComponent(by)}` : ""));
        return String((body as { message?: unknown }).message ?? "released");
      } catch (e) {
        if (e instanceof DaemonRequestError && e.status === 409 && e.said) throw new DaemonRequestError(e.said, 409, e.said);
        throw e;
      }
    },
  };
}
