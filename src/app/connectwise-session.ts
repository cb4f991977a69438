import type { ConnectWise } from "../ports/connectwise.ts";
import type { CommandIO } from "./io.ts";
import { openSources } from "./sources-session.ts";

export interface ConnectWiseSession {
  cw: ConnectWise;
  /** Where the calls go, for output: never credentials. */
  target: string;
  close(): Promise<void>;
}

/**
 * ConnectWise alone for a command (no licence counts, so LMPI is neither required nor started):
 * the embedded sandbox with `--sandbox`, otherwise the real one from the environment.
 */
export async function openConnectWise(opts: { sandbox: boolean; repo: string }, io: CommandIO): Promise<ConnectWiseSession> {
  return openSources({ ...opts, license: false }, io);
}
