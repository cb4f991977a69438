import { Box, Text } from "ink";
import { memo } from "react";
import type { CustomerView } from "../../status/customer-view.ts";
import { STATE_COLOR, customerRow } from "../customer-rows.ts";
import { fit } from "../format.ts";
import { Tone } from "./tone.tsx";

/** Lines the table takes besides its rows: a title and the column heads. */
export const TABLE_CHROME_LINES = 2;

/** Column widths; 0 hides a column (COMPANY, then LAST SEND, give way on narrow terminals). */
export interface Columns {
  name: number;
  state: number;
  company: number;
  nextDue: number;
  lastSend: number;
  problem: number;
}

const clamp = (n: number, min: number, max: number) => Math.max(min, Math.min(max, n));

/** LAST ERROR gets at least this much, or a column makes way for it. */
const PROBLEM_MIN = 20;

interface Layout {
  company: boolean;
  lastSend: boolean;
  /** How far a long customer name may be elided (with `…`). */
  nameMin: number;
}

/**
 * From the widest to the narrowest; the first that fits wins: every column, names and company
 * identifiers elided if need be; then without COMPANY (the detail view has it); then without LAST
 * SEND too. States and dates are never cut: a cut date reads as a wrong one.
 */
const LAYOUTS: readonly Layout[] = [
  { company: true, lastSend: true, nameMin: 16 },
  { company: false, lastSend: true, nameMin: 16 },
  { company: false, lastSend: false, nameMin: 12 },
];
const COMPANY_MIN = 8;

type Wanted = Omit<Columns, "problem">;

/** The columns' minimum widths in a layout, and what is left for LAST ERROR at `width` (negative: it does not fit). */
function measure(layout: Layout, want: Wanted, width: number) {
  const name = Math.min(want.name, layout.nameMin);
  const company = layout.company ? Math.min(want.company, COMPANY_MIN) : 0;
  // the selection mark, then each shown column and the space after it
  const used = 2 + name + 1 + want.state + 1 + (layout.company ? company + 1 : 0) + want.nextDue + 1 + (layout.lastSend ? want.lastSend + 1 : 0);
  return { name, company, spare: width - used - PROBLEM_MIN };
}

/** Widths from the whole (filtered) list, not the window, so columns do not jump while scrolling. */
export function columnsFor(width: number, customers: readonly CustomerView[]): Columns {
  let name = 0;
  let company = 0;
  let nextDue = 0;
  let lastSend = 0;
  for (const c of customers) {
    name = Math.max(name, c.name.length);
    company = Math.max(company, (c.company?.identifier.length ?? 1) + (c.company?.state === "not-found" ? 1 : 0));
    const r = customerRow(c);
    nextDue = Math.max(nextDue, r.nextDue.length + (r.overdue ? 2 : 0));
    lastSend = Math.max(lastSend, r.lastSend.length);
  }
  const want: Wanted = { name: clamp(name, 8, 24), state: 9, company: clamp(company, 7, 14), nextDue: clamp(nextDue, 8, 22), lastSend: clamp(lastSend, 9, 15) };
  const layout = LAYOUTS.find((l) => measure(l, want, width).spare >= 0) ?? LAYOUTS[LAYOUTS.length - 1];
  const min = measure(layout, want, width);
  // what is left goes to the elided name, then the company, then LAST ERROR
  let spare = Math.max(0, min.spare);
  const nameWidth = min.name + Math.min(spare, want.name - min.name);
  spare -= nameWidth - min.name;
  const companyWidth = layout.company ? min.company + Math.min(spare, want.company - min.company) : 0;
  spare -= companyWidth - min.company;
  return { ...want, name: nameWidth, company: companyWidth, lastSend: layout.lastSend ? want.lastSend : 0, problem: PROBLEM_MIN + spare };
}

/** `text` fitted to a shown column and its separating space; nothing for a hidden one. */
const cell = (text: string, width: number) => (width > 0 ? `${fit(text, width)} ` : "");

const Row = memo(function Row({ view, selected, cols }: { view: CustomerView; selected: boolean; cols: Columns }) {
  const r = customerRow(view);
  return (
    <Text wrap="truncate" inverse={selected}>
      {selected ? "› " : "  "}
      {fit(r.name, cols.name)} <Tone color={STATE_COLOR[r.state]}>{fit(r.state, cols.state)}</Tone> {cell(r.company, cols.company)}
      <Tone color={r.overdue ? "red" : undefined}>{fit(r.overdue ? `${r.nextDue} !` : r.nextDue, cols.nextDue)}</Tone> {cell(r.lastSend, cols.lastSend)}
      <Tone color={r.state === "invalid" ? "magenta" : "red"}>{fit(r.problem, cols.problem).trimEnd()}</Tone>
    </Text>
  );
});

export interface CustomerTableProps {
  /** The rows on screen only: props stay small whatever the number of customers. */
  window: readonly CustomerView[];
  /** Index (in the filtered list) of the first row of `window`. */
  start: number;
  selected: number;
  rows: number;
  matching: number;
  total: number;
  filter: string;
  cols: Columns;
}

/** The customer list, windowed: it renders `rows` rows whatever the number of customers. */
export function CustomerTable({ window, start, selected, rows, matching, total, filter, cols }: CustomerTableProps) {
  const position = matching ? `${selected + 1} of ${matching}` : "none";
  return (
    <Box flexDirection="column" height={rows + TABLE_CHROME_LINES}>
      <Text wrap="truncate" dimColor>
        {filter ? `filter "${filter}": ${matching} of ${total} customers · ${position}` : `${total} customers · ${position}`}
      </Text>
      <Text wrap="truncate" bold>
        {"  "}
        {fit("CUSTOMER", cols.name)} {fit("STATE", cols.state)} {cell("COMPANY", cols.company)}
        {fit("NEXT DUE", cols.nextDue)} {cell("LAST SEND", cols.lastSend)}
        LAST ERROR
      </Text>
      {window.map((v, i) => (
        <Row key={v.name} view={v} selected={start + i === selected} cols={cols} />
      ))}
    </Box>
  );
}
