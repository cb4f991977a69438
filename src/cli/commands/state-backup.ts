import { resolve } from "node:path";
import { backupState } from "../../adapters/state-sqlite/state-backup.ts";
import type { Deps } from "../../app/deps.ts";

export interface StateBackupOptions {
  file: string;
}

/** `cwsync state backup FILE`: a consistent copy of the state, safe while the daemon runs; never overwrites FILE. */
export async function stateBackupCommand(opts: StateBackupOptions, io: Deps): Promise<number> {
  const b = backupState(io.settings.stateDir, resolve(io.cwd, opts.file), new Date(io.clock.now()));
  io.stdout(
    `wrote ${b.file} (${b.bytes} bytes): a copy of ${io.settings.stateDir}, applied revision ${b.appliedRevision?.slice(0, 12) ?? "none"}, ${b.ledgerEntries} ledger ${b.ledgerEntries === 1 ? "entry" : "entries"}\n` +
      `To restore it: stop the daemon, copy it to ${resolve(io.settings.stateDir, "state.db")}, delete state.db-wal and state.db-shm there, start again.\n`,
  );
  return 0;
}
