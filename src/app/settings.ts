import { resolve } from "node:path";
import type { TransportOptions } from "../adapters/connectwise/transport.ts";
import { UsageError } from "../errors.ts";
import { pollLagMsFromEnv } from "./settings/poll-lag-env.ts";
import { secretsFromEnv } from "./settings/secrets-env.ts";
import { settleMsFromEnv } from "./settings/settle-env.ts";

export type Env = Readonly<Record<string, string | undefined>>;

/** The ConnectWise request limiter's settings: requests at once, per second, burst. */
export type ConnectWiseTuning = Pick<TransportOptions, "concurrency" | "ratePerSecond" | "burst">;

export const DEFAULT_STATE_DIR = ".cwsync";

/**
 * Every setting cwsync takes from its environment, read and checked in this one place. Each is
 * read the first time it is used and kept: a malformed value fails the command that needs it
 * (a usage error naming the variable, exit 64), never one that does not. Credentials are read by
 * the sources session from `env`, for the sources the configuration uses (DESIGN §9).
 */
export interface Settings {
  /** The environment as given: credentials (read per source, when needed) and what git may pass on. */
  readonly env: Env;
  /** `CWSYNC_STATE_DIR` (default `.cwsync`), absolute. */
  readonly stateDir: string;
  /** `CWSYNC_SETTLE_SECONDS`, in ms; undefined: the default. */
  readonly settleMs: number | undefined;
  /** `CWSYNC_POLL_LAG`, in ms; undefined: the default. */
  readonly pollLagMs: number | undefined;
  /** `CWSYNC_CW_CONCURRENCY`, `CWSYNC_CW_RATE`, `CWSYNC_CW_BURST`; undefined: the defaults. */
  readonly connectwiseTuning: ConnectWiseTuning | undefined;
  /** `CWSYNC_FULL_VERIFY_INTERVALS`; undefined: the default. */
  readonly fullVerifyIntervals: number | undefined;
  /** `CWSYNC_LOG_LEVEL` (default `info`). */
  readonly logLevel: string;
  /** `CWSYNC_WEBHOOK_SECRET`. */
  readonly webhookSecret: string | undefined;
  /** `CWSYNC_API_TOKEN`: the daemon's bearer token, and what the CLI sends with `--url`. */
  readonly apiToken: string | undefined;
  /** `CWSYNC_URL`: the running daemon's address, for `reconcile`, `send-now` and `dashboard`. */
  readonly daemonUrl: string | undefined;
  /** `CI` or `CONTINUOUS_INTEGRATION` set (and not 0/false): no dashboard. */
  readonly ci: boolean;
  /** `NO_COLOR` set (no-color.org). */
  readonly noColor: boolean;
  /** `GITHUB_ACTIONS=true`: `validate` annotates. */
  readonly githubActions: boolean;
  /** Every secret value in the environment, for the log scrubber (never shown). */
  readonly secrets: readonly string[];
}

const trimmed = (env: Env, name: string) => env[name]?.trim() || undefined;

/** A positive number from one variable, or a usage error naming it. */
function positive(env: Env, name: string): number | undefined {
  const v = trimmed(env, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${name} must be a positive number (got \`${v}\`)`);
  return n;
}

function tuningFrom(env: Env): ConnectWiseTuning | undefined {
  const t = { concurrency: positive(env, "CWSYNC_CW_CONCURRENCY"), ratePerSecond: positive(env, "CWSYNC_CW_RATE"), burst: positive(env, "CWSYNC_CW_BURST") };
  const given = Object.entries(t).filter(([, v]) => v !== undefined);
  return given.length ? (Object.fromEntries(given) as ConnectWiseTuning) : undefined;
}

function fullVerifyIntervalsFrom(env: Env): number | undefined {
  const text = trimmed(env, "CWSYNC_FULL_VERIFY_INTERVALS");
  if (!text) return undefined;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1 || n > 10_000) throw new UsageError(`CWSYNC_FULL_VERIFY_INTERVALS: \`${text}\` is not a whole number from 1 to 10000 (intervals between full verifications of a customer; default 60)`);
  return n;
}

const flag = (env: Env, name: string) => env[name] !== undefined && env[name] !== "0" && env[name] !== "false";

/** The settings of an environment and working directory; each value is read once, when first used. */
export function readSettings(env: Env, cwd: string): Settings {
  const readers: { [K in keyof Settings]: () => Settings[K] } = {
    env: () => env,
    stateDir: () => resolve(cwd, trimmed(env, "CWSYNC_STATE_DIR") ?? DEFAULT_STATE_DIR),
    settleMs: () => settleMsFromEnv(env),
    pollLagMs: () => pollLagMsFromEnv(env),
    connectwiseTuning: () => tuningFrom(env),
    fullVerifyIntervals: () => fullVerifyIntervalsFrom(env),
    logLevel: () => trimmed(env, "CWSYNC_LOG_LEVEL") ?? "info",
    webhookSecret: () => trimmed(env, "CWSYNC_WEBHOOK_SECRET"),
    apiToken: () => trimmed(env, "CWSYNC_API_TOKEN"),
    daemonUrl: () => trimmed(env, "CWSYNC_URL"),
    ci: () => flag(env, "CI") || flag(env, "CONTINUOUS_INTEGRATION"),
    noColor: () => Boolean(env.NO_COLOR),
    githubActions: () => env.GITHUB_ACTIONS === "true",
    secrets: () => secretsFromEnv(env),
  };
  const settings = {} as Settings;
  for (const [key, read] of Object.entries(readers) as [keyof Settings, () => unknown][]) {
    let value: unknown;
    let done = false;
    Object.defineProperty(settings, key, {
      enumerable: true,
      get: () => {
        if (!done) {
          value = read();
          done = true;
        }
        return value;
      },
    });
  }
  return settings;
}
