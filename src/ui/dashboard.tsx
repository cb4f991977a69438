import { Box, Text, useInput, type Key } from "ink";
import { useCallback, useMemo, useRef, useState, useSyncExternalStore } from "react";
import type { CustomerView } from "../status/customer-view.ts";
import { CustomerDetail, DETAIL_CHROME_LINES, detailLines } from "./components/customer-detail.tsx";
import { CustomerTable, TABLE_CHROME_LINES } from "./components/customer-table.tsx";
import { FOOTER_LINES, Footer, type StatusMessage } from "./components/footer.tsx";
import { HEADER_LINES, Header } from "./components/header.tsx";
import { filterCustomers } from "./customer-rows.ts";
import type { NoticeStore } from "./notice-store.ts";
import type { StatusStore } from "./status-store.ts";
import { useTerminalSize } from "./use-terminal-size.ts";

/** What the keys do; each resolves to the line the status bar shows, or rejects with the reason. */
export interface DashboardActions {
  /** Reconciles one customer now, or every customer when `customer` is undefined. */
  reconcile(customer?: string): Promise<string>;
  /** Sends a report of a customer now; every report of it when `report` is undefined. */
  sendNow(customer: string, report?: string): Promise<string>;
  quit(): void;
}

export interface DashboardProps {
  store: StatusStore;
  actions: DashboardActions;
  /** Rows the frame may take; the terminal's rows minus one by default (a full-height frame makes Ink clear the screen). */
  height?: number;
  /** A problem with the link to the daemon, shown above the keys. */
  notice?: NoticeStore;
}

type Mode =
  | { kind: "list" }
  | { kind: "filter" }
  | { kind: "detail"; name: string; scroll: number }
  | { kind: "confirm"; name: string; reports: (string | undefined)[]; choice: number; back: Mode };

interface Nav {
  /** The selected customer: selection follows the name across updates and filters. */
  name?: string;
  /** Where it was, for when the name disappears. */
  index: number;
  top: number;
}

const EMPTY: readonly CustomerView[] = [];
const NO_NOTICE = () => undefined;
const NO_SUBSCRIBE = () => () => undefined;
const LIST_KEYS = "↑↓ jk PgUp PgDn move · / filter · Enter details · r reconcile · R reconcile all · s send now · q quit";
const DETAIL_KEYS = "↑↓ scroll · Esc back · r reconcile · s send now · q quit";

/** First visible row so that `selected` is on screen, moving the window as little as possible. */
export function windowStart(top: number, selected: number, rows: number, length: number): number {
  let start = Math.min(top, Math.max(0, length - rows));
  if (selected >= 0 && selected < start) start = selected;
  if (selected >= start + rows) start = selected - rows + 1;
  return Math.max(0, start);
}

/** Earliest due report first, then every report at once. */
function sendChoices(v: CustomerView | undefined): (string | undefined)[] {
  const reports = [...(v?.nextDue ?? [])].sort((a, b) => a.due.localeCompare(b.due)).map((n) => n.report);
  return [...new Set(reports), undefined];
}

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** The live view of a daemon: header, windowed customer table or one customer's detail, status line. */
export function Dashboard({ store, actions, height, notice }: DashboardProps) {
  const snapshot = useSyncExternalStore(store.subscribe, store.getSnapshot);
  const noticeText = useSyncExternalStore(notice?.subscribe ?? NO_SUBSCRIBE, notice?.getSnapshot ?? NO_NOTICE);
  const term = useTerminalSize();
  const frameRows = height ?? Math.max(10, term.rows - 1);
  const [filter, setFilter] = useState("");
  const [mode, setMode] = useState<Mode>({ kind: "list" });
  const [nav, setNav] = useState<Nav>({ index: 0, top: 0 });
  const [status, setStatus] = useState<StatusMessage>();

  const customers = snapshot?.customers ?? EMPTY;
  const byName = useMemo(() => new Map(customers.map((c) => [c.name, c])), [customers]);
  const visible = useMemo(() => filterCustomers(customers, filter), [customers, filter]);
  const indexOf = useMemo(() => new Map(visible.map((c, i) => [c.name, i])), [visible]);
  const tableRows = Math.max(1, frameRows - HEADER_LINES - TABLE_CHROME_LINES - FOOTER_LINES);
  const detailRows = Math.max(1, frameRows - HEADER_LINES - DETAIL_CHROME_LINES - FOOTER_LINES);
  const found = nav.name === undefined ? undefined : indexOf.get(nav.name);
  const selected = visible.length === 0 ? -1 : (found ?? Math.min(nav.index, visible.length - 1));
  const start = windowStart(nav.top, selected, tableRows, visible.length);
  const current = selected >= 0 ? visible[selected] : undefined;

  const run = (label: string, action: () => Promise<string>) => {
    setStatus({ text: `${label}…`, tone: "pending" });
    action().then(
      (result) => setStatus({ text: `${label}: ${result}`, tone: "ok" }),
      (e: unknown) => setStatus({ text: `${label} failed: ${errorText(e)}`, tone: "error" }),
    );
  };
  const reconcile = (name?: string) => run(name ? `reconcile ${name}` : "reconcile all", () => actions.reconcile(name));
  const confirmSend = (name: string, back: Mode) => setMode({ kind: "confirm", name, reports: sendChoices(byName.get(name)), choice: 0, back });
  const move = (to: number) => {
    if (visible.length === 0) return;
    const index = Math.max(0, Math.min(visible.length - 1, to));
    setNav({ name: visible[index].name, index, top: windowStart(start, index, tableRows, visible.length) });
  };
  const setFilterKeepingSelection = (next: string) => {
    setFilter(next);
    setNav((n) => ({ ...n, index: 0, top: 0 }));
  };

  const onList = (input: string, key: Key) => {
    if (key.upArrow || input === "k") move(selected - 1);
    else if (key.downArrow || input === "j") move(selected + 1);
    else if (key.pageUp) move(selected - tableRows);
    else if (key.pageDown) move(selected + tableRows);
    else if (key.home || input === "g") move(0);
    else if (key.end || input === "G") move(visible.length - 1);
    else if (input === "/") setMode({ kind: "filter" });
    else if (key.escape && filter) setFilterKeepingSelection("");
    else if (key.return && current) setMode({ kind: "detail", name: current.name, scroll: 0 });
    else if (input === "r" && current) reconcile(current.name);
    else if (input === "R") reconcile(undefined);
    else if (input === "s" && current) confirmSend(current.name, mode);
    else if (input === "q") actions.quit();
  };

  const onFilter = (input: string, key: Key) => {
    if (key.return) setMode({ kind: "list" });
    else if (key.escape) {
      setFilterKeepingSelection("");
      setMode({ kind: "list" });
    } else if (key.backspace || key.delete) setFilterKeepingSelection(filter.slice(0, -1));
    else if (key.upArrow) move(selected - 1);
    else if (key.downArrow) move(selected + 1);
    else if (!key.ctrl && !key.meta && !key.tab && input) {
      // eslint-disable-next-line no-control-regex
      const text = input.replace(/[\u0000-\u001f\u007f]/g, "");
      if (text) setFilterKeepingSelection(filter + text);
    }
  };

  const onDetail = (input: string, key: Key, m: Extract<Mode, { kind: "detail" }>) => {
    const view = byName.get(m.name);
    const maxScroll = view ? Math.max(0, detailLines(view).length - detailRows) : 0;
    const scroll = (to: number) => setMode({ ...m, scroll: Math.max(0, Math.min(maxScroll, to)) });
    if (key.escape || key.backspace || key.leftArrow) setMode({ kind: "list" });
    else if (key.upArrow || input === "k") scroll(m.scroll - 1);
    else if (key.downArrow || input === "j") scroll(m.scroll + 1);
    else if (key.pageUp) scroll(m.scroll - detailRows);
    else if (key.pageDown) scroll(m.scroll + detailRows);
    else if (input === "r") reconcile(m.name);
    else if (input === "R") reconcile(undefined);
    else if (input === "s") confirmSend(m.name, m);
    else if (input === "q") actions.quit();
  };

  const onConfirm = (input: string, key: Key, m: Extract<Mode, { kind: "confirm" }>) => {
    if (key.tab) return setMode({ ...m, choice: (m.choice + 1) % m.reports.length });
    setMode(m.back);
    const report = m.reports[m.choice];
    if (input === "y" || input === "Y") run(`send ${report ?? "all reports"} for ${m.name}`, () => actions.sendNow(m.name, report));
    else setStatus({ text: `send for ${m.name} cancelled`, tone: "info" });
  };

  // Ink keeps the first handler until its effect re-runs; several keys in one chunk must see the latest state.
  const handler = useRef<(input: string, key: Key) => void>(undefined);
  handler.current = (input, key) => {
    if (mode.kind === "list") onList(input, key);
    else if (mode.kind === "filter") onFilter(input, key);
    else if (mode.kind === "detail") onDetail(input, key, mode);
    else onConfirm(input, key, mode);
  };
  useInput(useCallback((input: string, key: Key) => handler.current?.(input, key), []));

  const detailMode = mode.kind === "detail" ? mode : mode.kind === "confirm" && mode.back.kind === "detail" ? mode.back : undefined;
  const detailView = detailMode ? byName.get(detailMode.name) : undefined;
  const prompt =
    mode.kind === "confirm"
      ? `Send ${mode.reports[mode.choice] ?? "all reports"} for ${mode.name} now? y/N${mode.reports.length > 1 ? " (Tab: another report)" : ""}`
      : mode.kind === "filter"
        ? `/${filter}▏ (Enter keeps the filter, Esc clears it)`
        : undefined;

  return (
    <Box flexDirection="column" width={term.columns}>
      <Header snapshot={snapshot} />
      {detailMode ? (
        detailView ? (
          <CustomerDetail view={detailView} scroll={detailMode.scroll} rows={detailRows} />
        ) : (
          <Box height={detailRows + DETAIL_CHROME_LINES}>
            <Text color="yellow">{detailMode.name} is no longer in the daemon's status (Esc: back)</Text>
          </Box>
        )
      ) : (
        <CustomerTable customers={visible} total={customers.length} filter={filter} start={start} rows={tableRows} selected={selected} width={term.columns} />
      )}
      <Footer status={status} notice={noticeText} prompt={prompt} keys={detailMode ? DETAIL_KEYS : LIST_KEYS} />
    </Box>
  );
}
