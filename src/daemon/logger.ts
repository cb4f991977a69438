import { pino } from "pino";

export type Logger = import("pino").Logger;

export interface LoggerOptions {
  /** Where JSON lines go: stderr (the default), or a file while the dashboard owns the terminal. */
  destination?: "stderr" | { file: string };
  /** Secret values to scrub from every line, wherever they appear; values shorter than 4 characters are ignored. */
  secrets: readonly string[];
  level?: string;
}

const CENSOR = "[redacted]";

const SECRET_KEYS = [
  "password", "passwd", "secret", "secretKey", "clientSecret", "webhookSecret", "token", "accessToken", "apiToken",
  "refreshToken", "apiKey", "privateKey", "publicKey", "authorization", "Authorization", "cookie", "Cookie",
];

/** Key-based redaction, up to two levels down and under request/response headers (the value scrubber covers the rest). */
export const REDACT_PATHS: readonly string[] = [
  ...SECRET_KEYS,
  ...SECRET_KEYS.map((k) => `*.${k}`),
  ...SECRET_KEYS.map((k) => `*.*.${k}`),
  ...["authorization", "cookie", "set-cookie", "x-hub-signature-256"].flatMap((h) => [
    `headers["${h}"]`, `*.headers["${h}"]`,
  ]),
];

/**
 * The daemon's logger: pino JSON lines, key-based redaction, and a value scrubber that replaces
 * every configured secret value found anywhere in the final line (pino's `redact` only knows keys:
 * a token inside a URL or an error message would pass it).
 */
export function createLogger(opts: LoggerOptions): Logger {
  const dest = opts.destination && opts.destination !== "stderr"
    ? pino.destination({ dest: opts.destination.file, mkdir: true, sync: true })
    : pino.destination({ dest: 2, sync: true });
  return pino(
    {
      level: opts.level ?? "info",
      redact: { paths: [...REDACT_PATHS], censor: CENSOR },
      hooks: { streamWrite: secretScrubber(opts.secrets) },
    },
    dest,
  );
}

/**
 * A function that scrubs secret values from one serialized JSON line. A line with a secret is
 * parsed and its strings (keys too) rewritten, so the line stays valid JSON whatever characters
 * the secret has; a secret is also looked for in its JSON-escaped and URL-encoded forms.
 */
export function secretScrubber(secrets: readonly string[]): (line: string) => string {
  const values = [...new Set(secrets.filter((s) => typeof s === "string" && s.length >= 4))].sort((a, b) => b.length - a.length);
  const forms = [...new Set(values.flatMap((v) => [v, encodeURIComponent(v)]))].sort((a, b) => b.length - a.length);
  const serialized = [...new Set(forms.map((f) => JSON.stringify(f).slice(1, -1)))];
  if (values.length === 0) return (line) => line;
  const scrub = (text: string) => forms.reduce((t, f) => (t.includes(f) ? t.replaceAll(f, CENSOR) : t), text);
  const walk = (v: unknown): unknown => {
    if (typeof v === "string") return scrub(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [scrub(k), walk(x)]));
    return v;
  };
  return (line) => {
    if (!serialized.some((f) => line.includes(f))) return line;
    const newline = line.endsWith("\n") ? "\n" : "";
    try {
      return JSON.stringify(walk(JSON.parse(line))) + newline;
    } catch {
      // not JSON after all: plain replacement still keeps the secret out
      return serialized.reduce((t, f) => t.replaceAll(f, CENSOR), line);
    }
  };
}
