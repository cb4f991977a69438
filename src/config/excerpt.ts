/** The most of a value a diagnostic message quotes. */
export const EXCERPT_LIMIT = 80;

/**
 * A value as a diagnostic quotes it: its first line, at most {@link EXCERPT_LIMIT} characters, with
 * `…` where it was cut. A message never carries a whole document (a file that is one long string).
 */
export function excerpt(value: string, limit = EXCERPT_LIMIT): string {
  const lines = value.split(/\r\n|[\n\r\u2028\u2029]/);
  const first = lines[0];
  if (first.length > limit) return `${first.slice(0, limit)}…`;
  return lines.length > 1 ? `${first}…` : first;
}

/**
 * A diagnostic whose code spans (where messages quote values) are cut to {@link excerpt}s: the net
 * under every rule, so that no message or hint carries more than a line of a file.
 */
export function withExcerpts<T extends { message: string; hint?: string }>(d: T): T {
  const cut = (text: string) => text.replace(/`([^`]*)`/g, (m, inner: string) => (inner.length > EXCERPT_LIMIT || /[\n\r\u2028\u2029]/.test(inner) ? `\`${excerpt(inner)}\`` : m));
  const message = cut(d.message);
  const hint = d.hint === undefined ? undefined : cut(d.hint);
  return message === d.message && hint === d.hint ? d : { ...d, message, ...(hint === undefined ? {} : { hint }) };
}
