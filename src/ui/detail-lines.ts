import type { CustomerView } from "../status/customer-view.ts";
import { STATE_COLOR, ownerOf } from "./customer-rows.ts";
import { reportLabel, shortRevision, shortTime } from "./format.ts";

export interface DetailLine {
  label: string;
  text: string;
  color?: string;
}

/** Everything the view carries about one customer, one fact a line, in the order `cwsync status NAME` prints. */
export function detailLines(v: CustomerView): DetailLine[] {
  const s = v.status;
  const c = v.company;
  const owner = ownerOf(v);
  return [
    { label: "state", text: `${s.state} — ${s.reason}${s.location ? ` at ${s.location}` : ""} (since ${shortTime(s.since)})`, color: STATE_COLOR[s.state] },
    { label: "message", text: s.message },
    ...(owner ? [{ label: "owner", text: owner }] : []),
    { label: "revision", text: `applied ${shortRevision(v.appliedRevision)}, attempted ${shortRevision(v.attemptedRevision)}` },
    {
      label: "company",
      text: c ? `${c.identifier}: ${c.state}${c.name ? ` (${c.name}, #${c.id})` : ""}` : "not observed yet",
      color: c && c.state !== "active" ? "yellow" : undefined,
    },
    ...v.agreements.map((a) => ({
      label: "agreement",
      text: `${a.product}: ${a.state === "resolved" ? a.message : `${a.state} — ${a.message}`}`,
      color: a.state === "resolved" ? undefined : "yellow",
    })),
    ...(v.nextDue.length
      ? v.nextDue.map((n) => ({
          label: "next due",
          text: `${reportLabel(n.report)} ${n.periodKey} ${n.overdue ? "overdue since" : "due"} ${shortTime(n.due)}`,
          color: n.overdue ? "red" : undefined,
        }))
      : [{ label: "next due", text: "nothing scheduled" }]),
    {
      label: "last send",
      text: v.lastSend
        ? `${reportLabel(v.lastSend.report)} ${v.lastSend.periodKey} at ${shortTime(v.lastSend.at)}${v.lastSend.ticketId ? `, ticket #${v.lastSend.ticketId}` : ""} (${v.lastSend.key})`
        : "none",
    },
    { label: "last error", text: v.lastError ? `${shortTime(v.lastError.at)} ${v.lastError.message}` : "none", color: v.lastError ? "red" : undefined },
    ...v.unfinished.map((u) => ({
      label: "unfinished",
      text: `${reportLabel(u.report)} ${u.periodKey} (${u.state}${u.error ? `: ${u.error}` : ""}) — resolved by looking on the next reconcile`,
      color: "yellow",
    })),
    ...v.heldDecreases.map((h) => ({
      label: "held",
      text: `${h.product} ${h.previous ?? "?"} → ${h.quantity ?? "?"} seats (${h.periodKey}): a decrease waiting for a human`,
      color: "yellow",
    })),
    ...v.missed.map((m) => ({ label: "missed", text: `${reportLabel(m.report)} ${m.periodKey}${m.reason ? ` (${m.reason})` : ""}` })),
  ];
}
