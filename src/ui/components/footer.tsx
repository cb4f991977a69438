import { Box, Text } from "ink";

export const FOOTER_LINES = 2;

export interface StatusMessage {
  text: string;
  tone: "pending" | "ok" | "error" | "info";
}

const TONE_COLOR: Record<StatusMessage["tone"], string | undefined> = { pending: "cyan", ok: "green", error: "red", info: undefined };

/** The result of the last action (or the link problem) and, below it, the keys or the open prompt. */
export function Footer({ status, notice, prompt, keys }: { status?: StatusMessage; notice?: string; prompt?: string; keys: string }) {
  return (
    <Box flexDirection="column" height={FOOTER_LINES}>
      <Text wrap="truncate">
        {notice ? <Text color="red">{notice} </Text> : null}
        {status ? <Text color={TONE_COLOR[status.tone]}>{status.text}</Text> : " "}
      </Text>
      {prompt ? (
        <Text wrap="truncate" bold color="yellow">
          {prompt}
        </Text>
      ) : (
        <Text wrap="truncate" dimColor>
          {keys}
        </Text>
      )}
    </Box>
  );
}
