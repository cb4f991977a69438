import { mkdtempSync, rmSync } from "node:fs";
import { systemClock } from "../../src/adapters/clock-system.ts";
import type { Clock } from "../../src/ports/clock.ts";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { onTestFinished } from "vitest";
import { startConnectWiseSandbox, type ConnectWiseSandbox, type RecordedRequest } from "../../src/sandbox/connectwise-sandbox.ts";
import { startEmailSecuritySandbox, type EmailSecuritySandbox } from "../../src/sandbox/email-security-sandbox.ts";
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
  tmes: EmailSecuritySandbox;
  hes: EmailSecuritySandbox;
  /** The email-security fakes' clock (epoch ms): `run` sets it to the `--at` of the command. */
  clock: { now: number };
  stateDir: string;
  /** The environment a real deployment would set, pointing at the two fakes. */
  env: Record<string, string>;
  /** Runs `cwsync …` in-process in the repository with that environment. */
  run(...argv: string[]): Promise<CliResult>;
  /** The same, on the clock given (ledger, lease and settle times), to pass time without sleeping. */
  runOn(clock: Clock, ...argv: string[]): Promise<CliResult>;
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
  const clock = { now: Date.now() };
  const tmes = await startEmailSecuritySandbox({ service: "tmes", now: () => clock.now });
  const hes = await startEmailSecuritySandbox({ service: "hes", now: () => clock.now });
  const stateDir = mkdtempSync(join(tmpdir(), "cwsync-state-"));
  onTestFinished(async () => {
    await cw.close();
    await lmpi.close();
    await tmes.close();
    await hes.close();
    rmSync(stateDir, { recursive: true, force: true });
  });
  const env = {
    CW_URL: cw.url, CW_COMPANY: cw.credentials.company, CW_PUBLIC_KEY: cw.credentials.publicKey,
    CW_PRIVATE_KEY: cw.credentials.privateKey, CW_CLIENT_ID: cw.credentials.clientId,
    LMPI_URL: lmpi.url, LMPI_ACCESS_TOKEN: lmpi.credentials.accessToken, LMPI_SECRET_KEY: lmpi.credentials.secretKey,
    TMES_URL: tmes.url, TMES_ACCOUNT: tmes.credentials.account, TMES_API_KEY: tmes.credentials.apiKey,
    HES_URL: hes.url, HES_ACCOUNT: hes.credentials.account, HES_API_KEY: hes.credentials.apiKey,
    CWSYNC_STATE_DIR: stateDir,
    // no rate limit against a local fake: tests stay fast
    CWSYNC_CW_RATE: "1000", CWSYNC_CW_BURST: "1000", CWSYNC_CW_CONCURRENCY: "8",
    // a send of unknown outcome is looked for at the next run, not 120 s later (the fakes commit at
    // once); the wait itself is tested with a late-committing fake in reconcile-states.test.ts
    CWSYNC_SETTLE_SECONDS: "0",
  };
  const world: ReconcileWorld = {
    repo, cw, lmpi, tmes, hes, clock, stateDir, env,
    run: (...argv) => world.runOn(systemClock, ...argv),
    runOn: (runClock, ...argv) => {
      // the fakes serve the moment the command acts at, as the real services would serve "now"
      const at = argv.indexOf("--at");
      if (at >= 0) clock.now = Date.parse(argv[at + 1]);
      return runCli(argv, { cwd: repo.dir, env, clock: runClock });
    },
    writes: () => cw.requests.filter((r) => r.method !== "GET"),
  };
  return world;
}
