import { openStateStore, type OpenStateOptions } from "../adapters/state-sqlite/open-state-store.ts";
import { UsageError } from "../errors.ts";
import { stateMeta } from "../ports/state-meta.ts";
import type { StateStore } from "../ports/state-store.ts";

export interface StateSession {
  store: StateStore;
  dir: string;
  checkTarget(token: number): void;
}

/**
 * Opens the state store. A state directory belongs to one ConnectWise: its ledger says which
 * periods were sent, so reusing it against another (the sandbox, say) would skip real sends.
 * `target` is recorded on first write and checked afterwards; absent, nothing is checked (read-only commands).
 * A state that vanished (state.db missing or empty where the directory shows it existed) is refused
 * with a StateError unless `opts.acceptNewState` (reconcile, send-now and run's --accept-new-state).
 */
export function openState(dir: string, target?: string, opts: OpenStateOptions = {}): StateSession {
  const store = openStateStore(dir, opts);
  const meta = stateMeta(store);
  const recorded = meta.target();
  if (target && recorded && recorded !== target) {
    store.close();
    throw new UsageError(`the state in ${dir} belongs to ${recorded}, not ${target}: its ledger would skip or repeat sends there. Use another CWSYNC_STATE_DIR (e.g. CWSYNC_STATE_DIR=.cwsync-sandbox)`);
  }
  return {
    store,
    dir,
    checkTarget: (token) => {
      if (target && !recorded) meta.setTarget(target, token);
    },
  };
}
