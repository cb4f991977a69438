import { Box, Text } from "ink";
import { memo } from "react";
import type { CustomerView } from "../../status/customer-view.ts";
import { STATE_COLOR, customerRow } from "../customer-rows.ts";
import { fit } from "../format.ts";
import { Tone } from "./tone.tsx";

/** Lines the table takes besides its rows: a title and the column heads. */
export const TABLE_CHROME_LINES = 2;

export interface Columns {
  name: number;
  state: number;
  company: number;
  nextDue: number;
  lastSend: number;
  problem: number;
}

const clamp = (n: number, min: number, max: number) => Math.max(min, Math.min(max, n));

/** Widths from the whole (filtered) list, not the window, so columns do not jump while scrolling. */
export function columnsFor(width: number, customers: readonly CustomerView[]): Columns {
  let name = 0;
  let company = 0;
  for (const c of customers) {
    name = Math.max(name, c.name.length);
    company = Math.max(company, (c.company?.identifier.length ?? 1) + (c.company?.state === "not-found" ? 1 : 0));
  }
  const fixed = { name: clamp(name, 8, 24), state: 9, company: clamp(company, 7, 14), nextDue: 22, lastSend: 15 };
  const used = 2 + fixed.name + fixed.state + fixed.company + fixed.nextDue + fixed.lastSend + 5;
  return { ...fixed, problem: Math.max(10, width - used) };
}

const Row = memo(function Row({ view, selected, cols }: { view: CustomerView; selected: boolean; cols: Columns }) {
  const r = customerRow(view);
  return (
    <Text wrap="truncate" inverse={selected}>
      {selected ? "› " : "  "}
      {fit(r.name, cols.name)} <Tone color={STATE_COLOR[r.state]}>{fit(r.state, cols.state)}</Tone> {fit(r.company, cols.company)}{" "}
      <Tone color={r.overdue ? "red" : undefined}>{fit(r.overdue ? `${r.nextDue} !` : r.nextDue, cols.nextDue)}</Tone> {fit(r.lastSend, cols.lastSend)}{" "}
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
        {fit("CUSTOMER", cols.name)} {fit("STATE", cols.state)} {fit("COMPANY", cols.company)} {fit("NEXT DUE", cols.nextDue)} {fit("LAST SEND", cols.lastSend)} LAST ERROR
      </Text>
      {window.map((v, i) => (
        <Row key={v.name} view={v} selected={start + i === selected} cols={cols} />
      ))}
    </Box>
  );
}
