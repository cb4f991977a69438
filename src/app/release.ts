import { existsSync } from "node:fs";
import { userInfo } from "node:os";
import { resolve } from "node:path";
import { releaseHeld, toRelease, type ReleaseRequest, type ReleaseResult } from "../apply/release-held.ts";
import { withLease, type LeaseOptions } from "../apply/with-lease.ts";
import { OperationError } from "../errors.ts";
import type { StateStore } from "../ports/state-store.ts";
import { openConnectWise } from "./connectwise-session.ts";
import type { Deps } from "./deps.ts";
import { targetOf } from "./target.ts";

export type { ReleaseRequest, ReleaseResult } from "../apply/release-held.ts";

/** Who runs the command, for the journal: the OS user (or the environment's, where the system cannot say). */
export function osUser(env: Readonly<Record<string, string | undefined>>): string {
  try {
    return userInfo().username;
  } catch {
    return env.USER ?? env.USERNAME ?? "unknown";
  }
}

/** What the daemon answers to a release (POST /api/customers/NAME/release): `refused` when nothing was tried (a full queue, a stop). */
export interface ReleaseAnswer extends ReleaseResult {
  ok: boolean;
  message: string;
  refused?: "busy" | "stopping";
}

/** The line `cwsync release` prints, and the daemon answers, for a release. */
export function releaseLines(r: ReleaseResult, req: Pick<ReleaseRequest, "product" | "month">): string[] {
  if (r.released.length === 0) {
    return [`${r.customer}: no held decrease${req.product ? ` of ${req.product}` : ""}${req.month ? ` in ${req.month}` : ""} to release; nothing changed`];
  }
  return r.released.map((d) => `${r.customer}: ${d.productName} (${d.product}) released: addition #${d.additionId} ${d.from} → ${d.to} seats (billing ${d.periodKey})`);
}

export interface ReleaseOnceOptions extends ReleaseRequest {
  repo: string;
  sandbox: boolean;
  /** What to say when another cwsync holds the state's lease (the CLI names the daemon to ask). */
  heldError?: (store: StateStore, stateDir: string) => LeaseOptions["heldError"];
}

/**
 * `cwsync release` outside the daemon: the customer's held decreases applied under the state's
 * lease. Nothing held: nothing is opened, taken or written.
 */
export async function releaseOnce(opts: ReleaseOnceOptions, deps: Deps): Promise<ReleaseResult> {
  if (!existsSync(deps.settings.stateDir)) throw new OperationError(`no state in ${deps.settings.stateDir} yet: run cwsync reconcile first (or set CWSYNC_STATE_DIR)`);
  const state = deps.openState(targetOf(opts.sandbox, deps.settings.env));
  try {
    if (!state.store.customer(opts.customer)) throw new OperationError(`no customer \`${opts.customer}\` in ${state.dir}: it has not been reconciled yet`);
    const req: ReleaseRequest = { customer: opts.customer, by: opts.by, ...(opts.product ? { product: opts.product } : {}), ...(opts.month ? { month: opts.month } : {}) };
    if (toRelease(state.store, req).length === 0) return { customer: opts.customer, released: [] };
    const session = await openConnectWise({ sandbox: opts.sandbox, repo: resolve(deps.cwd, opts.repo) }, deps);
    try {
      return await withLease(state.store, deps.clock, { stateDir: state.dir, heldError: opts.heldError?.(state.store, state.dir) }, (token, signal) => {
        state.checkTarget(token);
        return releaseHeld(req, { cw: session.cw, store: state.store, token, clock: deps.clock, signal });
      });
    } finally {
      await session.close();
    }
  } finally {
    state.store.close();
  }
}
