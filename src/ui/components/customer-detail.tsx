import { Box, Text } from "ink";
import type { CustomerView } from "../../status/customer-view.ts";
import { detailLines } from "../detail-lines.ts";
import { Tone } from "./tone.tsx";

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
        {view.name}{" "}
        <Text dimColor>
          ({view.file}){more}
        </Text>
      </Text>
      {lines.slice(start, start + rows).map((l, i) => (
        <Text key={start + i} wrap="truncate">
          {"  "}
          {l.label.padEnd(11)} <Tone color={l.color}>{l.text}</Tone>
        </Text>
      ))}
    </Box>
  );
}
