import { osUser, releaseLines, releaseOnce, type ReleaseAnswer, type ReleaseRequest, type ReleaseResult } from "../../app/release.ts";
import { checkCustomerName } from "../../app/send-now.ts";
import type { Deps } from "../../app/deps.ts";
import { OperationError, UsageError } from "../../errors.ts";
import { createDaemonApi } from "../daemon-api.ts";
import { askTheDaemon } from "../daemon-lease.ts";
import { daemonTarget, type DaemonTarget } from "../daemon-url.ts";

export interface ReleaseOptions {
  customer: string;
  product?: string;
  month?: string;
  by?: string;
  repo: string;
  sandbox: boolean;
  format: "text" | "json";
  /** `--url`: ask the running daemon (also `CWSYNC_URL`). */
  url?: string;
  /** The flags given on the command line: those a daemon cannot honour are refused with --url. */
  given?: readonly string[];
}

/** `release --url`: the running daemon releases under its lease and answers with what it released. */
async function releaseViaDaemon(req: ReleaseRequest, daemon: DaemonTarget, io: Deps): Promise<ReleaseResult> {
  const api = createDaemonApi(daemon.url, { token: io.settings.apiToken });
  const query = new URLSearchParams({ by: req.by, ...(req.product ? { product: req.product } : {}), ...(req.month ? { month: req.month } : {}) });
  const { body } = await api.post<ReleaseAnswer>(`/api/customers/${encodeURIComponent(req.customer)}/release?${query}`, {
    accept: [409, 503],
    unanswered: `the release may have been applied; \`cwsync history ${req.customer}\` shows it, and running the command again applies only what is still held`,
  });
  if (!body.ok || !Array.isArray(body.released)) throw new OperationError(`the daemon at ${daemon.url} did not release: ${body.message ?? "no answer as a cwsync daemon gives"}`);
  return { customer: body.customer, released: body.released };
}

/**
 * `cwsync release`: applies the decreases held under `decreases: hold` (every one of the
 * customer's latest billing, or one product's, or another month's), journaled with who ran it;
 * with `--url`, the running daemon applies them under its lease. Nothing held: says so and exits 0.
 */
export async function releaseCommand(opts: ReleaseOptions, io: Deps): Promise<number> {
  checkCustomerName(opts.customer);
  if (opts.month !== undefined && !/^\d{4}-(0[1-9]|1[0-2])$/.test(opts.month)) throw new UsageError(`--month: \`${opts.month}\` is not a month; use YYYY-MM, e.g. 2027-01`);
  const by = opts.by?.trim() || osUser(io.env);
  const req: ReleaseRequest = { customer: opts.customer, by, ...(opts.product ? { product: opts.product } : {}), ...(opts.month ? { month: opts.month } : {}) };
  const daemon = daemonTarget("release", opts.url, opts.given ?? [], io.settings.daemonUrl);
  const result = daemon ? await releaseViaDaemon(req, daemon, io) : await releaseOnce({ ...req, repo: opts.repo, sandbox: opts.sandbox, heldError: askTheDaemon }, io);
  if (opts.format === "json") io.stdout(JSON.stringify({ ...result, by }, null, 2) + "\n");
  else io.stdout(releaseLines(result, req).map((l) => `${l}\n`).join(""));
  return 0;
}
