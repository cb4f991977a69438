import { parseHolder } from "../adapters/state-sqlite/lease-rules.ts";
import type { LeaseOptions } from "../apply/with-lease.ts";
import { daemonAddressOf } from "../daemon/daemon-address.ts";
import { OperationError } from "../errors.ts";
import type { StateStore } from "../ports/state-store.ts";

/**
 * The lease error of a command that can ask the daemon instead (`--url`): when `cwsync run`
 * holds the state, it names the daemon's address and the flag; otherwise the usual one.
 */
export function askTheDaemon(store: StateStore, stateDir: string): NonNullable<LeaseOptions["heldError"]> {
  return (held) => {
    const daemon = daemonAddressOf(store, held);
    const who = parseHolder(held.holder);
    if (!daemon || !who) return undefined;
    return new OperationError(`the state in ${stateDir} is held by cwsync run (pid ${who.pid} on host ${who.host}, listening on ${daemon.url}): pass --url ${daemon.url} (or set CWSYNC_URL) to ask it`);
  };
}
