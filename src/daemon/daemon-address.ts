import type { StateStore } from "../ports/state-store.ts";

const META_DAEMON = "daemon";

/** Where the daemon that holds the state's lease answers: the CLI names it when it finds the lease held. */
export interface DaemonAddress {
  /** Its HTTP server, as a client reaches it (`http://127.0.0.1:9464`). */
  url: string;
  /** Its lease holder, `pid@host`. */
  holder: string;
  /** When it started listening, ISO UTC. */
  since: string;
}

/** Recorded once the daemon holds the lease and listens. */
export function recordDaemonAddress(store: StateStore, token: number, address: DaemonAddress): void {
  store.setMeta(META_DAEMON, JSON.stringify(address), token);
}

/** The address of the daemon holding the lease now, or undefined when the holder is not a daemon. */
export function daemonAddressOf(store: StateStore, held: { holder: string; acquiredAt: string }): DaemonAddress | undefined {
  const text = store.getMeta(META_DAEMON);
  if (!text) return undefined;
  try {
    const a = JSON.parse(text) as DaemonAddress;
    // a record left by an earlier daemon whose pid@host another cwsync has now predates this lease
    return typeof a.url === "string" && a.holder === held.holder && Date.parse(a.since) >= Date.parse(held.acquiredAt) ? a : undefined;
  } catch {
    return undefined;
  }
}
