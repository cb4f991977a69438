import { resolve } from "node:path";
import { systemClock } from "../adapters/clock-system.ts";
import { ConnectWiseClient } from "../adapters/connectwise/connectwise-client.ts";
import { ConnectWiseTransport, type ConnectWiseCredentials, type TransportOptions } from "../adapters/connectwise/transport.ts";
import { LmpiClient, type LmpiCredentials } from "../adapters/lmpi/lmpi-client.ts";
import { UsageError } from "../errors.ts";
import type { ConnectWise } from "../ports/connectwise.ts";
import type { LicenseSource } from "../ports/license-source.ts";
import type { ConnectWiseSandbox } from "../sandbox/connectwise-sandbox.ts";
import type { LmpiSandbox } from "../sandbox/lmpi-sandbox.ts";
import { connectWiseCredentials, CW_ENV } from "./connectwise-env.ts";
import type { CommandIO } from "./io.ts";
import { LMPI_ENV, lmpiCredentials } from "./lmpi-env.ts";

/** The ConnectWise request limiter's settings (defaults stay well under ConnectWise's throttle). */
export type ConnectWiseTuning = Pick<TransportOptions, "concurrency" | "ratePerSecond" | "burst">;

export interface SourcesOptions {
  sandbox: boolean;
  /** The repository whose `customers/` seeds the sandboxes. */
  repo: string;
  /** Whether the command reads licence counts (LMPI): without it, LMPI is neither required nor started. */
  license: boolean;
  connectwise?: ConnectWiseTuning;
}

export interface SourcesSession {
  cw: ConnectWise;
  /** Present when `license` was asked for. */
  license?: LicenseSource;
  /** Where the ConnectWise calls go, for output: never credentials. */
  target: string;
  close(): Promise<void>;
  /** The embedded fakes, with `--sandbox`: tests and the benchmark read their recorded requests. */
  sandbox?: { connectwise: ConnectWiseSandbox; lmpi?: LmpiSandbox };
}

type Env = CommandIO["env"];

/**
 * Every credential the command needs, checked before anything starts: all missing variables in
 * one usage error, then every malformed URL in one, so a user fixes the environment in one go.
 */
function credentialsFromEnv(env: Env, license: boolean): { cw: ConnectWiseCredentials; lmpi?: LmpiCredentials } {
  const groups = [{ system: "ConnectWise", names: CW_ENV }, ...(license ? [{ system: "the Licensing Management Platform", names: LMPI_ENV }] : [])];
  const missing = groups.map((g) => ({ ...g, names: g.names.filter((k) => !env[k]?.trim()) })).filter((g) => g.names.length);
  if (missing.length) {
    const systems = missing.map((g) => g.system).join(" and ");
    throw new UsageError(
      `${systems} ${missing.length > 1 ? "are" : "is"} not configured: set ${missing.flatMap((g) => g.names).join(", ")} (see the README), or pass --sandbox to use the embedded fakes`,
    );
  }
  const problems: string[] = [];
  const attempt = <T>(read: () => T): T | undefined => {
    try {
      return read();
    } catch (e) {
      if (!(e instanceof UsageError)) throw e;
      problems.push(e.message);
      return undefined;
    }
  };
  const cw = attempt(() => connectWiseCredentials(env));
  const lmpi = license ? attempt(() => lmpiCredentials(env)) : undefined;
  if (problems.length || !cw) throw new UsageError(problems.join("\n"));
  return { cw, lmpi };
}

function connectWiseClient(creds: ConnectWiseCredentials, tuning: ConnectWiseTuning | undefined): ConnectWise {
  return new ConnectWiseClient(new ConnectWiseTransport(creds, { clock: systemClock, ...tuning }));
}

function lmpiClient(creds: LmpiCredentials): LicenseSource {
  // signatures carry the real time even under `--at` (DESIGN §8)
  return new LmpiClient(creds, { clock: systemClock, realNow: systemClock.now });
}

/**
 * ConnectWise and, with `license`, the Licensing Management Platform for a command: with
 * `--sandbox`, the embedded fakes seeded from the repository's `customers/`; otherwise the real
 * systems from the environment — never a silent fallback to fakes.
 */
export async function openSources(opts: SourcesOptions, io: CommandIO): Promise<SourcesSession> {
  if (opts.sandbox) {
    // loaded only here: a production run never pulls the fakes in
    const { startSandboxes } = await import("../sandbox/start-sandboxes.ts");
    const sandboxes = await startSandboxes(resolve(io.cwd, opts.repo), { lmpi: opts.license });
    const { connectwise, lmpi } = sandboxes;
    return {
      cw: connectWiseClient({ url: connectwise.url, ...connectwise.credentials }, opts.connectwise),
      license: lmpi && lmpiClient({ url: lmpi.url, ...lmpi.credentials }),
      target: `the embedded sandbox (${new URL(connectwise.url).origin})`,
      close: () => sandboxes.close(),
      sandbox: { connectwise, lmpi },
    };
  }
  const creds = credentialsFromEnv(io.env, opts.license);
  return {
    cw: connectWiseClient(creds.cw, opts.connectwise),
    license: creds.lmpi && lmpiClient(creds.lmpi),
    target: `ConnectWise at ${new URL(creds.cw.url).host}`,
    close: async () => undefined,
  };
}
