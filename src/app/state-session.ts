import { resolve } from "node:path";
import { openStateStore } from "../adapters/state-sqlite/open-state-store.ts";
import { UsageError } from "../errors.ts";
import { stateMeta } from "../ports/state-meta.ts";
import type { StateStore } from "../ports/state-store.ts";
import type { CommandIO } from "./io.ts";

export const DEFAULT_STATE_DIR = ".cwsync";

export const stateDirOf = (io: CommandIO) => resolve(io.cwd, io.env.CWSYNC_STATE_DIR?.trim() || DEFAULT_STATE_DIR);

/**
 * Opens the state store. A state directory belongs to one ConnectWise: its ledger says which
 * periods were sent, so reusing it against another (the sandbox, say) would skip real sends.
 * `target` is recorded on first write and checked afterwards; absent, nothing is checked (read-only commands).
 */
export function openState(io: CommandIO, target?: string): { store: StateStore; dir: string; checkTarget(token: number): void } {
  const dir = stateDirOf(io);
  const store = openStateStore(dir);
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
