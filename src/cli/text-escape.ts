/**
 * C0 and C1 controls, DEL, the line and paragraph separators and the bidirectional controls
 * (LRM, RLM, ALM, the embeddings and overrides, the isolates): a file or customer name holding one
 * could break a line of output or make it read backwards.
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const NAMED: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/** Shows every control or bidirectional character as an escape (`\n`, `\u202e`); anything else as is. */
export function escapeControls(s: string): string {
  return s.replace(UNSAFE, (c) => NAMED[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
