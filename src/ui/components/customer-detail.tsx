import { Box, Text } from "ink";
import type { CustomerView } from "../../status/customer-view.ts";
import { STATE_COLOR, ownerOf } from "../customer-rows.ts";
import { reportLabel, shortRevision, shortTime } from "../format.ts";

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
    { label: "company", text: c ? `${c.identifier}: ${c.state}${c.name ? ` (${c.name}, #${c.id})` : ""}` : "not observed yet", color: c && c.state !== "active" ? "yellow" : undefined },
    ...v.agreements.map((a) => ({ label: "agreement", text: `${a.product}: ${a.state === "resolved" ? a.message : `${a.state} — ${a.message}`}`, color: a.state === "resolved" ? undefined : "yellow" })),
    ...(v.nextDue.length
      ? v.nextDue.map((n) => ({ label: "next due", text: `${reportLabel(n.report)} ${n.periodKey} ${n.overdue ? "overdue since" : "due"} ${shortTime(n.due)}`, color: n.overdue ? "red" : undefined }))
      : [{ label: "next due", text: "nothing scheduled" }]),
    { label: "last send", text: v.lastSend ? `${reportLabel(v.lastSend.report)} ${v.lastSend.periodKey} at ${shortTime(v.lastSend.at)}${v.lastSend.ticketId ? `, ticket #${v.lastSend.ticketId}` : ""} (${v.lastSend.key})` : "none" },
    { label: "last error", text: v.lastError ? `${shortTime(v.lastError.at)} ${v.lastError.message}` : "none", color: v.lastError ? "red" : undefined },
    ...v.unfinished.map((u) => ({ label: "unfinished", text: `${reportLabel(u.report)} ${u.periodKey} (${u.state}${u.error ? `: ${u.error}` : ""}) — resolved by looking on the next reconcile`, color: "yellow" })),
    ...v.heldDecreases.map((h) => ({ label: "held", text: `${h.product} ${h.previous ?? "?"} → ${h.quantity ?? "?"} seats (${h.periodKey}): a decrease waiting for a human`, color: "yellow" })),
    ...v.missed.map((m) => ({ label: "missed", text: `${reportLabel(m.report)} ${m.periodKey}${m.reason ? ` (${m.reason})` : ""}` })),
  ];
}

/** Lines the detail takes besides its body: the title. */
export const DETAIL_CHROME_LINES = 1;

/** One customer in full; `scroll` and `rows` window the body like the table. */
export function CustomerDetail({ view, scroll, rows }: { view: CustomerView; scroll: number; rows: number }) {
  const lines = detailLines(view);
  const start = Math.max(0, Math.min(scroll, lines.length - rows));
  const more = lines.length > rows ? ` · lines ${start + 1}–${Math.min(lines.length, start + rows)} of ${lines.length}` : "";
  return (
    <Box flexDirection="column" height={rows + DETAIL_CHROME_LINES}>
      <Text wrap="truncate" bold>
        {view.name} <Text dimColor>({view.file}){more}</Text>
      </Text>
      {lines.slice(start, start + rows).map((l, i) => (
        <Text key={start + i} wrap="truncate">
          {"  "}
          {l.label.padEnd(11)} <Text color={l.color}>{l.text}</Text>
        </Text>
      ))}
    </Box>
  );
}
