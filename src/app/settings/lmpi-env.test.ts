import { describe, expect, it } from "vitest";
import { ExitError, UsageError } from "../../errors.ts";
import { LMPI_ENV, lmpiCredentials } from "./lmpi-env.ts";

const TOKEN = "tok-5ad0b0c5-aaaa-4bbb-8ccc-123456789abc";
const SECRET = "s3cr3t-LMPI-key-do-not-print";
const env = (url: string | undefined) => ({ LMPI_URL: url, LMPI_ACCESS_TOKEN: TOKEN, LMPI_SECRET_KEY: SECRET });

function usageError(run: () => unknown): UsageError {
  try {
    run();
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    expect((e as ExitError).code).toBe(64);
    const message = (e as Error).message;
    expect(message).not.toContain(TOKEN);
    expect(message).not.toContain(SECRET);
    return e as UsageError;
  }
  throw new Error("expected a usage error");
}

describe("lmpiCredentials", () => {
  it("names every missing variable (blank counts as missing) and the --sandbox flag", () => {
    const e = usageError(() => lmpiCredentials({ LMPI_ACCESS_TOKEN: TOKEN, LMPI_SECRET_KEY: "  " }));
    expect(e.message).toContain("set LMPI_URL, LMPI_SECRET_KEY ");
    expect(e.message).not.toContain("LMPI_ACCESS_TOKEN");
    expect(e.message).toContain("or pass --sandbox to use the embedded fakes");
    expect(usageError(() => lmpiCredentials({})).message).toContain(`set ${LMPI_ENV.join(", ")} `);
  });

  it("refuses a URL with a path, since cwsync appends the report path itself", () => {
    const e = usageError(() => lmpiCredentials(env("https://cspi.trendmicro.com/LMPI/v3/reports/summary")));
    expect(e.message).toContain("scheme, host and optional port only, e.g. https://cspi.trendmicro.com");
    expect(e.message).toContain("got https://cspi.trendmicro.com/LMPI/v3/reports/summary");
  });

  it("refuses a query, a fragment or user info without repeating them", () => {
    for (const url of [`https://cspi.trendmicro.com/?key=${SECRET}`, `https://cspi.trendmicro.com/#${SECRET}`, `https://me:${SECRET}@cspi.trendmicro.com`]) {
      expect(usageError(() => lmpiCredentials(env(url))).message, url).toContain("scheme, host and optional port only");
    }
  });

  it("refuses something that is not an http(s) URL, with an example", () => {
    expect(usageError(() => lmpiCredentials(env("cspi.trendmicro.com"))).message).toContain("LMPI_URL is not a URL; expected scheme, host and optional port, e.g. https://cspi.trendmicro.com");
    expect(usageError(() => lmpiCredentials(env("ftp://cspi.trendmicro.com"))).message).toContain("LMPI_URL must be an https:// URL");
  });

  it("refuses plain http:// beyond loopback", () => {
    for (const url of ["http://cspi.trendmicro.com", "http://10.0.0.5:8080", "http://127.example.com"]) {
      expect(usageError(() => lmpiCredentials(env(url))).message, url).toContain("LMPI_URL must use https://");
    }
  });

  it("accepts https anywhere and http on loopback, returning the origin and trimmed credentials", () => {
    expect(lmpiCredentials({ LMPI_URL: " https://cspi.trendmicro.com/ ", LMPI_ACCESS_TOKEN: ` ${TOKEN}\n`, LMPI_SECRET_KEY: SECRET })).toEqual({
      url: "https://cspi.trendmicro.com",
      accessToken: TOKEN,
      secretKey: SECRET,
    });
    expect(lmpiCredentials(env("https://lmpi.example.net:8443")).url).toBe("https://lmpi.example.net:8443");
    for (const url of ["http://127.0.0.1:43123", "http://localhost:9", "http://[::1]:8080", "http://127.1.2.3"]) {
      expect(lmpiCredentials(env(url)).url, url).toBe(url);
    }
  });
});
