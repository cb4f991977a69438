import { describe, expect, it } from "vitest";
import { ExitError, UsageError } from "../../errors.ts";
import { emailSecurityCredentials, HES_ENV, TMES_ENV } from "./email-security-env.ts";

const ACCOUNT = "msp-admin";
const KEY = "k3y-TMES-do-not-print-0123456789";
const tmes = (url: string | undefined) => ({ TMES_URL: url, TMES_ACCOUNT: ACCOUNT, TMES_API_KEY: KEY });

function usageError(run: () => unknown): UsageError {
  try {
    run();
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    expect((e as ExitError).code).toBe(64);
    expect((e as Error).message).not.toContain(KEY);
    return e as UsageError;
  }
  throw new Error("expected a usage error");
}

describe("emailSecurityCredentials", () => {
  it("lists the variables of each service", () => {
    expect(TMES_ENV).toEqual(["TMES_URL", "TMES_ACCOUNT", "TMES_API_KEY"]);
    expect(HES_ENV).toEqual(["HES_URL", "HES_ACCOUNT", "HES_API_KEY"]);
  });

  it("names every missing variable of the service (blank counts as missing) and the --sandbox flag", () => {
    const e = usageError(() => emailSecurityCredentials("tmes", { TMES_URL: "https://api.tmes.trendmicro.com", TMES_API_KEY: " " }));
    expect(e.message).toBe("Trend Micro Email Security is not configured: set TMES_ACCOUNT, TMES_API_KEY (see the README), or pass --sandbox to use the embedded fakes");
    const h = usageError(() => emailSecurityCredentials("hes", tmes("https://api.tmes.trendmicro.com")));
    expect(h.message).toMatch(/^Hosted Email Security is not configured: set HES_URL, HES_ACCOUNT, HES_API_KEY /);
  });

  it("refuses a URL with a path, since cwsync appends the log path itself", () => {
    const e = usageError(() => emailSecurityCredentials("tmes", tmes("https://api.tmes.trendmicro.com/api/v1/log/policyeventlog")));
    expect(e.message).toContain("TMES_URL must be scheme, host and optional port only, e.g. https://api.tmes.trendmicro.com");
    expect(e.message).toContain("cwsync appends /api/v1/log/policyeventlog (got https://api.tmes.trendmicro.com/api/v1/log/policyeventlog)");
  });

  it("refuses a query, a fragment or user info without repeating them", () => {
    for (const url of [`https://api.tmes.trendmicro.com/?key=${KEY}`, `https://api.tmes.trendmicro.com/#${KEY}`, `https://me:${KEY}@api.tmes.trendmicro.com`]) {
      expect(usageError(() => emailSecurityCredentials("tmes", tmes(url))).message, url).toContain("scheme, host and optional port only");
    }
  });

  it("refuses what is not an http(s) URL, and plain http:// beyond loopback (Basic auth would travel in clear)", () => {
    expect(usageError(() => emailSecurityCredentials("tmes", tmes("api.tmes.trendmicro.com"))).message).toMatch(/^TMES_URL is not a URL; expected scheme, host and optional port, e\.g\. https:\/\/api\.tmes\.trendmicro\.com/);
    expect(usageError(() => emailSecurityCredentials("tmes", tmes("ftp://api.tmes.trendmicro.com"))).message).toContain("TMES_URL must be an https:// URL");
    for (const url of ["http://api.tmes.trendmicro.com", "http://10.0.0.5:8080", "http://127.example.com"]) {
      expect(usageError(() => emailSecurityCredentials("tmes", tmes(url))).message, url).toContain("TMES_URL must use https://");
    }
    const hes = usageError(() => emailSecurityCredentials("hes", { HES_URL: "http://hes.example.net", HES_ACCOUNT: ACCOUNT, HES_API_KEY: KEY }));
    expect(hes.message).toContain("HES_URL must use https://");
  });

  it("accepts https anywhere and http on loopback, returning the origin and trimmed credentials", () => {
    expect(emailSecurityCredentials("tmes", { TMES_URL: " https://api.tmes.trendmicro.eu/ ", TMES_ACCOUNT: ` ${ACCOUNT}\n`, TMES_API_KEY: `${KEY} ` })).toEqual({
      url: "https://api.tmes.trendmicro.eu",
      account: ACCOUNT,
      apiKey: KEY,
    });
    expect(emailSecurityCredentials("hes", { HES_URL: "https://hes.example.net:8443", HES_ACCOUNT: ACCOUNT, HES_API_KEY: KEY }).url).toBe("https://hes.example.net:8443");
    for (const url of ["http://127.0.0.1:43123", "http://localhost:9", "http://[::1]:8080"]) {
      expect(emailSecurityCredentials("tmes", tmes(url)).url, url).toBe(url);
    }
  });
});
