import type { ConnectWise } from "../ports/connectwise.ts";
import type { Deps } from "./deps.ts";

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
export async function openConnectWise(opts: { sandbox: boolean; repo: string }, deps: Pick<Deps, "openSources">): Promise<ConnectWiseSession> {
  return deps.openSources({ ...opts, license: false });
}
