import type { CycleJson } from "../app/cycle-json.ts";
import type { ReportName } from "../ports/state-store.ts";

/** What became of one report of a send-now: `cwsync send-now --format json` prints these, locally and over the API. */
export interface SendResult {
  report: ReportName;
  periodKey: string;
  /** `not-sent`: it could not go out (suspended, disabled, …: `reason`); `unknown`: looked for before any new attempt. */
  result: "sent" | "not-sent" | "failed" | "unknown" | "recorded" | "not-attempted";
  ticketId?: number;
  /** The send key (`cws-…`), also at the end of the ticket's summary. */
  key?: string;
  reason?: string;
  message?: string;
}

/** The answer of `POST /api/customers/<name>/send-now`. */
export interface SendNowResult {
  /** Every report was sent. */
  ok: boolean;
  customer: string;
  /** One line per send as `cwsync send-now` prints it, or why nothing was tried. */
  message: string;
  sends: SendResult[];
  /** The instant the sends were made at (the daemon's clock, ISO UTC) and the applied revision they came from; absent when nothing ran. */
  at?: string;
  revision?: string;
  /** Nothing was tried: the queue is full (try again after a while) or the daemon is stopping. */
  refused?: "busy" | "stopping";
}

/** The answer of `POST /api/reconcile?wait=1` and `POST /api/customers/<name>/reconcile?wait=1`. */
export interface ReconcileResult {
  /** The reconcile ran to its end; a customer may still be failing (see `report`). */
  ok: boolean;
  /** Why it ran: `api`, `api:<customer>`, `revision` (it found a new revision), merged with requests made within a second. */
  reason: string;
  /** When it finished, ISO UTC. */
  at: string;
  durationMs: number;
  /** Why it did not run to its end. */
  error?: string;
  /** The daemon stopped before it ran. */
  stopping?: boolean;
  /** The git sync that ran first: what is applied, and why a newer head is not (a fetch error, an unsigned commit). */
  repo: { source: string; applied?: string; syncError?: string; refused?: { revision: string; reason: string } };
  /** What `cwsync reconcile --format json` prints for a reconcile; absent when none ran. A customer's reconcile lists the customers it looked at. */
  report?: CycleJson;
}
