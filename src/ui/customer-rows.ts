import type { CustomerView } from "../status/customer-view.ts";
import { reportLabel, shortTime } from "./format.ts";

/** Ink colour of each customer state: green is fine, yellow wants a look, red needs a human. */
export const STATE_COLOR: Readonly<Record<string, string>> = {
  ready: "green",
  pending: "cyan",
  degraded: "yellow",
  failing: "red",
  invalid: "magenta",
  suspended: "gray",
  removed: "gray",
};

/** `owner` is optional in a customer file; a view carries it only when the daemon adds it. */
export const ownerOf = (v: CustomerView): string | undefined => (v as { owner?: unknown }).owner as string | undefined;

const haystacks = new WeakMap<CustomerView, string>();

function haystack(v: CustomerView): string {
  let h = haystacks.get(v);
  if (h === undefined) {
    h = [v.name, v.status.state, v.status.reason, v.company?.identifier, v.company?.name, ownerOf(v)].filter(Boolean).join("\n").toLowerCase();
    haystacks.set(v, h);
  }
  return h;
}

/** The customers whose name, state, reason, company or owner contains `filter` (case-insensitive). */
export function filterCustomers(customers: readonly CustomerView[], filter: string): readonly CustomerView[] {
  const needle = filter.trim().toLowerCase();
  return needle ? customers.filter((v) => haystack(v).includes(needle)) : customers;
}

export interface CustomerRow {
  name: string;
  state: string;
  company: string;
  nextDue: string;
  overdue: boolean;
  lastSend: string;
  /** The last error; for an invalid customer, `file:line:col` and the problem. */
  problem: string;
}

/** One table row: rendered only for the rows on screen; column widths measure every customer's, once per update. */
export function customerRow(v: CustomerView): CustomerRow {
  const next = v.nextDue.reduce<CustomerView["nextDue"][number] | undefined>((a, n) => (!a || n.due < a.due ? n : a), undefined);
  const s = v.status;
  const problem =
    s.state === "invalid"
      ? [s.location, s.message].filter(Boolean).join(" ")
      : (v.lastError?.message ?? (s.state === "ready" || s.state === "pending" ? "" : `${s.reason}: ${s.message}`));
  return {
    name: v.name,
    state: s.state,
    company: v.company ? (v.company.state === "not-found" ? `${v.company.identifier}?` : v.company.identifier) : "-",
    nextDue: next ? `${reportLabel(next.report)} ${shortTime(next.due)}` : "-",
    overdue: next?.overdue ?? false,
    lastSend: v.lastSend ? `${reportLabel(v.lastSend.report)} ${v.lastSend.periodKey}` : "-",
    problem,
  };
}
