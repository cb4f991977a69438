import type { Key } from "ink";
import type { CustomerView } from "../status/customer-view.ts";
import { detailLines } from "./detail-lines.ts";
import type { StatusMessage } from "./components/footer.tsx";

export type Mode =
  | { kind: "list" }
  | { kind: "filter" }
  | { kind: "detail"; name: string; scroll: number }
  | { kind: "confirm"; name: string; reports: (string | undefined)[]; choice: number; back: Mode }
  /** `d`: apply the customer's held decreases, once confirmed. */
  | { kind: "confirm-release"; name: string; back: Mode };

export interface UiState {
  mode: Mode;
  filter: string;
  /** The selected customer: selection follows the name across updates and filters. */
  selectedName?: string;
  /** Where the selection was, for when its name disappears. */
  selectedIndex: number;
  top: number;
  status?: StatusMessage;
}

export const INITIAL_UI: UiState = { mode: { kind: "list" }, filter: "", selectedIndex: 0, top: 0 };

/** What a key asks of the outside world; the component runs it. */
export type KeyEffect =
  | { kind: "reconcile"; customer?: string }
  | { kind: "send"; customer: string; report?: string }
  | { kind: "release"; customer: string }
  | { kind: "quit" };

export interface KeyContext {
  /** The customers after the filter of the state the key applies to. */
  visible: readonly CustomerView[];
  indexOf: ReadonlyMap<string, number>;
  byName: ReadonlyMap<string, CustomerView>;
  tableRows: number;
  detailRows: number;
}

/** First visible row so that `selected` is on screen, moving the window as little as possible. */
export function windowStart(top: number, selected: number, rows: number, length: number): number {
  let start = Math.min(top, Math.max(0, length - rows));
  if (selected >= 0 && selected < start) start = selected;
  if (selected >= start + rows) start = selected - rows + 1;
  return Math.max(0, start);
}

/** The selected row (-1 when none) and the first row on screen. */
export function selection(s: UiState, ctx: Pick<KeyContext, "visible" | "indexOf" | "tableRows">): { selected: number; start: number } {
  const found = s.selectedName === undefined ? undefined : ctx.indexOf.get(s.selectedName);
  const selected = ctx.visible.length === 0 ? -1 : (found ?? Math.min(s.selectedIndex, ctx.visible.length - 1));
  return { selected, start: windowStart(s.top, selected, ctx.tableRows, ctx.visible.length) };
}

/** Earliest due report first, then every report at once. */
function sendChoices(v: CustomerView | undefined): (string | undefined)[] {
  const reports = [...(v?.nextDue ?? [])].sort((a, b) => a.due.localeCompare(b.due)).map((n) => n.report);
  return [...new Set(reports), undefined];
}

type Result = { state: UiState; effect?: KeyEffect };

function onList(s: UiState, input: string, key: Key, ctx: KeyContext): Result {
  const { selected, start } = selection(s, ctx);
  const current = selected >= 0 ? ctx.visible[selected] : undefined;
  const move = (to: number): Result => {
    if (ctx.visible.length === 0) return { state: s };
    const index = Math.max(0, Math.min(ctx.visible.length - 1, to));
    return { state: { ...s, selectedName: ctx.visible[index].name, selectedIndex: index, top: windowStart(start, index, ctx.tableRows, ctx.visible.length) } };
  };
  if (key.upArrow || input === "k") return move(selected - 1);
  if (key.downArrow || input === "j") return move(selected + 1);
  if (key.pageUp) return move(selected - ctx.tableRows);
  if (key.pageDown) return move(selected + ctx.tableRows);
  if (key.home || input === "g") return move(0);
  if (key.end || input === "G") return move(ctx.visible.length - 1);
  if (input === "/") return { state: { ...s, mode: { kind: "filter" } } };
  if (key.escape && s.filter) return { state: withFilter(s, "") };
  if (key.return && current) return { state: { ...s, mode: { kind: "detail", name: current.name, scroll: 0 } } };
  if (input === "r" && current) return { state: s, effect: { kind: "reconcile", customer: current.name } };
  if (input === "R") return { state: s, effect: { kind: "reconcile" } };
  if (input === "s" && current) return { state: confirm(s, current.name, ctx) };
  if (input === "d" && current) return { state: confirmRelease(s, current.name) };
  if (input === "q") return { state: s, effect: { kind: "quit" } };
  return { state: s };
}

const confirmRelease = (s: UiState, name: string): UiState => ({ ...s, mode: { kind: "confirm-release", name, back: s.mode } });

const withFilter = (s: UiState, filter: string): UiState => ({ ...s, filter, selectedIndex: 0, top: 0 });

const confirm = (s: UiState, name: string, ctx: KeyContext): UiState => ({
  ...s,
  mode: { kind: "confirm", name, reports: sendChoices(ctx.byName.get(name)), choice: 0, back: s.mode },
});

function onFilter(s: UiState, input: string, key: Key, ctx: KeyContext): Result {
  if (key.return) return { state: { ...s, mode: { kind: "list" } } };
  if (key.escape) return { state: { ...withFilter(s, ""), mode: { kind: "list" } } };
  if (key.backspace || key.delete) return { state: withFilter(s, s.filter.slice(0, -1)) };
  if (key.upArrow || key.downArrow) return onList(s, "", key, ctx);
  if (key.ctrl || key.meta || key.tab) return { state: s };
  // eslint-disable-next-line no-control-regex
  const text = input.replace(/[\u0000-\u001f\u007f]/g, "");
  return { state: text ? withFilter(s, s.filter + text) : s };
}

function onDetail(s: UiState, input: string, key: Key, m: Extract<Mode, { kind: "detail" }>, ctx: KeyContext): Result {
  const view = ctx.byName.get(m.name);
  const maxScroll = view ? Math.max(0, detailLines(view).length - ctx.detailRows) : 0;
  const scroll = (to: number): Result => ({ state: { ...s, mode: { ...m, scroll: Math.max(0, Math.min(maxScroll, to)) } } });
  if (key.escape || key.backspace || key.leftArrow) return { state: { ...s, mode: { kind: "list" } } };
  if (key.upArrow || input === "k") return scroll(m.scroll - 1);
  if (key.downArrow || input === "j") return scroll(m.scroll + 1);
  if (key.pageUp) return scroll(m.scroll - ctx.detailRows);
  if (key.pageDown) return scroll(m.scroll + ctx.detailRows);
  if (input === "r") return { state: s, effect: { kind: "reconcile", customer: m.name } };
  if (input === "R") return { state: s, effect: { kind: "reconcile" } };
  if (input === "s") return { state: confirm(s, m.name, ctx) };
  if (input === "d") return { state: confirmRelease(s, m.name) };
  if (input === "q") return { state: s, effect: { kind: "quit" } };
  return { state: s };
}

function onConfirm(s: UiState, input: string, key: Key, m: Extract<Mode, { kind: "confirm" }>): Result {
  if (key.tab) return { state: { ...s, mode: { ...m, choice: (m.choice + 1) % m.reports.length } } };
  const back = { ...s, mode: m.back };
  if (input === "y" || input === "Y") return { state: back, effect: { kind: "send", customer: m.name, report: m.reports[m.choice] } };
  return { state: { ...back, status: { text: `send for ${m.name} cancelled`, tone: "info" } } };
}

function onConfirmRelease(s: UiState, input: string, m: Extract<Mode, { kind: "confirm-release" }>): Result {
  const back = { ...s, mode: m.back };
  if (input === "y" || input === "Y") return { state: back, effect: { kind: "release", customer: m.name } };
  return { state: { ...back, status: { text: `release for ${m.name} cancelled`, tone: "info" } } };
}

/** The next UI state for a key, and what to do outside (pure: the component runs the effect). */
export function handleKey(s: UiState, input: string, key: Key, ctx: KeyContext): Result {
  const m = s.mode;
  if (m.kind === "list") return onList(s, input, key, ctx);
  if (m.kind === "filter") return onFilter(s, input, key, ctx);
  if (m.kind === "detail") return onDetail(s, input, key, m, ctx);
  if (m.kind === "confirm-release") return onConfirmRelease(s, input, m);
  return onConfirm(s, input, key, m);
}
