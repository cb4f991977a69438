import type { LmpiCredentials } from "../../adapters/lmpi/lmpi-client.ts";
import { LMPI_SUMMARY_PATH } from "../../adapters/lmpi/lmpi-signature.ts";
import { UsageError } from "../../errors.ts";

export const LMPI_ENV = ["LMPI_URL", "LMPI_ACCESS_TOKEN", "LMPI_SECRET_KEY"] as const;

const EXAMPLE = "https://cspi.trendmicro.com";

function isLoopback(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/**
 * Licensing Management Platform credentials from the environment only; a missing one is a usage
 * error naming the variables and `--sandbox`. `LMPI_URL` is scheme, host and optional port
 * (cwsync appends the report path) and returned as its origin. No message repeats a value beyond
 * the URL's origin and path.
 */
export function lmpiCredentials(env: Readonly<Record<string, string | undefined>>): LmpiCredentials {
  const missing = LMPI_ENV.filter((k) => !env[k]?.trim());
  if (missing.length) {
    throw new UsageError(
      `the Licensing Management Platform is not configured: set ${missing.join(", ")} (see the README), or pass --sandbox to use the embedded fakes`,
    );
  }
  let parsed: URL;
  try {
    parsed = new URL(env.LMPI_URL!.trim());
  } catch {
    throw new UsageError(`LMPI_URL is not a URL; expected scheme, host and optional port, e.g. ${EXAMPLE}`);
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") {
    throw new UsageError(`LMPI_URL must be an https:// URL, e.g. ${EXAMPLE} (got ${parsed.protocol})`);
  }
  if (parsed.protocol !== "https:" && !isLoopback(parsed.hostname)) {
    // the report is signed, not encrypted: over plain HTTP anyone on the path reads every customer's seat counts
    throw new UsageError(`LMPI_URL must use https:// (plain http:// is allowed on loopback only), e.g. ${EXAMPLE}`);
  }
  // userinfo and query are refused without being echoed: they are where a pasted secret would sit
  if (parsed.pathname !== "/" || parsed.search || parsed.hash || parsed.username || parsed.password) {
    throw new UsageError(
      `LMPI_URL must be scheme, host and optional port only, e.g. ${EXAMPLE} — cwsync appends ${LMPI_SUMMARY_PATH} (got ${parsed.origin}${parsed.pathname})`,
    );
  }
  return { url: parsed.origin, accessToken: env.LMPI_ACCESS_TOKEN!.trim(), secretKey: env.LMPI_SECRET_KEY!.trim() };
}
