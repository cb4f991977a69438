import type { DetectionService } from "../ports/detection-source.ts";
import { startConnectWiseSandbox, type ConnectWiseSandbox } from "./connectwise-sandbox.ts";
import { faultPresets } from "./fault-presets.ts";
import { startEmailSecuritySandbox, type EmailSecuritySandbox } from "./email-security-sandbox.ts";
import { startLmpiSandbox, type LmpiSandbox } from "./lmpi-sandbox.ts";
import { seedLmpiFromCustomers } from "./lmpi-seed.ts";
import { loadSandboxCustomers, seedFromCustomers } from "./seed.ts";

export interface Sandboxes {
  connectwise: ConnectWiseSandbox;
  /** Started only when asked for. */
  lmpi?: LmpiSandbox;
  /** Started only when asked for. */
  tmes?: EmailSecuritySandbox;
  /** Started only when asked for. */
  hes?: EmailSecuritySandbox;
  close(): Promise<void>;
}

export interface StartSandboxesOptions {
  /** Also start the fake Licensing Management Platform. */
  lmpi: boolean;
  /** Also start these fake email-security services (default none). */
  detections?: readonly DetectionService[];
  /**
   * The email-security fakes' clock, epoch ms (default the real clock): their 72-hour look-back
   * and "no logs after now" follow it, so a command run `--at` an instant passes that instant.
   */
  now?: () => number;
  /**
   * Where the fake ConnectWise listens; with a fixed port the fake LMPI takes the next one, the fake
   * TMES the one after and the fake HES the one after that (any free ones when this is 0).
   */
  listen?: { host: string; port: number };
  /**
   * Names of fault presets (src/sandbox/fault-presets.ts) switched on once started, for the fakes'
   * lifetime; an unknown name throws before anything starts, listing the valid ones.
   */
  faults?: readonly string[];
}

/** Port offsets from the ConnectWise fake's, so that a fixed `--listen` gives fixed addresses. */
export const SANDBOX_PORT_OFFSET = { lmpi: 1, tmes: 2, hes: 3 } as const;

/**
 * The embedded fakes seeded from one repository's `customers/`: ConnectWise and, when asked, LMPI
 * whose report rows name the same customers and products, so a billing run finds its data, and
 * TMES/HES, whose seeded events exist for any domain, so every customer's `emailDomains` have
 * detections.
 */
export async function startSandboxes(repoDir: string, opts: StartSandboxesOptions): Promise<Sandboxes> {
  const presets = faultPresets(opts.faults ?? []);
  const { customers, global } = loadSandboxCustomers(repoDir);
  const connectwise = await startConnectWiseSandbox({ listen: opts.listen, seed: seedFromCustomers(customers, global) });
  const started: { close(): Promise<void> }[] = [connectwise];
  const listen = (offset: number) => ({ host: opts.listen?.host, port: opts.listen?.port ? opts.listen.port + offset : 0 });
  const result: Sandboxes = { connectwise, close: async () => void (await Promise.all(started.map((s) => s.close()))) };
  try {
    if (opts.lmpi) {
      result.lmpi = await startLmpiSandbox({ listen: listen(SANDBOX_PORT_OFFSET.lmpi), rows: seedLmpiFromCustomers(customers, global) });
      started.push(result.lmpi);
    }
    for (const service of (["tmes", "hes"] as const).filter((s) => opts.detections?.includes(s))) {
      const fake = await startEmailSecuritySandbox({ service, listen: listen(SANDBOX_PORT_OFFSET[service]), now: opts.now });
      result[service] = fake;
      started.push(fake);
    }
    for (const preset of presets) preset.apply(result);
  } catch (e) {
    // a half-started set would keep the process alive after the error is reported
    await result.close();
    throw e;
  }
  return result;
}
