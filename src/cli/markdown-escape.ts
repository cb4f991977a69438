import { escapeControls } from "./text-escape.ts";

/** Characters that start Markdown or HTML anywhere in a line; `@` starts a mention. */
const INLINE = /[\\`*_~[\]()!|<>&@]/g;
const ENTITIES: Record<string, string> = { "<": "&lt;", ">": "&gt;", "&": "&amp;" };

/**
 * A user-controlled value (a name, a display name, an owner, a path, a message) as inert Markdown
 * text: no mention (`@` is followed by a zero-width space), no link or image, no HTML, no code span,
 * no emphasis, no table cell break, no heading, list or quote at the start, on one line.
 */
export function escapeMarkdown(s: string): string {
  const inline = escapeControls(s).replace(INLINE, (c) => ENTITIES[c] ?? (c === "@" ? "@\u200b" : `\\${c}`));
  // a heading, a list item, a thematic break or a setext underline only at the start of a line
  return inline.replace(/^([#+=-]|\d+(?=[.)]))/, (m) => (/^\d/.test(m) ? m.replace(/\d$/, (d) => `${d}\\`) : `\\${m}`));
}

/**
 * A value as one code span, whatever backticks it holds: a fence longer than its longest run of
 * backticks, padded when it starts or ends with one. In a table cell `|` is escaped (GFM honours
 * `\|` inside code spans there).
 */
export function codeSpan(s: string, opts: { table?: boolean } = {}): string {
  let text = escapeControls(s);
  if (opts.table) text = text.replace(/\|/g, "\\|");
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((r) => r.length));
  const fence = "`".repeat(longest + 1);
  const pad = text.startsWith("`") || text.endsWith("`") || text === "" ? " " : "";
  return `${fence}${pad}${text}${pad}${fence}`;
}

/**
 * A message with code spans of its own (a diagnostic: "unknown key `x`"): the code spans stay code
 * spans, everything between them is escaped, and line breaks become `<br>`. However a hostile value
 * pairs the backticks, what ends up outside a code span is escaped and what ends up inside one is inert.
 */
export function escapeMarkdownMessage(text: string, opts: { table?: boolean } = {}): string {
  const line = (l: string) =>
    escapeControls(l)
      .split(/(`[^`]*`)/)
      .map((part, i) => (i % 2 === 1 ? (opts.table ? part.replace(/\|/g, "\\|") : part) : escapeMarkdown(part)))
      .join("");
  // a message of several lines keeps them, within its paragraph or table cell
  return text.split(/\r\n|\n|\r/).map(line).join("<br>");
}
