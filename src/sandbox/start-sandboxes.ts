import { startConnectWiseSandbox, type ConnectWiseSandbox } from "./connectwise-sandbox.ts";
import { startLmpiSandbox, type LmpiSandbox } from "./lmpi-sandbox.ts";
import { seedLmpiFromCustomers } from "./lmpi-seed.ts";
import { loadSandboxCustomers, seedFromCustomers } from "./seed.ts";

export interface Sandboxes {
  connectwise: ConnectWiseSandbox;
  /** Started only when asked for. */
  lmpi?: LmpiSandbox;
  close(): Promise<void>;
}

export interface StartSandboxesOptions {
  /** Also start the fake Licensing Management Platform. */
  lmpi: boolean;
  /** Where the fake ConnectWise listens; the fake LMPI takes the next port (any free one when this is 0). */
  listen?: { host: string; port: number };
}

/**
 * The embedded fakes seeded from one repository's `customers/`: ConnectWise and, when asked, LMPI
 * whose report rows name the same customers and products, so a billing run finds its data.
 */
export async function startSandboxes(repoDir: string, opts: StartSandboxesOptions): Promise<Sandboxes> {
  const { customers, global } = loadSandboxCustomers(repoDir);
  const connectwise = await startConnectWiseSandbox({ listen: opts.listen, seed: seedFromCustomers(customers, global) });
  let lmpi: LmpiSandbox | undefined;
  if (opts.lmpi) {
    const port = opts.listen?.port ? opts.listen.port + 1 : 0;
    try {
      lmpi = await startLmpiSandbox({ listen: { host: opts.listen?.host, port }, rows: seedLmpiFromCustomers(customers, global) });
    } catch (e) {
      // a half-started pair would keep the process alive after the error is reported
      await connectwise.close();
      throw e;
    }
  }
  return {
    connectwise,
    lmpi,
    close: async () => {
      await Promise.all([connectwise.close(), lmpi?.close()]);
    },
  };
}
