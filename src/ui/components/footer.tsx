import { Box, Text } from "ink";
import { Tone } from "./tone.tsx";

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
        {notice ? <Tone color="red">{notice} </Tone> : null}
        {status ? <Tone color={TONE_COLOR[status.tone]}>{status.text}</Tone> : " "}
      </Text>
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
