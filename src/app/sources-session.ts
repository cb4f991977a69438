import { resolve } from "node:path";
import { ConnectWiseClient } from "../adapters/connectwise/connectwise-client.ts";
import { ConnectWiseTransport, type ConnectWiseCredentials, type TransportOptions } from "../adapters/connectwise/transport.ts";
import { EmailSecurityClient, type EmailSecurityCredentials } from "../adapters/email-security/email-security-client.ts";
import { RetryBudget } from "../adapters/retry-budget.ts";
import { LmpiClient, type LmpiCredentials } from "../adapters/lmpi/lmpi-client.ts";
import { UsageError } from "../errors.ts";
import type { ConnectWise } from "../ports/connectwise.ts";
import type { DetectionService, DetectionSource } from "../ports/detection-source.ts";
import type { LicenseSource } from "../ports/license-source.ts";
import type { ConnectWiseSandbox } from "../sandbox/connectwise-sandbox.ts";
import type { EmailSecuritySandbox } from "../sandbox/email-security-sandbox.ts";
import type { LmpiSandbox } from "../sandbox/lmpi-sandbox.ts";
import { connectWiseCredentials, CW_ENV } from "./settings/connectwise-env.ts";
import { emailSecurityCredentials } from "./settings/email-security-env.ts";
import { systemClock } from "../adapters/clock-system.ts";
import type { Deps } from "./deps.ts";
import type { Env } from "./settings.ts";
import { lmpiCredentials } from "./settings/lmpi-env.ts";
import { sandboxFaultsFromEnv } from "./settings/sandbox-faults-env.ts";
import { listing, SOURCE_ENV, SOURCE_NAMES, SOURCE_TEXT, usedBy, type SourceName, type SourceNeeds } from "./sources-env.ts";

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
   * What the configuration reads (`sourceNeeds`). Given, a source the command reads is required
   * only when a customer uses it, and the usage error names those customers; any other is opened
   * when its variables are set, and otherwise stands in as a source whose every call fails naming
   * them — so a customer that needs it after all (kept on its last valid config, back from a
   * suspension, added by a commit the daemon pulls later) fails alone while the others proceed.
   * Absent, every source the command reads is required.
   */
  needs?: SourceNeeds;
  /**
   * With `--sandbox`: the email-security fakes' clock, epoch ms (default the real clock). A command
   * run `--at` an instant passes it, so the fakes serve that moment's 72-hour window.
   */
  now?: () => number;
  connectwise?: ConnectWiseTuning;
  /** ConnectWise's client made before the session (`earlyConnectWise`): used as the session's, so that all its requests share one limiter. */
  early?: EarlyConnectWise;
}

/** A ConnectWise client made before the configuration is read, and its retry budget. */
export interface EarlyConnectWise {
  cw: ConnectWise;
  budget: RetryBudget;
}

/**
 * ConnectWise's client before anything else is read (a reconcile starts its verification reads
 * with it while the files load), when its variables are all set and well-formed; otherwise
 * undefined, and `openSources` reports them as always, in its order.
 */
export function earlyConnectWise(env: Env, tuning?: ConnectWiseTuning): EarlyConnectWise | undefined {
  if (CW_ENV.some((k) => !env[k]?.trim())) return undefined;
  try {
    const budget = new RetryBudget();
    return { cw: connectWiseClient(connectWiseCredentials(env), tuning, budget), budget };
  } catch (e) {
    if (e instanceof UsageError) return undefined;
    throw e;
  }
}

export interface SourcesSession {
  cw: ConnectWise;
  /** Present when `license` was asked for (with `needs`, possibly a stand-in: see `unconfigured`). */
  license?: LicenseSource;
  /** Present when `detections` was asked for and `services` includes Trend Micro Email Security. */
  tmes?: DetectionSource;
  /** Present when `detections` was asked for and `services` includes Hosted Email Security. */
  hes?: DetectionSource;
  /** Where the ConnectWise calls go, for output: never credentials. */
  target: string;
  /** The sources that stand in for a missing or malformed configuration (with `needs`), and why: the message each of their calls fails with. */
  unconfigured: Partial<Record<SourceName, string>>;
  close(): Promise<void>;
  /**
   * Each source's retries in the current cycle. A one-shot command uses them once; the daemon
   * resets them at the start of each cycle and reads which were spent (the source unavailable).
   */
  budgets: Record<"connectwise" | SourceName, RetryBudget>;
  /** The embedded fakes, with `--sandbox`: tests and the benchmark read their recorded requests. */
  sandbox?: { connectwise: ConnectWiseSandbox; lmpi?: LmpiSandbox; tmes?: EmailSecuritySandbox; hes?: EmailSecuritySandbox };
}


const ALL_SERVICES: readonly DetectionService[] = ["tmes", "hes"];

/** The sources the command reads, in a fixed order. */
function askedSources(opts: SourcesOptions): SourceName[] {
  const services = opts.detections ? (opts.services ?? ALL_SERVICES) : [];
  return SOURCE_NAMES.filter((s) => (s === "lmpi" ? opts.license : services.includes(s)));
}

type Credentials = { cw: ConnectWiseCredentials; lmpi?: LmpiCredentials; tmes?: EmailSecurityCredentials; hes?: EmailSecurityCredentials };

function readSource(s: SourceName, env: Env): LmpiCredentials | EmailSecurityCredentials {
  return s === "lmpi" ? lmpiCredentials(env) : emailSecurityCredentials(s, env);
}

/**
 * ConnectWise's credentials and those of the `required` sources, checked before anything starts:
 * all missing variables in one usage error (with, given `needs`, the customers that use each
 * source), then every malformed URL in one, so a user fixes the environment in one go.
 */
function credentialsFromEnv(env: Env, required: readonly SourceName[], needs?: SourceNeeds): Credentials {
  const groups = [
    { source: undefined, system: "ConnectWise", names: CW_ENV as readonly string[] },
    ...required.map((s) => ({ source: s, system: SOURCE_TEXT[s].system, names: SOURCE_ENV[s] })),
  ];
  const missing = groups.map((g) => ({ ...g, names: g.names.filter((k) => !env[k]?.trim()) })).filter((g) => g.names.length);
  if (missing.length) {
    const systems = listing(missing.map((g) => g.system));
    const users = needs ? missing.flatMap((g) => (g.source && needs[g.source].length ? [`\n  ${usedBy(g.source, needs[g.source])}`] : [])) : [];
    throw new UsageError(
      `${systems} ${missing.length > 1 ? "are" : "is"} not configured: set ${missing.flatMap((g) => g.names).join(", ")} (see the README), or pass --sandbox to use the embedded fakes${users.join("")}`,
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
  const sources = Object.fromEntries(required.map((s) => [s, attempt(() => readSource(s, env))]));
  if (problems.length || !cw) throw new UsageError(problems.join("\n"));
  return { cw, ...sources };
}

/**
 * The usage error (exit 64) an online command stops with when ConnectWise, or a source that a
 * customer of `needs` uses, is not configured; nothing when all of them are. For a check before
 * anything starts (`cwsync run` before it binds its port or clones the repository).
 */
export function requireCredentials(env: Env, needs: SourceNeeds): void {
  credentialsFromEnv(env, SOURCE_NAMES.filter((s) => needs[s].length > 0), needs);
}

/** A source's credentials when all its variables are set and well-formed; otherwise why not, naming them. */
function optionalCredentials(s: SourceName, env: Env): LmpiCredentials | EmailSecurityCredentials | string {
  const { system } = SOURCE_TEXT[s];
  const missing = SOURCE_ENV[s].filter((k) => !env[k]?.trim());
  if (missing.length) return `${system} is not configured: set ${missing.join(", ")} in cwsync's environment (the daemon reads it when it starts; see the README)`;
  try {
    return readSource(s, env);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    return `${system} is not configured: ${e.message}`;
  }
}

/**
 * The sources of a session that stand in for missing credentials although customers of `needs`
 * use them, each with its missing variables and (the first 20 of) those customers: for a log line.
 */
export function unconfiguredInUse(session: Pick<SourcesSession, "unconfigured">, needs: SourceNeeds, env: Env) {
  return SOURCE_NAMES.flatMap((s) => {
    const detail = session.unconfigured[s];
    if (!detail || needs[s].length === 0) return [];
    const variables = SOURCE_ENV[s].filter((k) => !env[k]?.trim());
    return [{ source: SOURCE_TEXT[s].system, variables, customers: needs[s].slice(0, 20), count: needs[s].length, detail }];
  });
}

/** A source that is not configured: every call fails with `why`, so only the customers that read it fail, saying so. */
function unconfiguredLicense(why: string): LicenseSource {
  return { summary: () => Promise.reject(new Error(why)) };
}

function unconfiguredDetections(service: DetectionService, why: string): DetectionSource {
  return { service, policyEvents: () => Promise.reject(new Error(why)) };
}

type Budgets = SourcesSession["budgets"];

const newBudgets = (): Budgets => ({ connectwise: new RetryBudget(), lmpi: new RetryBudget(), tmes: new RetryBudget(), hes: new RetryBudget() });

// The HTTP clients wait on real services in real time (backoff, Retry-After, signatures), whatever clock the command runs on.
function connectWiseClient(creds: ConnectWiseCredentials, tuning: ConnectWiseTuning | undefined, budget: RetryBudget): ConnectWise {
  return new ConnectWiseClient(new ConnectWiseTransport(creds, { clock: systemClock, ...tuning, budget }));
}

function lmpiClient(creds: LmpiCredentials, budget: RetryBudget): LicenseSource {
  // signatures carry the real time even under `--at` (DESIGN §8)
  return new LmpiClient(creds, { clock: systemClock, realNow: systemClock.now, budget });
}

function detectionSource(creds: EmailSecurityCredentials, service: DetectionService, lagMs: number | undefined, budget: RetryBudget): DetectionSource {
  return new EmailSecurityClient(creds, service, { clock: systemClock, lagMs, budget });
}

/**
 * ConnectWise and, with `license`, the Licensing Management Platform and, with `detections`, the
 * email-security services for a command: with `--sandbox`, the embedded fakes seeded from the
 * repository's `customers/`; otherwise the real systems from the environment — never a silent
 * fallback to fakes. With `needs`, only what the configuration uses is required (see `needs`).
 */
export async function openSources(opts: SourcesOptions, deps: Pick<Deps, "cwd" | "settings">): Promise<SourcesSession> {
  const { settings } = deps;
  const asked = askedSources(opts);
  const services = asked.filter((s): s is DetectionService => s !== "lmpi");
  if (opts.sandbox) {
    // loaded only here: a production run never pulls the fakes in
    const { startSandboxes } = await import("../sandbox/start-sandboxes.ts");
    const { FAULT_PRESET_NAMES } = await import("../sandbox/fault-presets.ts");
    const faults = sandboxFaultsFromEnv(settings.env, FAULT_PRESET_NAMES);
    const sandboxes = await startSandboxes(resolve(deps.cwd, opts.repo), { lmpi: opts.license, detections: services, now: opts.now, faults });
    const { connectwise, lmpi, tmes, hes } = sandboxes;
    const budgets = newBudgets();
    const session: SourcesSession = {
      cw: connectWiseClient({ url: connectwise.url, ...connectwise.credentials }, opts.connectwise, budgets.connectwise),
      license: lmpi && lmpiClient({ url: lmpi.url, ...lmpi.credentials }, budgets.lmpi),
      budgets,
      target: `the embedded sandbox (${new URL(connectwise.url).origin})`,
      unconfigured: {},
      close: () => sandboxes.close(),
      sandbox: { connectwise, lmpi },
    };
    for (const fake of [tmes, hes]) {
      if (!fake) continue;
      session[fake.service] = detectionSource({ url: fake.url, ...fake.credentials }, fake.service, settings.pollLagMs, budgets[fake.service]);
      session.sandbox![fake.service] = fake;
    }
    return session;
  }
  const needs = opts.needs;
  const required = needs ? asked.filter((s) => needs[s].length > 0) : asked;
  const creds = credentialsFromEnv(settings.env, required, needs);
  const budgets = newBudgets();
  if (opts.early) budgets.connectwise = opts.early.budget;
  const session: SourcesSession = {
    cw: opts.early?.cw ?? connectWiseClient(creds.cw, opts.connectwise, budgets.connectwise),
    budgets,
    target: `ConnectWise at ${new URL(creds.cw.url).host}`,
    unconfigured: {},
    close: async () => undefined,
  };
  for (const s of asked) {
    const got = creds[s] ?? optionalCredentials(s, settings.env);
    if (typeof got === "string") session.unconfigured[s] = got;
    if (s === "lmpi") session.license = typeof got === "string" ? unconfiguredLicense(got) : lmpiClient(got as LmpiCredentials, budgets.lmpi);
    else session[s] = typeof got === "string" ? unconfiguredDetections(s, got) : detectionSource(got as EmailSecurityCredentials, s, settings.pollLagMs, budgets[s]);
  }
  return session;
}
