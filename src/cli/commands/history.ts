import { OperationError } from "../../errors.ts";
import type { Deps } from "../../app/deps.ts";
import { existsSync } from "node:fs";
import { escapeControls } from "../text-escape.ts";

export interface HistoryOptions {
  customer: string;
  format: "text" | "json";
  limit: number;
}

/** `cwsync history`: a customer's ledger (what was sent, missed, skipped) and journal, newest first. */
export async function historyCommand(opts: HistoryOptions, io: Deps): Promise<number> {
  if (!existsSync(io.settings.stateDir)) throw new OperationError(`no state in ${io.settings.stateDir} yet: run cwsync reconcile first (or set CWSYNC_STATE_DIR)`);
  const { store, dir } = io.openState();
  try {
    if (!store.customer(opts.customer)) throw new OperationError(`no customer \`${opts.customer}\` in ${dir}: it has not been reconciled yet`);
    const sends = store.ledgerOf(opts.customer, opts.limit);
    const journal = store.journal({ customer: opts.customer, limit: opts.limit });
    if (opts.format === "json") {
      io.stdout(JSON.stringify({ customer: opts.customer, sends, journal }, null, 2) + "\n");
      return 0;
    }
    const out = [`${opts.customer}: sends`];
    for (const e of sends) {
      const ticket = (e.result as { ticketId?: number } | undefined)?.ticketId;
      const reason = (e.result as { reason?: string } | undefined)?.reason;
      out.push(`  ${e.dueAt.slice(0, 16)}Z  ${e.report.padEnd(19)} ${e.periodKey.padEnd(18)} ${e.state.padEnd(7)} ${e.trigger === "send-now" ? "send-now " : ""}${ticket ? `ticket #${ticket} ` : ""}${reason ?? e.error ?? ""}${e.attempts > 1 ? ` (${e.attempts} attempts)` : ""}  ${e.key}`);
    }
    if (sends.length === 0) out.push("  none yet");
    out.push(`${opts.customer}: journal`);
    for (const j of journal) {
      const d = j.data as Record<string, unknown> | undefined;
      const extra = d ? Object.entries(d).filter(([k, v]) => v !== undefined && k !== "lines").map(([k, v]) => `${k}=${typeof v === "object" ? JSON.stringify(v) : String(v)}`).join(" ") : "";
      out.push(`  ${j.at.slice(0, 19)}Z  ${j.kind.padEnd(6)} ${j.message}${extra ? `  ${extra}` : ""}`);
    }
    io.stdout(out.map(escapeControls).join("\n") + "\n");
    return 0;
  } finally {
    store.close();
  }
}
