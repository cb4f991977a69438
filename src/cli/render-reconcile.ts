import type { CycleReport } from "../apply/reconcile-cycle.ts";
import type { Outcome } from "../apply/apply-actions.ts";
import type { Action, BillingSend } from "../core/actions.ts";
import { cycleJsonLazy, type CycleView } from "../app/cycle-json.ts";
import { escapeControls } from "./text-escape.ts";

const short = (rev: string) => (/^[0-9a-f]{40}$/.test(rev) ? rev.slice(0, 12) : rev);

function describeLines(a: BillingSend, o?: Outcome): string {
  const lines = o?.lines ?? a.lines;
  return lines.map((l) => {
    const change = l.previous === undefined ? `${l.quantity ?? "?"}` : `${l.previous} → ${l.quantity}`;
    return `${l.product} ${l.op === "refused" ? "not billed" : l.op === "held" ? `${change} held` : l.op === "unchanged" ? `${l.quantity} unchanged` : change}`;
  }).join(", ");
}

function describeAction(a: Action, o: Outcome | undefined, dryRun: boolean): string {
  const head = `${a.report} ${a.periodKey}`;
  if (a.kind === "wait") return `${head}: waits — ${a.message}`;
  if (a.kind === "record") return `${head}: recorded as ${a.state} (${a.reason})`;
  const verb = dryRun ? (a.resume ? "would resume (looking first)" : "would send") : o?.result === "done" ? `sent${o.ticketId ? `, ticket #${o.ticketId}` : ""}` : `${o?.result ?? "not attempted"}${o?.message ? ` — ${o.message}` : ""}`;
  if (a.kind === "report") return `${head}: ${verb} (${a.total} detections${a.incomplete ? ", data incomplete" : ""})`;
  return `${head}: ${verb} (${describeLines(a, o)})`;
}

/** Consecutive records or waits of one report with one reason read as one line: "25 periods 2026-12-01 … 2026-12-25". */
function collapse(actions: readonly Action[], outcomes: ReadonlyMap<string, Outcome>, dryRun: boolean): string[] {
  const out: string[] = [];
  for (let i = 0; i < actions.length; ) {
    const a = actions[i];
    let j = i + 1;
    const sig = (x: Action) => (x.kind === "record" ? `record ${x.report} ${x.state} ${x.reason}` : x.kind === "wait" ? `wait ${x.report} ${x.reason}` : undefined);
    while (j < actions.length && sig(a) !== undefined && sig(actions[j]) === sig(a)) j++;
    if (j - i > 2 && (a.kind === "record" || a.kind === "wait")) {
      const last = actions[j - 1];
      const what = a.kind === "record" ? `recorded as ${a.state} (${a.reason})` : `wait — ${a.reason}`;
      out.push(`${a.report} ${a.periodKey} … ${last.periodKey} (${j - i} periods): ${what}`);
    } else for (let k = i; k < j; k++) out.push(describeAction(actions[k], outcomes.get(actions[k].key), dryRun));
    i = j;
  }
  return out;
}

/** Text for people: one block per customer with something to say, then the totals. */
export function renderCycleText(r: CycleView): string {
  const out: string[] = [];
  out.push(`${r.dryRun ? "Dry run of reconcile" : "Reconciled"} revision ${short(r.revision)} at ${r.now.toISOString()}`);
  if (r.desired.globalProblem) out.push(`  _global.yaml is invalid (${r.desired.globalProblem.location}): every customer keeps its last valid config`);
  if (r.desired.massRemoval?.held) {
    const m = r.desired.massRemoval;
    out.push(`  held: this revision removes ${m.removed.length} of ${m.of} customers (${m.removed.join(", ")}); they keep running until you pass --allow-mass-removal`);
  }
  for (const u of r.unclaimedLmp) {
    out.push(`  the LMP report for ${u.month} has customers no customer file names: ${u.customers.join(", ")} (add a file, or set trendMicro.customer)`);
  }
  const outcomes = new Map(r.outcomes.map((o) => [o.key, o]));
  const byCustomer = new Map<string, Action[]>();
  for (const a of r.plan.actions) byCustomer.set(a.customer, [...(byCustomer.get(a.customer) ?? []), a]);
  const width = Math.max(8, ...[...r.statuses.keys()].map((n) => n.length));
  for (const [name, s] of r.statuses) {
    out.push(`  ${name.padEnd(width)}  ${s.state.padEnd(9)}  ${s.reason}${s.location ? ` (${s.location})` : ""}${s.reason === "ok" ? "" : ` — ${s.message}`}`);
    for (const line of collapse(byCustomer.get(name) ?? [], outcomes, r.dryRun)) out.push(`  ${" ".repeat(width)}    ${line}`);
  }
  const counts = new Map<string, number>();
  for (const s of r.statuses.values()) counts.set(s.state, (counts.get(s.state) ?? 0) + 1);
  const sent = r.outcomes.filter((o) => o.result === "done").length;
  const writes = r.plan.actions.filter((a) => a.kind !== "wait").length;
  out.push(
    `${r.statuses.size} customers: ${[...counts].map(([k, n]) => `${n} ${k}`).join(", ") || "none"}; ` +
      (r.dryRun ? `${writes} send(s) or record(s) would be written` : `${sent} sent, ${r.outcomes.filter((o) => o.result === "failed").length} failed, ${r.outcomes.filter((o) => o.result === "unknown").length} unresolved`) +
      (writes === 0 ? " — nothing to do" : ""),
  );
  // customer names, file locations and remote messages: a line break or a bidi control in one is shown escaped
  return out.map(escapeControls).join("\n") + "\n";
}

/**
 * `reconcile --format json`'s text, `JSON.stringify(cycleJson(r), null, 2)` and a newline, in
 * pieces, one array element at a time, so that the whole text and object never exist at once (at
 * 5,000 customers they cost ~100 MiB of peak memory: issue 16).
 */
export function* cycleJsonChunks(r: CycleView): Generator<string> {
  const entries = Object.entries(cycleJsonLazy(r)).filter(([, v]) => v !== undefined);
  yield "{";
  let first = true;
  for (const [key, value] of entries) {
    yield `${first ? "" : ","}\n  ${JSON.stringify(key)}: `;
    first = false;
    if (typeof value === "object" && value !== null && Symbol.iterator in value) yield* arrayChunks(value as Iterable<unknown>);
    else yield indent(JSON.stringify(value, null, 2), 1);
  }
  yield entries.length ? "\n}\n" : "}\n";
}

/**
 * Writes `reconcile --format json`'s text a piece at a time, each once `drained` says the last one
 * went out: pieces written faster than a pipe is read would otherwise wait in memory, at 5,000
 * billed customers ~35 MB of text and a copy of it (issue 16).
 */
export async function writeCycleJson(r: CycleView, write: (text: string) => void, drained?: () => Promise<void>): Promise<void> {
  for (const piece of cycleJsonChunks(r)) {
    write(piece);
    await drained?.();
  }
}

/** An array one level in, as JSON.stringify(…, null, 2) writes it: `[]` when empty. */
function* arrayChunks(items: Iterable<unknown>): Generator<string> {
  let n = 0;
  for (const item of items) {
    // an element JSON cannot show (undefined, a function) is null in an array, as JSON.stringify writes it
    yield `${n++ === 0 ? "[" : ","}\n    ${indent(JSON.stringify(item, null, 2) ?? "null", 2)}`;
  }
  yield n === 0 ? "[]" : "\n  ]";
}

const indent = (text: string, depth: number) => text.replace(/\n/g, "\n" + "  ".repeat(depth));

/** The exit code of a cycle: 1 when a customer is failing (`--strict`: also invalid or degraded). */
export function cycleExitCode(report: Pick<CycleReport, "statuses">, strict: boolean): number {
  const bad = new Set(strict ? ["failing", "invalid", "degraded"] : ["failing"]);
  return [...report.statuses.values()].some((s) => bad.has(s.state)) ? 1 : 0;
}
