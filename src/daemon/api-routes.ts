import type { IncomingMessage, ServerResponse } from "node:http";
import type { ReportName } from "../ports/state-store.ts";
import type { SendNowResult } from "./api-types.ts";
import { accepted, json, notAllowed } from "./http-replies.ts";
import type { DaemonControl } from "./http-server.ts";
import { IdempotencyCache } from "./idempotency.ts";
import type { Logger } from "./logger.ts";

const REPORTS: readonly ReportName[] = ["billing", "hostedEmailSecurity", "emailSecurity"];

/**
 * Idempotency keys remembered: for a day (a client's retries come within minutes), the last 10,000
 * (a few MB), and each for an hour at least: a repeat within the hour always gets the first result,
 * and a new key that would push out a younger one is refused as busy.
 */
export const IDEMPOTENCY_KEYS = { max: 10_000, ttlMs: 24 * 3_600_000, keepMs: 3_600_000 };
/** What a full send-now queue asks a client to wait before trying again. */
export const BUSY_RETRY_AFTER_SECONDS = 5;
// printable ASCII without spaces: a UUID, a CI run id, a ticket number
const KEY_PATTERN = /^[\x21-\x7e]{1,200}$/;

/**
 * The JSON API under /api (the caller has authorized the request): the status, reconcile
 * requests (`?wait=1` answers with the reconcile's result once it ran, as `flux reconcile` waits),
 * send-now, made once per `Idempotency-Key`, and the release of held decreases.
 */
export function createApiRoutes(control: DaemonControl, log: Logger, now: () => number = Date.now): (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void> {
  // a request that did nothing (a full queue, a stop) is not remembered: its retry must run
  const keys = new IdempotencyCache<SendNowResult>({
    ...IDEMPOTENCY_KEYS, now, keep: (r) => r.refused === undefined,
    whenFull: () => ({ ok: false, customer: "", message: `the daemon holds ${IDEMPOTENCY_KEYS.max} idempotency keys of the last hour; try again shortly`, sends: [], refused: "busy" }),
  });

  async function reconcile(res: ServerResponse, url: URL, customer?: string): Promise<void> {
    const wait = url.searchParams.get("wait");
    if (wait === null || wait === "0" || wait === "false") return accepted(res, control.requestReconcile("api", customer));
    const result = await control.reconcileNow("api", customer);
    return json(res, result.stopping ? 503 : 200, result);
  }

  async function sendNow(req: IncomingMessage, res: ServerResponse, url: URL, customer: string): Promise<void> {
    const report = url.searchParams.get("report") ?? undefined;
    if (report !== undefined && !(REPORTS as readonly string[]).includes(report)) {
      return json(res, 400, { error: `unknown report "${report}"; expected one of ${REPORTS.join(", ")}` });
    }
    const key = req.headers["idempotency-key"];
    if (key !== undefined && (typeof key !== "string" || !KEY_PATTERN.test(key))) {
      return json(res, 400, { error: "Idempotency-Key must be 1 to 200 printable ASCII characters without spaces (a UUID, say)" });
    }
    const run = async () => {
      const r = await control.requestSendNow(customer, report as ReportName | undefined);
      log.info({ customer, report: report ?? "all", ok: r.ok, refused: r.refused }, "send-now requested over http");
      return r;
    };
    let replayed = false;
    let result: SendNowResult;
    if (key === undefined) {
      result = await run();
    } else {
      const used = keys.use(key, `send-now of ${customer} ${report ?? "(every report)"}`, run);
      if ("conflict" in used) return json(res, 422, { error: `Idempotency-Key ${key} was used for ${used.conflict}; use a new key for another request` });
      replayed = used.replayed;
      result = await used.result;
      if (replayed) log.debug({ customer, report: report ?? "all" }, "send-now answered with the result of an earlier request with its idempotency key");
    }
    const headers: Record<string, string> = replayed ? { "idempotent-replayed": "true" } : {};
    if (result.refused === "busy") headers["retry-after"] = String(BUSY_RETRY_AFTER_SECONDS);
    if (result.refused) return json(res, 503, { ...result, error: result.message }, headers);
    return json(res, result.ok ? 200 : 409, result, headers);
  }

  async function release(res: ServerResponse, url: URL, customer: string): Promise<void> {
    const product = url.searchParams.get("product") || undefined;
    const month = url.searchParams.get("month") || undefined;
    const by = url.searchParams.get("by")?.trim() || "api";
    if (month !== undefined && !/^\d{4}-(0[1-9]|1[0-2])$/.test(month)) return json(res, 400, { error: `month must be YYYY-MM, found "${month}"` });
    if (product !== undefined && !/^[A-Za-z0-9._-]{1,100}$/.test(product)) return json(res, 400, { error: `"${product}" is not a product key of _global.yaml` });
    const result = await control.requestRelease({ customer, by, ...(product ? { product } : {}), ...(month ? { month } : {}) });
    log.info({ customer, product: product ?? "all", month, by, ok: result.ok, released: result.released.length, refused: result.refused }, "release requested over http");
    if (result.refused) return json(res, 503, { ...result, error: result.message }, result.refused === "busy" ? { "retry-after": String(BUSY_RETRY_AFTER_SECONDS) } : {});
    return json(res, result.ok ? 200 : 409, result);
  }

  return async (req, res, url) => {
    const path = url.pathname;
    const method = req.method ?? "GET";
    if (path === "/api/status") {
      if (method !== "GET") return notAllowed(res, "GET");
      return json(res, 200, control.snapshot());
    }
    if (path === "/api/audit" && control.audit) {
      if (method !== "GET") return notAllowed(res, "GET");
      // never computed per request: the daemon's last audit, or 503 until the first is ready
      const answer = control.audit();
      return json(res, answer.audit ? 200 : 503, answer.audit ? { ...answer.audit, ...(answer.error ? { lastError: answer.error } : {}), nextAt: answer.nextAt } : { error: answer.error ?? "the first billing audit is not ready yet", running: answer.running, nextAt: answer.nextAt });
    }
    if (path === "/api/reconcile") {
      if (method !== "POST") return notAllowed(res, "POST");
      return reconcile(res, url);
    }
    const m = /^\/api\/customers\/([^/]+)(?:\/(reconcile|send-now|release))?\/?$/.exec(path);
    if (!m) return json(res, 404, { error: `no route ${method} ${path}` });
    let name: string;
    try {
      name = decodeURIComponent(m[1]);
    } catch {
      return json(res, 400, { error: "the customer name in the path is not valid percent-encoding" });
    }
    const action = m[2];
    if (!action && method !== "GET") return notAllowed(res, "GET");
    if (action && method !== "POST") return notAllowed(res, "POST");
    const view = control.snapshot().customers.find((c) => c.name === name);
    if (!view) return json(res, 404, { error: `no customer named "${name}"; GET /api/status lists them` });
    if (!action) return json(res, 200, view);
    if (action === "reconcile") return reconcile(res, url, name);
    if (action === "release") return release(res, url, name);
    return sendNow(req, res, url, name);
  };
}
