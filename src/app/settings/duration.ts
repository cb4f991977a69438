const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * A duration as cwsync's flags and variables write it (`500ms`, `30s`, `5m`, `1h`, `1.5h`) in
 * milliseconds, or undefined when the text is not one. `whole`: only whole numbers of s, m or h.
 */
export function durationMs(text: string, opts: { whole?: boolean } = {}): number | undefined {
  const m = (opts.whole ? /^(\d+)\s*(s|m|h)$/ : /^(\d+(?:\.\d+)?)(ms|s|m|h)$/).exec(text.trim());
  const ms = m ? Number(m[1]) * UNIT_MS[m[2]] : NaN;
  return Number.isFinite(ms) ? Math.round(ms) : undefined;
}
