import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { onTestFinished } from "vitest";
import { startConnectWiseSandbox, type ConnectWiseSandbox, type RecordedRequest } from "../../src/sandbox/connectwise-sandbox.ts";
import { startLmpiSandbox, type LmpiSandbox } from "../../src/sandbox/lmpi-sandbox.ts";
import { seedLmpiFromCustomers, type LmpiSeed } from "../../src/sandbox/lmpi-seed.ts";
import type { ConnectWiseSeed } from "../../src/sandbox/model.ts";
import { loadSandboxCustomers, loadSandboxSeed } from "../../src/sandbox/seed.ts";
import { tempRepo, type TempRepo } from "./git-repo.ts";
import { runCli, type CliResult } from "./run-cli.ts";

export interface ReconcileWorld {
  repo: TempRepo;
  cw: ConnectWiseSandbox;
  lmpi: LmpiSandbox;
  stateDir: string;
  /** The environment a real deployment would set, pointing at the two fakes. */
  env: Record<string, string>;
  /** Runs `cwsync …` in-process in the repository with that environment. */
  run(...argv: string[]): Promise<CliResult>;
  /** ConnectWise requests that change something (POST, PATCH, PUT, DELETE). */
  writes(): RecordedRequest[];
}

/**
 * A repository of customers (this project's, unless given), the fake ConnectWise and LMPI seeded
 * from it and kept running across commands (unlike `--sandbox`, which seeds a fresh one per
 * command), and a state directory: the CLI is pointed at them through the real environment variables.
 */
export async function reconcileWorld(opts: { repo?: TempRepo; seed?: ConnectWiseSeed; rows?: LmpiSeed } = {}): Promise<ReconcileWorld> {
  const repo = opts.repo ?? tempRepo();
  const { customers, global } = loadSandboxCustomers(repo.dir);
  const cw = await startConnectWiseSandbox({ seed: opts.seed ?? loadSandboxSeed(repo.dir) });
  const lmpi = await startLmpiSandbox({ rows: opts.rows ?? seedLmpiFromCustomers(customers, global) });
  const stateDir = mkdtempSync(join(tmpdir(), "cwsync-state-"));
  onTestFinished(async () => {
    await cw.close();
    await lmpi.close();
    rmSync(stateDir, { recursive: true, force: true });
  });
  const env = {
    CW_URL: cw.url, CW_COMPANY: cw.credentials.company, CW_PUBLIC_KEY: cw.credentials.publicKey,
    CW_PRIVATE_KEY: cw.credentials.privateKey, CW_CLIENT_ID: cw.credentials.clientId,
    LMPI_URL: lmpi.url, LMPI_ACCESS_TOKEN: lmpi.credentials.accessToken, LMPI_SECRET_KEY: lmpi.credentials.secretKey,
    CWSYNC_STATE_DIR: stateDir,
    // no rate limit against a local fake: tests stay fast
    CWSYNC_CW_RATE: "1000", CWSYNC_CW_BURST: "1000", CWSYNC_CW_CONCURRENCY: "8",
  };
  return {
    repo, cw, lmpi, stateDir, env,
    run: (...argv) => runCli(argv, { cwd: repo.dir, env }),
    writes: () => cw.requests.filter((r) => r.method !== "GET"),
  };
}
