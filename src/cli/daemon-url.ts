import { UsageError } from "../errors.ts";

/** The running daemon a command asks instead of opening the state itself (`--url`, or `CWSYNC_URL`). */
export interface DaemonTarget {
  /** Scheme, host, port and any path prefix, without a trailing slash. */
  url: string;
  /** Where it came from, for messages: `--url …` or `CWSYNC_URL=…`. */
  via: string;
}

/** Why each flag of a one-shot run cannot travel to the daemon. */
const LOCAL_ONLY: Readonly<Record<string, string>> = {
  "--repo": "the daemon works from the repository it follows (its own --repo)",
  "--branch": "the daemon follows its own --branch",
  "--at": "the daemon acts at its own clock",
  "--dry-run": "the daemon does not dry-run (cwsync plan shows what a reconcile would do)",
  "--allow-mass-removal": "the daemon's own --allow-mass-removal decides",
  "--sandbox": "the daemon's own --sandbox decides which ConnectWise it writes to",
};

/** Flags that only mean something when a daemon is asked. */
const DAEMON_ONLY: readonly string[] = ["--idempotency-key"];

/**
 * The daemon to ask, or undefined to run on the local state: `--url`, else `CWSYNC_URL` (`fromSettings`). With one,
 * a flag the daemon cannot honour is a usage error naming it; without, so is a flag only a daemon uses.
 * `given` lists the flags on the command line (`--at`, …), not their defaults.
 */
export function daemonTarget(command: string, flag: string | undefined, given: readonly string[], fromSettings: string | undefined): DaemonTarget | undefined {
  const fromEnv = flag === undefined ? fromSettings : undefined;
  const text = flag ?? fromEnv;
  if (text === undefined) {
    const only = given.filter((f) => DAEMON_ONLY.includes(f));
    if (only.length > 0) throw new UsageError(`${only.join(", ")} ${only.length > 1 ? "apply" : "applies"} only with --url (or CWSYNC_URL), when ${command} asks a running daemon`);
    return undefined;
  }
  const via = fromEnv ? `CWSYNC_URL=${text}` : `--url ${text}`;
  const url = parseDaemonUrl(text, fromEnv ? "CWSYNC_URL" : "--url");
  const refused = given.filter((f) => f in LOCAL_ONLY);
  if (refused.length > 0) {
    throw new UsageError(
      `${refused.join(", ")} cannot be sent to the daemon (${via}): ${refused.map((f) => LOCAL_ONLY[f]).join("; ")}. ` +
        `Leave ${refused.length > 1 ? "them" : "it"} out, or ${fromEnv ? "unset CWSYNC_URL" : "leave out --url"} to run ${command} on its own (with the daemon stopped: it holds the state)`,
    );
  }
  return { url, via };
}

/** A daemon address: http(s), as `cwsync run --listen` prints it (`http://127.0.0.1:9464`); a path prefix (a reverse proxy's) is kept. */
export function parseDaemonUrl(text: string, name = "--url"): string {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) {
    throw new UsageError(`${name} "${text}" is not an http:// or https:// URL; expected the daemon's address, e.g. http://127.0.0.1:9464 (its --listen)`);
  }
  url.search = "";
  url.hash = "";
  return url.href.replace(/\/+$/, "");
}
