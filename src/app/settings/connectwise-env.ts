import type { ConnectWiseCredentials } from "../../adapters/connectwise/transport.ts";
import { UsageError } from "../../errors.ts";

export const CW_ENV = ["CW_URL", "CW_COMPANY", "CW_PUBLIC_KEY", "CW_PRIVATE_KEY", "CW_CLIENT_ID"] as const;

/** ConnectWise credentials from the environment only; a missing one is a usage error naming the variables and `--sandbox`. */
export function connectWiseCredentials(env: Readonly<Record<string, string | undefined>>): ConnectWiseCredentials {
  const missing = CW_ENV.filter((k) => !env[k]?.trim());
  if (missing.length) {
    throw new UsageError(
      `ConnectWise is not configured: set ${missing.join(", ")} (see the README), or pass --sandbox to use the embedded fake ConnectWise`,
    );
  }
  const url = env.CW_URL!.trim();
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`CW_URL is not a URL; expected e.g. https://api-na.myconnectwise.net/v4_6_release/apis/3.0`);
  }
  const loopback = ["127.0.0.1", "localhost", "[::1]"].includes(parsed.hostname);
  if (parsed.protocol !== "https:" && !loopback) throw new UsageError("CW_URL must use https:// (ConnectWise refuses plain HTTP)");
  if (!/\/apis\/3\.0\/?$/.test(parsed.pathname)) {
    throw new UsageError(`CW_URL must include the API root, e.g. https://api-na.myconnectwise.net/v4_6_release/apis/3.0 (got ${parsed.origin}${parsed.pathname})`);
  }
  return {
    url,
    company: env.CW_COMPANY!.trim(),
    publicKey: env.CW_PUBLIC_KEY!.trim(),
    privateKey: env.CW_PRIVATE_KEY!.trim(),
    clientId: env.CW_CLIENT_ID!.trim(),
  };
}
