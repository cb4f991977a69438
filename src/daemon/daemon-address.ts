import { stateMeta } from "../ports/state-meta.ts";
import type { StateStore } from "../ports/state-store.ts";

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
  stateMeta(store).setDaemon(address, token);
}

/** The address of the daemon holding the lease now, or undefined when the holder is not a daemon. */
export function daemonAddressOf(store: StateStore, held: { holder: string; acquiredAt: string }): DaemonAddress | undefined {
  const a = stateMeta(store).daemon() as Partial<DaemonAddress> | undefined;
  // a record left by an earlier daemon whose pid@host another cwsync has now predates this lease
  return a && typeof a.url === "string" && a.holder === held.holder && typeof a.since === "string" && Date.parse(a.since) >= Date.parse(held.acquiredAt) ? (a as DaemonAddress) : undefined;
}
