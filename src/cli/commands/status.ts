import { stateMeta } from "../../ports/state-meta.ts";
import type { StateStore } from "../../ports/state-store.ts";
import { OperationError } from "../../errors.ts";
import { customerView, type CustomerView } from "../../status/customer-view.ts";
import type { Deps } from "../../app/deps.ts";
import { existsSync } from "node:fs";
import { escapeControls } from "../text-escape.ts";

export interface StatusOptions {
  customer?: string;
  format: "text" | "json";
  at?: Date;
}

const when = (iso: string) => iso.slice(0, 16).replace("T", " ") + "Z";

function detail(v: CustomerView): string {
  const s = v.status;
  const out = [
    `${v.name} (${v.file})`,
    `  state       ${s.state} — ${s.reason}${s.location ? ` at ${s.location}` : ""} (since ${when(s.since)})`,
    `  message     ${s.message}`,
    `  revision    applied ${v.appliedRevision?.slice(0, 12) ?? "none"}, attempted ${v.attemptedRevision?.slice(0, 12) ?? "none"}`,
    `  company     ${v.company ? `${v.company.identifier}: ${v.company.state}${v.company.name ? ` (${v.company.name}, #${v.company.id})` : ""}` : "not observed yet"}`,
    ...v.agreements.map((a) => `  agreement   ${a.product}: ${a.state === "resolved" ? a.message : `${a.state} — ${a.message}`}`),
    ...v.nextDue.map((n) => `  next        ${n.report} ${n.periodKey} ${n.overdue ? "overdue since" : "due"} ${when(n.due)}`),
    `  last send   ${v.lastSend ? `${v.lastSend.report} ${v.lastSend.periodKey} at ${when(v.lastSend.at)}${v.lastSend.ticketId ? `, ticket #${v.lastSend.ticketId}` : ""}` : "none"}`,
    `  last error  ${v.lastError ? `${when(v.lastError.at)} ${v.lastError.message}` : "none"}`,
    ...v.unfinished.map((u) => `  unfinished  ${u.report} ${u.periodKey} (${u.state}${u.error ? `: ${u.error}` : ""}) — resolved by looking on the next reconcile`),
    ...v.heldDecreases.map((h) => `  held        ${h.product} ${h.previous} → ${h.quantity} seats (${h.periodKey}): a decrease waiting for a human (decreases: hold)`),
    ...v.missed.map((m) => `  missed      ${m.report} ${m.periodKey}${m.reason ? ` (${m.reason})` : ""}`),
  ];
  return out.map(escapeControls).join("\n") + "\n";
}

/** How far back `status` looks for the last rewind: the journal has no index by kind, and this is cheap. */
const REWIND_LOOKBACK = 5000;

interface Rewound {
  from: string;
  to: string;
  at: string;
}

/** The last "history rewound" the daemon journaled (a force-push it applied), among the recent entries. */
function lastRewind(store: StateStore): Rewound | undefined {
  const e = store.journal({ limit: REWIND_LOOKBACK }).find((j) => j.kind === "revision" && j.message === "history rewound");
  const d = e?.data as Partial<Rewound> | undefined;
  return e && typeof d?.from === "string" && typeof d.to === "string" ? { from: d.from, to: d.to, at: e.at } : undefined;
}

const rewindLine = (r: Rewound) => escapeControls(`history rewound from ${r.from.slice(0, 12)} to ${r.to.slice(0, 12)} at ${when(r.at)}`);

function table(views: readonly CustomerView[], revision: string | undefined, rewound: Rewound | undefined): string {
  const rows = views.map((v) => {
    const next = [...v.nextDue].sort((a, b) => a.due.localeCompare(b.due))[0];
    return [
      v.name, v.status.state, v.status.reason + (v.status.location ? ` ${v.status.location}` : ""), v.company?.identifier ?? "-",
      next ? `${next.report} ${when(next.due)}${next.overdue ? " (overdue)" : ""}` : "-",
      v.lastSend ? `${v.lastSend.report} ${v.lastSend.periodKey}` : "-",
    ].map(escapeControls);
  });
  const head = ["CUSTOMER", "STATE", "REASON", "COMPANY", "NEXT DUE", "LAST SEND"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmt = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join("  ");
  return [`revision ${revision?.slice(0, 12) ?? "none applied yet"}`, ...(rewound ? [rewindLine(rewound)] : []), fmt(head), ...rows.map(fmt)].join("\n") + "\n";
}

/** `cwsync status`: what the state directory knows, without calling anything. */
export async function statusCommand(opts: StatusOptions, io: Deps): Promise<number> {
  if (!existsSync(io.settings.stateDir)) throw new OperationError(`no state in ${io.settings.stateDir} yet: run cwsync reconcile first (or set CWSYNC_STATE_DIR)`);
  const { store, dir } = io.openState();
  try {
    const global = stateMeta(store).lastGlobal()?.config;
    const now = opts.at ?? new Date(io.clock.now());
    const cursors = store.cursors();
    const records = opts.customer ? [store.customer(opts.customer)].filter((r) => r !== undefined) : store.customers();
    if (opts.customer && records.length === 0) throw new OperationError(`no customer \`${opts.customer}\` in ${dir}: it has not been reconciled yet (run cwsync reconcile)`);
    const views = records.map((r) => customerView(r, global, store, cursors, now));
    const rewound = opts.customer ? undefined : lastRewind(store);
    if (opts.format === "json") io.stdout(JSON.stringify(opts.customer ? views[0] : { revision: stateMeta(store).appliedRevision() ?? null, ...(rewound ? { rewound } : {}), customers: views }, null, 2) + "\n");
    else io.stdout(opts.customer ? detail(views[0]) : table(views, stateMeta(store).appliedRevision(), rewound));
    return 0;
  } finally {
    store.close();
  }
}
