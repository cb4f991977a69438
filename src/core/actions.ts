import type { LedgerEntry, ReportName } from "../ports/state-store.ts";

/** What happens to one billed product in a billing send. */
export type LineOp =
  /** Set the existing addition to `quantity` (absolute). */
  | "set"
  /** No live addition for the product: create one with `quantity`. */
  | "create"
  /** The addition already holds `quantity`. */
  | "unchanged"
  /** A decrease under `decreases: hold`: recorded and shown, not applied. */
  | "held"
  /** Not billed, with `reason` (agreement or addition problem, no LMP row, …). */
  | "refused";

export interface BillingLine {
  product: string;
  productName: string;
  catalogItem: string;
  catalogItemId?: number;
  agreementId?: number;
  agreementName?: string;
  additionId?: number;
  previous?: number;
  quantity?: number;
  op: LineOp;
  /** A reason code for `refused` (`agreement.not-found`, `addition.ambiguous`, `license.unmatched`, `seats.invalid`, …). */
  reason?: string;
  message?: string;
  /** Billed, with something to say (`seats.used-unreported`: no used units reported, billed at provisioned). */
  warning?: { reason: string; message: string };
}

/** What every send that ends in a ticket carries; stored as its ledger payload. */
interface TicketFields {
  key: string;
  customer: string;
  periodKey: string;
  /** ISO instant the send fell due (or was asked for). */
  due: string;
  trigger: LedgerEntry["trigger"];
  /** The ledger already holds an unfinished entry for this key: look before creating anything. */
  resume: boolean;
  companyId: number;
  companyIdentifier: string;
  board: string;
  status?: string;
  summary: string;
  description: string;
}

/** A billing send: the month's absolute quantities, then one summary ticket. */
export interface BillingSend extends TicketFields {
  kind: "billing";
  report: "billing";
  lines: BillingLine[];
}

/** A detection report: one ticket with the period's counts. */
export interface ReportSend extends TicketFields {
  kind: "report";
  report: "hostedEmailSecurity" | "emailSecurity";
  /** The period, ISO UTC, half-open. */
  start: string;
  end: string;
  /** Per selected category and domain. */
  counts: { category: string; domain: string; count: number }[];
  total: number;
  incomplete?: string;
}

/** A due send that is recorded without being sent. */
export interface RecordSend {
  kind: "record";
  key: string;
  customer: string;
  report: ReportName;
  periodKey: string;
  due: string;
  state: "missed" | "skipped";
  reason: string;
}

/** A due send that cannot go out yet and is retried on the next reconcile; nothing is written. */
export interface WaitSend {
  kind: "wait";
  key: string;
  customer: string;
  report: ReportName;
  periodKey: string;
  due: string;
  reason: string;
  message: string;
}

export type Action = BillingSend | ReportSend | RecordSend | WaitSend;

/** A send that creates a ticket (and, for billing, sets additions) through the ledger. */
export type TicketSend = BillingSend | ReportSend;
