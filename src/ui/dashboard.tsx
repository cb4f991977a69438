import { Box, useInput, type Key } from "ink";
import { useCallback, useMemo, useRef, useState, useSyncExternalStore } from "react";
import type { DaemonSnapshot } from "../daemon/snapshot.ts";
import type { CustomerView } from "../status/customer-view.ts";
import { CustomerDetail, DETAIL_CHROME_LINES } from "./components/customer-detail.tsx";
import { CustomerTable, TABLE_CHROME_LINES, columnsFor } from "./components/customer-table.tsx";
import { Footer, fitKeys, footerLines } from "./components/footer.tsx";
import { HEADER_LINES, Header, type HeaderInfo } from "./components/header.tsx";
import { filterCustomers } from "./customer-rows.ts";
import { INITIAL_UI, handleKey, selection, type KeyContext, type KeyEffect, type UiState } from "./dashboard-keys.ts";
import type { NoticeStore } from "./notice-store.ts";
import type { StatusStore } from "./status-store.ts";
import { useTerminalSize } from "./use-terminal-size.ts";
import { ColorContext, Tone } from "./components/tone.tsx";

/** What the keys do; each resolves to the line the status bar shows, or rejects with the reason. */
export interface DashboardActions {
  /** Reconciles one customer now, or every customer when `customer` is undefined. */
  reconcile(customer?: string): Promise<string>;
  /** Sends a report of a customer now; every report of it when `report` is undefined. */
  sendNow(customer: string, report?: string): Promise<string>;
  /** Applies the customer's held decreases (`cwsync release`); rejects when the daemon could not. */
  release(customer: string): Promise<string>;
  quit(): void;
}

export interface DashboardProps {
  store: StatusStore;
  actions: DashboardActions;
  /** Rows the frame may take; the terminal's rows minus one by default (a full-height frame makes Ink clear the screen). */
  height?: number;
  /** Columns the frame may take; the terminal's by default. */
  width?: number;
  /** A problem with the link to the daemon, shown on the status line. */
  notice?: NoticeStore;
  /** False under NO_COLOR. */
  color?: boolean;
}

const EMPTY: readonly CustomerView[] = [];
const NO_NOTICE = () => undefined;
const NO_SUBSCRIBE = () => () => undefined;
// the full help, then a shorter one for 80 columns; `q quit` stays last (fitKeys puts it first when nothing fits)
const LIST_KEYS = [
  ["↑↓ jk PgUp PgDn move", "/ filter", "Enter detail", "r reconcile", "R reconcile all", "s send now", "d release decrease", "q quit"],
  ["↑↓ move", "/ filter", "Enter detail", "r reconcile", "R all", "s send", "d release", "q quit"],
  ["↑↓ move", "/ filter", "Enter detail", "r/R reconcile", "s send", "d release", "q quit"],
] as const;
const DETAIL_KEYS = [
  ["↑↓ scroll", "Esc back", "r reconcile", "R reconcile all", "s send now", "d release decrease", "q quit"],
  ["↑↓ scroll", "Esc back", "r reconcile", "R all", "s send", "d release", "q quit"],
] as const;

type Lists = Pick<KeyContext, "visible" | "indexOf" | "byName">;

/** The filtered list and its indexes, recomputed only when the snapshot or the filter changes (O(n) then, O(1) per key). */
function listCache(): (snapshot: DaemonSnapshot | undefined, filter: string) => Lists {
  let last: { customers: readonly CustomerView[]; filter: string; lists: Lists } | undefined;
  let byName: { customers: readonly CustomerView[]; map: Map<string, CustomerView> } | undefined;
  return (snapshot, filter) => {
    const customers = snapshot?.customers ?? EMPTY;
    if (last?.customers === customers && last.filter === filter) return last.lists;
    if (byName?.customers !== customers) byName = { customers, map: new Map(customers.map((c) => [c.name, c])) };
    const visible = filterCustomers(customers, filter);
    last = { customers, filter, lists: { visible, indexOf: new Map(visible.map((c, i) => [c.name, i])), byName: byName.map } };
    return last.lists;
  };
}

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** `label: result`, or, when the result has a line per send (every report at once), the label and each line under it. */
function resultText(label: string, result: string): string {
  const lines = result.split("\n").filter((l) => l.trim());
  return lines.length > 1 ? [`${label}:`, ...lines.map((l) => `  ${l}`)].join("\n") : `${label}: ${result}`;
}

/** The live view of a daemon: header, windowed customer table or one customer's detail, status line. */
export function Dashboard({ store, actions, height, width, notice, color = true }: DashboardProps) {
  const snapshot = useSyncExternalStore(store.subscribe, store.getSnapshot);
  const noticeText = useSyncExternalStore(notice?.subscribe ?? NO_SUBSCRIBE, notice?.getSnapshot ?? NO_NOTICE);
  const term = useTerminalSize();
  const columns = width ?? term.columns;
  const frameRows = height ?? Math.max(10, term.rows - 1);
  const lists = useRef(listCache()).current;

  // Keys can arrive faster than React renders: each one applies to the latest state, kept in a ref.
  const [ui, setUi] = useState<UiState>(INITIAL_UI);
  // a result with a line per send takes more footer lines while it shows; the table gives them up
  const footer = footerLines(ui.status);
  const tableRows = Math.max(1, frameRows - HEADER_LINES - TABLE_CHROME_LINES - footer);
  const detailRows = Math.max(1, frameRows - HEADER_LINES - DETAIL_CHROME_LINES - footer);
  const latest = useRef({ ui, tableRows, detailRows, actions });
  latest.current = { ...latest.current, tableRows, detailRows, actions };
  const update = useCallback((change: (s: UiState) => UiState) => {
    latest.current.ui = change(latest.current.ui);
    setUi(latest.current.ui);
  }, []);

  const run = useCallback(
    (effect: KeyEffect) => {
      const { actions } = latest.current;
      if (effect.kind === "quit") return actions.quit();
      const label =
        effect.kind === "reconcile" ? (effect.customer ? `reconcile ${effect.customer}` : "reconcile all")
          : effect.kind === "release" ? `release held decreases of ${effect.customer}`
            : `send ${effect.report ?? "all reports"} for ${effect.customer}`;
      update((s) => ({ ...s, status: { text: `${label}…`, tone: "pending" } }));
      const asked = effect.kind === "reconcile" ? actions.reconcile(effect.customer)
        : effect.kind === "release" ? actions.release(effect.customer)
          : actions.sendNow(effect.customer, effect.report);
      asked.then(
        (result) => update((s) => ({ ...s, status: { text: resultText(label, result), tone: "ok" } })),
        (e: unknown) => {
          const why = errorText(e);
          // a send of every report that failed somewhere says, per report, what went out and what did not
          update((s) => ({ ...s, status: { text: why.includes("\n") ? resultText(label, why) : `${label} failed: ${why}`, tone: "error" } }));
        },
      );
    },
    [update],
  );

  useInput(
    useCallback(
      (input: string, key: Key) => {
        const { ui, tableRows, detailRows } = latest.current;
        const result = handleKey(ui, input, key, { ...lists(store.getSnapshot(), ui.filter), tableRows, detailRows });
        if (result.state !== ui) update(() => result.state);
        if (result.effect) run(result.effect);
      },
      [lists, store, update, run],
    ),
  );

  const { visible, byName, indexOf } = lists(snapshot, ui.filter);
  const { selected, start } = selection(ui, { visible, indexOf, tableRows });
  const header = useMemo((): HeaderInfo | undefined => {
    if (!snapshot) return undefined;
    const { customers, ...info } = snapshot;
    return { ...info, total: customers.length };
  }, [snapshot]);
  const cols = useMemo(() => columnsFor(columns, visible), [columns, visible]);
  const mode = ui.mode;
  const detailMode = mode.kind === "detail" ? mode : (mode.kind === "confirm" || mode.kind === "confirm-release") && mode.back.kind === "detail" ? mode.back : undefined;
  const detailView = detailMode ? byName.get(detailMode.name) : undefined;
  const prompt =
    mode.kind === "confirm"
      ? `Send ${mode.reports[mode.choice] ?? "all reports"} for ${mode.name} now? y/N${mode.reports.length > 1 ? " (Tab: another report)" : ""}`
      : mode.kind === "confirm-release"
        ? `Release the held decreases of ${mode.name} now (set the lower seat counts)? y/N`
      : mode.kind === "filter"
        ? `/${ui.filter}▏ (Enter keeps the filter, Esc clears it)`
        : undefined;

  return (
    <ColorContext value={color}>
      <Box flexDirection="column" width={columns}>
        <Header snapshot={header} />
        {detailMode ? (
          detailView ? (
            <CustomerDetail view={detailView} scroll={detailMode.scroll} rows={detailRows} />
          ) : (
            <Box height={detailRows + DETAIL_CHROME_LINES}>
              <Tone color="yellow">{detailMode.name} is no longer in the daemon's status (Esc: back)</Tone>
            </Box>
          )
        ) : (
          <CustomerTable
            window={visible.slice(start, start + tableRows)}
            start={start}
            selected={selected}
            rows={tableRows}
            matching={visible.length}
            total={snapshot?.customers.length ?? 0}
            filter={ui.filter}
            cols={cols}
          />
        )}
        <Footer status={ui.status} notice={noticeText} prompt={prompt} keys={fitKeys(detailMode ? DETAIL_KEYS : LIST_KEYS, columns)} />
      </Box>
    </ColorContext>
  );
}
