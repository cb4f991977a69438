import { resolve } from "node:path";
import { systemClock } from "../adapters/clock-system.ts";
import { ConnectWiseClient } from "../adapters/connectwise/connectwise-client.ts";
import { ConnectWiseTransport, type ConnectWiseCredentials, type TransportOptions } from "../adapters/connectwise/transport.ts";
import { EmailSecurityClient, type EmailSecurityCredentials } from "../adapters/email-security/email-security-client.ts";
import { SERVICES } from "../adapters/email-security/services.ts";
import { LmpiClient, type LmpiCredentials } from "../adapters/lmpi/lmpi-client.ts";
import { UsageError } from "../errors.ts";
import type { ConnectWise } from "../ports/connectwise.ts";
import type { DetectionService, DetectionSource } from "../ports/detection-source.ts";
import type { LicenseSource } from "../ports/license-source.ts";
import type { ConnectWiseSandbox } from "../sandbox/connectwise-sandbox.ts";
import type { EmailSecuritySandbox } from "../sandbox/email-security-sandbox.ts";
import type { LmpiSandbox } from "../sandbox/lmpi-sandbox.ts";
import { connectWiseCredentials, CW_ENV } from "./connectwise-env.ts";
import { EMAIL_SECURITY_ENV, emailSecurityCredentials } from "./email-security-env.ts";
import type { CommandIO } from "./io.ts";
import { LMPI_ENV, lmpiCredentials } from "./lmpi-env.ts";

/** The ConnectWise request limiter's settings (defaults stay well under ConnectWise's throttle), and an observer of requests (the daemon's metrics). */
export type ConnectWiseTuning = Pick<TransportOptions, "concurrency" | "ratePerSecond" | "burst" | "onEvent">;

export interface SourcesOptions {
  sandbox: boolean;
  /** The repository whose `customers/` seeds the sandboxes. */
  repo: string;
  /** Whether the command reads licence counts (LMPI): without it, LMPI is neither required nor started. */
  license: boolean;
  /** Whether the command reads detections (email-security policy events): without it, TMES/HES are neither required nor started. */
  detections?: boolean;
  /**
   * With `detections`: the services the customers' reports use (default both). Only these are
   * required, opened and, with `--sandbox`, started: a deployment may use only one of the two.
   */
  services?: readonly DetectionService[];
  /**
   * With `--sandbox`: the email-security fakes' clock, epoch ms (default the real clock). A command
   * run `--at` an instant passes it, so the fakes serve that moment's 72-hour window.
   */
  now?: () => number;
  connectwise?: ConnectWiseTuning;
}

export interface SourcesSession {
  cw: ConnectWise;
  /** Present when `license` was asked for. */
  license?: LicenseSource;
  /** Present when `detections` was asked for and `services` includes Trend Micro Email Security. */
  tmes?: DetectionSource;
  /** Present when `detections` was asked for and `services` includes Hosted Email Security. */
  hes?: DetectionSource;
  /** Where the ConnectWise calls go, for output: never credentials. */
  target: string;
  close(): Promise<void>;
  /** The embedded fakes, with `--sandbox`: tests and the benchmark read their recorded requests. */
  sandbox?: { connectwise: ConnectWiseSandbox; lmpi?: LmpiSandbox; tmes?: EmailSecuritySandbox; hes?: EmailSecuritySandbox };
}

type Env = CommandIO["env"];

const ALL_SERVICES: readonly DetectionService[] = ["tmes", "hes"];

/** "A", "A and B", "A, B and C". */
const listing = (items: readonly string[]) => (items.length > 1 ? `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}` : items.join(""));

/** The email-security services the command needs, in a fixed order. */
function neededServices(opts: SourcesOptions): DetectionService[] {
  if (!opts.detections) return [];
  const asked = opts.services ?? ALL_SERVICES;
  return ALL_SERVICES.filter((s) => asked.includes(s));
}

type Credentials = { cw: ConnectWiseCredentials; lmpi?: LmpiCredentials; tmes?: EmailSecurityCredentials; hes?: EmailSecurityCredentials };

/**
 * Every credential the command needs, checked before anything starts: all missing variables in
 * one usage error, then every malformed URL in one, so a user fixes the environment in one go.
 */
function credentialsFromEnv(env: Env, license: boolean, services: readonly DetectionService[]): Credentials {
  const groups: { system: string; names: readonly string[] }[] = [
    { system: "ConnectWise", names: CW_ENV },
    ...(license ? [{ system: "the Licensing Management Platform", names: LMPI_ENV }] : []),
    ...services.map((s) => ({ system: SERVICES[s].name, names: EMAIL_SECURITY_ENV[s] })),
  ];
  const missing = groups.map((g) => ({ ...g, names: g.names.filter((k) => !env[k]?.trim()) })).filter((g) => g.names.length);
  if (missing.length) {
    const systems = listing(missing.map((g) => g.system));
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
  const email = Object.fromEntries(services.map((s) => [s, attempt(() => emailSecurityCredentials(s, env))]));
  if (problems.length || !cw) throw new UsageError(problems.join("\n"));
  return { cw, lmpi, ...email };
}

function connectWiseClient(creds: ConnectWiseCredentials, tuning: ConnectWiseTuning | undefined): ConnectWise {
  return new ConnectWiseClient(new ConnectWiseTransport(creds, { clock: systemClock, ...tuning }));
}

function lmpiClient(creds: LmpiCredentials): LicenseSource {
  // signatures carry the real time even under `--at` (DESIGN §8)
  return new LmpiClient(creds, { clock: systemClock, realNow: systemClock.now });
}

function detectionSource(creds: EmailSecurityCredentials, service: DetectionService): DetectionSource {
  return new EmailSecurityClient(creds, service, { clock: systemClock });
}

/**
 * ConnectWise and, with `license`, the Licensing Management Platform and, with `detections`, the
 * email-security services for a command: with
 * `--sandbox`, the embedded fakes seeded from the repository's `customers/`; otherwise the real
 * systems from the environment — never a silent fallback to fakes.
 */
export async function openSources(opts: SourcesOptions, io: CommandIO): Promise<SourcesSession> {
  const services = neededServices(opts);
  if (opts.sandbox) {
    // loaded only here: a production run never pulls the fakes in
    const { startSandboxes } = await import("../sandbox/start-sandboxes.ts");
    const sandboxes = await startSandboxes(resolve(io.cwd, opts.repo), { lmpi: opts.license, detections: services, now: opts.now });
    const { connectwise, lmpi, tmes, hes } = sandboxes;
    const session: SourcesSession = {
      cw: connectWiseClient({ url: connectwise.url, ...connectwise.credentials }, opts.connectwise),
      license: lmpi && lmpiClient({ url: lmpi.url, ...lmpi.credentials }),
      target: `the embedded sandbox (${new URL(connectwise.url).origin})`,
      close: () => sandboxes.close(),
      sandbox: { connectwise, lmpi },
    };
    for (const fake of [tmes, hes]) {
      if (!fake) continue;
      session[fake.service] = detectionSource({ url: fake.url, ...fake.credentials }, fake.service);
      session.sandbox![fake.service] = fake;
    }
    return session;
  }
  const creds = credentialsFromEnv(io.env, opts.license, services);
  const session: SourcesSession = {
    cw: connectWiseClient(creds.cw, opts.connectwise),
    license: creds.lmpi && lmpiClient(creds.lmpi),
    target: `ConnectWise at ${new URL(creds.cw.url).host}`,
    close: async () => undefined,
  };
  for (const s of services) session[s] = detectionSource(creds[s]!, s);
  return session;
}
