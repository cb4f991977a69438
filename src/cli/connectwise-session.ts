import { resolve } from "node:path";
import { systemClock } from "../adapters/clock-system.ts";
import { ConnectWiseClient } from "../adapters/connectwise/connectwise-client.ts";
import { ConnectWiseTransport } from "../adapters/connectwise/transport.ts";
import type { ConnectWise } from "../ports/connectwise.ts";
import { connectWiseCredentials } from "./connectwise-env.ts";
import type { CommandIO } from "./io.ts";

export interface ConnectWiseSession {
  cw: ConnectWise;
  /** Where the calls go, for output: never credentials. */
  target: string;
  close(): Promise<void>;
}

/**
 * ConnectWise for a command: the embedded sandbox (seeded from the repository's customers/) with
 * `--sandbox`, otherwise the real one from the environment — never a silent fallback to fakes.
 */
export async function openConnectWise(opts: { sandbox: boolean; repo: string }, io: CommandIO): Promise<ConnectWiseSession> {
  if (opts.sandbox) {
    const { startConnectWiseSandbox } = await import("../sandbox/connectwise-sandbox.ts");
    const { loadSandboxSeed } = await import("../sandbox/seed.ts");
    const sandbox = await startConnectWiseSandbox({ seed: loadSandboxSeed(resolve(io.cwd, opts.repo)) });
    const http = new ConnectWiseTransport({ url: sandbox.url, ...sandbox.credentials }, { clock: systemClock });
    return { cw: new ConnectWiseClient(http), target: `the embedded sandbox (${new URL(sandbox.url).origin})`, close: () => sandbox.close() };
  }
  const creds = connectWiseCredentials(io.env);
  const http = new ConnectWiseTransport(creds, { clock: systemClock });
  return { cw: new ConnectWiseClient(http), target: `ConnectWise at ${new URL(creds.url).host}`, close: async () => undefined };
}
