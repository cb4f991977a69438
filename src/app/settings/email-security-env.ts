import type { EmailSecurityCredentials } from "../../adapters/email-security/email-security-client.ts";
import { POLICY_EVENT_LOG_PATH, SERVICES } from "../../adapters/email-security/services.ts";
import { UsageError } from "../../errors.ts";
import type { DetectionService } from "../../ports/detection-source.ts";

/**
 * Trend Micro Email Security. `TMES_URL` is the regional API host (tmrm.md §5.3):
 * https://api.tmes.trendmicro.com (North America, Latin America, Asia Pacific),
 * https://api.tmes.trendmicro.eu (Europe, Middle East, Africa), https://api.tmes-anz.trendmicro.com
 * (Australia, New Zealand), https://api.tmems-jp.trendmicro.com (Japan),
 * https://api.tmes-sg.trendmicro.com (Singapore), https://api.tmes-in.trendmicro.com (India),
 * https://api.tmes-uae.trendmicro.com (UAE), https://api.tmes-uk.trendmicro.com (UK).
 */
export const TMES_ENV = ["TMES_URL", "TMES_ACCOUNT", "TMES_API_KEY"] as const;

/** Hosted Email Security: the same log API at its own host, with its own administrator account and key. */
export const HES_ENV = ["HES_URL", "HES_ACCOUNT", "HES_API_KEY"] as const;

/** The variables of each service. */
export const EMAIL_SECURITY_ENV: Readonly<Record<DetectionService, readonly string[]>> = { tmes: TMES_ENV, hes: HES_ENV };

function isLoopback(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/**
 * A service's credentials from the environment only; a missing one is a usage error naming the
 * variables and `--sandbox`. `<PREFIX>_URL` is scheme, host and optional port (cwsync appends the
 * log path) and returned as its origin. No message repeats a value beyond the URL's origin and path.
 */
export function emailSecurityCredentials(service: DetectionService, env: Readonly<Record<string, string | undefined>>): EmailSecurityCredentials {
  const { name, env: prefix, urlExample } = SERVICES[service];
  const missing = EMAIL_SECURITY_ENV[service].filter((k) => !env[k]?.trim());
  if (missing.length) {
    throw new UsageError(`${name} is not configured: set ${missing.join(", ")} (see the README), or pass --sandbox to use the embedded fakes`);
  }
  const variable = `${prefix}_URL`;
  let parsed: URL;
  try {
    parsed = new URL(env[variable]!.trim());
  } catch {
    throw new UsageError(`${variable} is not a URL; expected scheme, host and optional port, ${urlExample}`);
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") {
    throw new UsageError(`${variable} must be an https:// URL, ${urlExample} (got ${parsed.protocol})`);
  }
  if (parsed.protocol !== "https:" && !isLoopback(parsed.hostname)) {
    // Basic authentication over plain HTTP hands the API key to anyone on the path
    throw new UsageError(`${variable} must use https:// (plain http:// is allowed on loopback only), ${urlExample}`);
  }
  // userinfo and query are refused without being echoed: they are where a pasted secret would sit
  if (parsed.pathname !== "/" || parsed.search || parsed.hash || parsed.username || parsed.password) {
    throw new UsageError(
      `${variable} must be scheme, host and optional port only, ${urlExample} — cwsync appends ${POLICY_EVENT_LOG_PATH} (got ${parsed.origin}${parsed.pathname})`,
    );
  }
  return { url: parsed.origin, account: env[`${prefix}_ACCOUNT`]!.trim(), apiKey: env[`${prefix}_API_KEY`]!.trim() };
}
