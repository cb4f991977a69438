import { Box, Text } from "ink";
import { Tone } from "./tone.tsx";

export interface StatusMessage {
  /** One line, or a first line and one more per result (a send of all reports). */
  text: string;
  tone: "pending" | "ok" | "error" | "info";
}

const TONE_COLOR: Record<StatusMessage["tone"], string | undefined> = { pending: "cyan", ok: "green", error: "red", info: undefined };

/** The most status lines shown: a send of every report has a line and one per report (three today). */
const MAX_STATUS_LINES = 5;

function statusLines(status: StatusMessage | undefined): string[] {
  const lines = status ? status.text.split("\n").filter((l, i) => i === 0 || l.trim()) : [" "];
  if (lines.length <= MAX_STATUS_LINES) return lines;
  return [...lines.slice(0, MAX_STATUS_LINES - 1), `  … ${lines.length - MAX_STATUS_LINES + 1} more in the log`];
}

/** Lines the footer takes: the status (one or more) and the keys or the open prompt. */
export const footerLines = (status: StatusMessage | undefined): number => statusLines(status).length + 1;

/**
 * The key help that fits `width`: the first of `variants` (full, then shorter) that fits; when none
 * does, the last one with its final item (`q quit`) moved to the front, so that quitting is always shown.
 */
export function fitKeys(variants: readonly (readonly string[])[], width: number): string {
  for (const items of variants) {
    const text = items.join(" · ");
    if ([...text].length <= width) return text;
  }
  const last = variants.at(-1) ?? [];
  return [...last.slice(-1), ...last.slice(0, -1)].join(" · ");
}

/** The result of the last action (or the link problem) and, below it, the keys or the open prompt. */
export function Footer({ status, notice, prompt, keys }: { status?: StatusMessage; notice?: string; prompt?: string; keys: string }) {
  const [first, ...more] = statusLines(status);
  const color = status ? TONE_COLOR[status.tone] : undefined;
  return (
    <Box flexDirection="column" height={footerLines(status)}>
      <Text wrap="truncate">
        {notice ? <Tone color="red">{notice} </Tone> : null}
        <Tone color={color}>{first}</Tone>
      </Text>
      {more.map((line, i) => (
        <Tone key={i} wrap="truncate" color={color}>
          {line}
        </Tone>
      ))}
      {prompt ? (
        <Tone wrap="truncate" bold color="yellow">
          {prompt}
        </Tone>
      ) : (
        <Text wrap="truncate" dimColor>
          {keys}
        </Text>
      )}
    </Box>
  );
}
