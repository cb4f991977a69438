import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { ExitError, UsageError } from "../errors.ts";
import { startConnectWiseSandbox, type ConnectWiseSandbox } from "../sandbox/connectwise-sandbox.ts";
import { startEmailSecuritySandbox, type EmailSecuritySandbox } from "../sandbox/email-security-sandbox.ts";
import { startLmpiSandbox, type LmpiSandbox } from "../sandbox/lmpi-sandbox.ts";
import { seedLmpiFromCustomers } from "../sandbox/lmpi-seed.ts";
import { loadSandboxCustomers, seedFromCustomers } from "../sandbox/seed.ts";
import { openConnectWise } from "./connectwise-session.ts";
import { createDeps, type Deps } from "./deps.ts";
import type { Env } from "./settings.ts";
import { openSources, type SourcesSession } from "./sources-session.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const io = (env: Env = {}): Deps => createDeps({ stdout: () => undefined, stderr: () => undefined, env, cwd: ROOT });
const NOW = new Date();
const YEAR = NOW.getUTCFullYear();
const MONTH = NOW.getUTCMonth() + 1;
// acme-corp.yaml: trendMicro.customer and the lmp.productName of each product it maps
const ACME = "Acme Corporation";
const ACME_PRODUCTS = ["Trend Micro Email Security Advanced", "Worry-Free Business Security Services"];

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanup.splice(0).map((close) => close()));
});

async function open(...args: Parameters<typeof openSources>): Promise<SourcesSession> {
  const session = await openSources(...args);
  cleanup.push(() => session.close());
  return session;
}

async function usageError(promise: Promise<unknown>): Promise<UsageError> {
  const e = await promise.then(() => undefined, (e: unknown) => e);
  expect(e).toBeInstanceOf(UsageError);
  expect((e as ExitError).code).toBe(64);
  return e as UsageError;
}

describe("openSources with --sandbox", () => {
  it("serves this repository's customers from both fakes: acme-corp's LMP rows and its company", async () => {
    const s = await open({ sandbox: true, repo: ".", license: true }, io());
    const rows = await s.license!.summary(YEAR, MONTH);
    const acme = rows.filter((r) => r.customerName === ACME);
    expect(acme.map((r) => r.productName).sort()).toEqual(ACME_PRODUCTS);
    for (const r of acme) expect(r.used).toBeLessThanOrEqual(r.provisioned);
    // the rows are the seed's, for this month
    const { customers, global } = loadSandboxCustomers(ROOT);
    expect(rows.map((r) => [r.customerName, r.productName, r.provisioned, r.used])).toEqual(
      seedLmpiFromCustomers(customers, global)(YEAR, MONTH).map((r) => [r.customer, r.product_name, r.provisioned, r.used]),
    );
    const companies = await s.cw.findCompanies(["AcmeCorp"]);
    expect(companies.map((c) => c.name)).toEqual([ACME]);
    expect(s.target).toMatch(/^the embedded sandbox \(http:\/\/127\.0\.0\.1:\d+\)$/);
    expect(s.sandbox!.lmpi!.requests.map((r) => r.status)).toEqual([200]);
  });

  it("starts no LMPI when the command reads no licence counts, and needs no environment", async () => {
    const s = await open({ sandbox: true, repo: ROOT, license: false }, io());
    expect(s.license).toBeUndefined();
    expect(s.sandbox!.lmpi).toBeUndefined();
    expect((await s.cw.findCompanies(["AcmeCorp"])).length).toBe(1);
  });

  it("close stops both fakes", async () => {
    const s = await openSources({ sandbox: true, repo: ROOT, license: true }, io());
    const urls = [s.sandbox!.connectwise.url, s.sandbox!.lmpi!.url];
    await s.close();
    for (const url of urls) await expect(fetch(url)).rejects.toThrow();
  });

  it("starts no email-security fakes unless detections are asked for", async () => {
    const s = await open({ sandbox: true, repo: ROOT, license: false }, io());
    expect(s.tmes).toBeUndefined();
    expect(s.hes).toBeUndefined();
    expect(s.sandbox!.tmes).toBeUndefined();
    expect(s.sandbox!.hes).toBeUndefined();
  });

  it("with detections, starts the fake TMES and HES (both by default) and reads acme-corp's domain from them", async () => {
    const s = await open({ sandbox: true, repo: ROOT, license: false, detections: true }, io());
    const end = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000);
    const start = new Date(end.getTime() - 12 * 3_600_000);
    for (const service of ["tmes", "hes"] as const) {
      const fake = s.sandbox![service]!;
      expect(s[service]!.service).toBe(service);
      const events = await s[service]!.policyEvents({ domain: "acme.example", event: "spam", start, end });
      expect(events.length).toBeGreaterThan(0);
      expect(events).toEqual(fake.eventsBetween("acme.example", "spam", start, end));
    }
    expect(s.sandbox!.tmes!.url).not.toBe(s.sandbox!.hes!.url);
  });

  it("starts only the services asked for, and its fakes' clock is `now` (as under --at)", async () => {
    const AT = Date.UTC(2031, 0, 6, 7);
    const window = { domain: "acme.example", event: "spam" as const, start: new Date(AT - 12 * 3_600_000), end: new Date(AT) };
    const s = await open({ sandbox: true, repo: ROOT, license: false, detections: true, services: ["hes"], now: () => AT }, io());
    expect(s.tmes).toBeUndefined();
    expect(s.sandbox!.tmes).toBeUndefined();
    const events = await s.hes!.policyEvents(window);
    expect(events.length).toBeGreaterThan(0);
    expect(events).toEqual(s.sandbox!.hes!.eventsBetween("acme.example", "spam", window.start, window.end));
    // on the real clock, that window has not happened yet: no logs
    const real = await open({ sandbox: true, repo: ROOT, license: false, detections: true, services: ["hes"] }, io());
    expect(await real.hes!.policyEvents(window)).toEqual([]);
  });

  it("close stops the email-security fakes too", async () => {
    const s = await openSources({ sandbox: true, repo: ROOT, license: false, detections: true }, io());
    const urls = [s.sandbox!.tmes!.url, s.sandbox!.hes!.url];
    await s.close();
    for (const url of urls) await expect(fetch(url)).rejects.toThrow();
  });

  it("passes the limiter settings to the ConnectWise transport", async () => {
    const s = await open({ sandbox: true, repo: ROOT, license: false, connectwise: { concurrency: 1, ratePerSecond: 5, burst: 1 } }, io());
    for (let i = 0; i < 3; i++) await s.cw.findCompanies(["AcmeCorp"]);
    const at = s.sandbox!.connectwise.requests.map((r) => r.at);
    expect(at).toHaveLength(3);
    // at 5/s after a burst of one, the third request waits about 400 ms (the default burst of 50 would not wait)
    expect(at[2] - at[0]).toBeGreaterThanOrEqual(350);
  });
});

describe("openSources without --sandbox", () => {
  it("reports every missing variable of both systems in one usage error, with the flag", async () => {
    const e = await usageError(openSources({ sandbox: false, repo: ROOT, license: true }, io({ CW_URL: "" })));
    expect(e.message).toContain(
      "ConnectWise and the Licensing Management Platform are not configured: set CW_URL, CW_COMPANY, CW_PUBLIC_KEY, CW_PRIVATE_KEY, CW_CLIENT_ID, LMPI_URL, LMPI_ACCESS_TOKEN, LMPI_SECRET_KEY",
    );
    expect(e.message).toContain("or pass --sandbox to use the embedded fakes");
  });

  it("names only what is missing, and LMPI only when licence counts are read", async () => {
    const cwOnly = { CW_URL: "https://api-na.myconnectwise.net/v4_6_release/apis/3.0", CW_COMPANY: "x", CW_PUBLIC_KEY: "p", CW_PRIVATE_KEY: "secret-private", CW_CLIENT_ID: "c" };
    const e = await usageError(openSources({ sandbox: false, repo: ROOT, license: true }, io({ ...cwOnly, LMPI_URL: "https://cspi.trendmicro.com", LMPI_ACCESS_TOKEN: "t" })));
    expect(e.message).toMatch(/^the Licensing Management Platform is not configured: set LMPI_SECRET_KEY \(/);
    const cw = await usageError(openSources({ sandbox: false, repo: ROOT, license: false }, io({})));
    expect(cw.message).toMatch(/^ConnectWise is not configured: set CW_URL, CW_COMPANY, CW_PUBLIC_KEY, CW_PRIVATE_KEY, CW_CLIENT_ID \(/);
    expect(cw.message).not.toContain("LMPI");
    const wrapped = await usageError(openConnectWise({ sandbox: false, repo: ROOT }, io({})));
    expect(wrapped.message).toBe(cw.message);
  });

  it("with detections, the services' variables are in the same one usage error", async () => {
    const e = await usageError(openSources({ sandbox: false, repo: ROOT, license: true, detections: true }, io({})));
    expect(e.message).toMatch(
      /^ConnectWise, the Licensing Management Platform, Trend Micro Email Security and Hosted Email Security are not configured: set CW_URL, .*, LMPI_SECRET_KEY, TMES_URL, TMES_ACCOUNT, TMES_API_KEY, HES_URL, HES_ACCOUNT, HES_API_KEY \(see the README\), or pass --sandbox/,
    );
  });

  it("requires only the services the reports use", async () => {
    const cw = { CW_URL: "https://api-na.myconnectwise.net/v4_6_release/apis/3.0", CW_COMPANY: "x", CW_PUBLIC_KEY: "p", CW_PRIVATE_KEY: "secret-private", CW_CLIENT_ID: "c" };
    const hesOnly = await usageError(openSources({ sandbox: false, repo: ROOT, license: false, detections: true, services: ["hes"] }, io({ ...cw, HES_URL: "https://hes.example.net" })));
    expect(hesOnly.message).toMatch(/^Hosted Email Security is not configured: set HES_ACCOUNT, HES_API_KEY \(/);
    expect(hesOnly.message).not.toContain("TMES");
    const none = await open({ sandbox: false, repo: ROOT, license: false, detections: true, services: [] }, io(cw));
    expect(none.tmes).toBeUndefined();
    expect(none.hes).toBeUndefined();
    // without `detections`, `services` asks for nothing
    const off = await open({ sandbox: false, repo: ROOT, license: false, services: ["tmes"] }, io(cw));
    expect(off.tmes).toBeUndefined();
  });

  it("reports a malformed URL of each system together, without the secrets", async () => {
    const env = {
      CW_URL: "https://api-na.myconnectwise.net", CW_COMPANY: "x", CW_PUBLIC_KEY: "p", CW_PRIVATE_KEY: "secret-private", CW_CLIENT_ID: "c",
      LMPI_URL: "http://cspi.trendmicro.com", LMPI_ACCESS_TOKEN: "token-value", LMPI_SECRET_KEY: "secret-lmpi",
      TMES_URL: "https://api.tmes.trendmicro.com/api/v1", TMES_ACCOUNT: "admin", TMES_API_KEY: "secret-tmes",
    };
    const e = await usageError(openSources({ sandbox: false, repo: ROOT, license: true }, io(env)));
    expect(e.message).toContain("CW_URL must include the API root");
    expect(e.message).toContain("LMPI_URL must use https://");
    expect(e.message).not.toContain("TMES_URL");
    for (const secret of ["secret-private", "token-value", "secret-lmpi"]) expect(e.message).not.toContain(secret);
    const withTmes = await usageError(openSources({ sandbox: false, repo: ROOT, license: true, detections: true, services: ["tmes"] }, io(env)));
    expect(withTmes.message.split("\n")).toHaveLength(3);
    expect(withTmes.message).toContain("TMES_URL must be scheme, host and optional port only");
    expect(withTmes.message).not.toContain("secret-tmes");
  });

  describe("with what the configuration uses (`needs`)", () => {
    const cw = { CW_URL: "https://api-na.myconnectwise.net/v4_6_release/apis/3.0", CW_COMPANY: "x", CW_PUBLIC_KEY: "p", CW_PRIVATE_KEY: "secret-private", CW_CLIENT_ID: "c" };
    const all = { sandbox: false, repo: ROOT, license: true, detections: true } as const;

    it("requires only the sources a customer uses, and the usage error names those customers", async () => {
      const e = await usageError(openSources({ ...all, needs: { lmpi: ["a-co"], tmes: [], hes: ["b-co", "c-co"] } }, io(cw)));
      expect(e.message).toBe([
        "the Licensing Management Platform and Hosted Email Security are not configured: set LMPI_URL, LMPI_ACCESS_TOKEN, LMPI_SECRET_KEY, HES_URL, HES_ACCOUNT, HES_API_KEY (see the README), or pass --sandbox to use the embedded fakes",
        "  the Licensing Management Platform is used by the billing of 1 customer: a-co",
        "  Hosted Email Security is used by the hostedEmailSecurity reports of 2 customers: b-co and c-co",
      ].join("\n"));
      // ConnectWise is needed whatever the configuration uses
      const none = await usageError(openSources({ ...all, needs: { lmpi: [], tmes: [], hes: [] } }, io({})));
      expect(none.message).toMatch(/^ConnectWise is not configured: set CW_URL, CW_COMPANY, CW_PUBLIC_KEY, CW_PRIVATE_KEY, CW_CLIENT_ID \(see the README\), or pass --sandbox[^\n]*$/);
    });

    it("a source no customer uses stands in when it is not configured: each call fails naming its missing or malformed variables", async () => {
      const env = { ...cw, LMPI_URL: "https://cspi.trendmicro.com", HES_URL: "http://hes.example.net", HES_ACCOUNT: "admin", HES_API_KEY: "secret-hes" };
      const s = await open({ ...all, needs: { lmpi: [], tmes: [], hes: [] } }, io(env));
      expect(Object.keys(s.unconfigured).sort()).toEqual(["hes", "lmpi", "tmes"]);
      await expect(s.license!.summary(YEAR, MONTH)).rejects.toThrow(
        "the Licensing Management Platform is not configured: set LMPI_ACCESS_TOKEN, LMPI_SECRET_KEY in cwsync's environment (the daemon reads it when it starts; see the README)",
      );
      const q = { domain: "acme.example", event: "spam" as const, start: new Date(Date.now() - 3_600_000), end: new Date() };
      await expect(s.tmes!.policyEvents(q)).rejects.toThrow(/^Trend Micro Email Security is not configured: set TMES_URL, TMES_ACCOUNT, TMES_API_KEY in cwsync's environment/);
      await expect(s.hes!.policyEvents(q)).rejects.toThrow(/^Hosted Email Security is not configured: HES_URL must use https:\/\//);
      expect(JSON.stringify(s.unconfigured)).not.toContain("secret-hes");
      expect(s.tmes!.service).toBe("tmes");
    });
  });

  describe("against real-looking endpoints from the environment", () => {
    let cw: ConnectWiseSandbox | undefined;
    let lmpi: LmpiSandbox | undefined;
    let tmes: EmailSecuritySandbox | undefined;
    afterEach(async () => {
      await Promise.all([cw?.close(), lmpi?.close(), tmes?.close()]);
      cw = lmpi = tmes = undefined;
    });

    it("reads TMES with TMES_ACCOUNT and TMES_API_KEY over Basic authentication", async () => {
      const { customers, global } = loadSandboxCustomers(ROOT);
      cw = await startConnectWiseSandbox({ seed: seedFromCustomers(customers, global) });
      tmes = await startEmailSecuritySandbox({ service: "tmes", credentials: { account: "env-admin", apiKey: "envTmesKey" } });
      const env = {
        CW_URL: cw.url, CW_COMPANY: cw.credentials.company, CW_PUBLIC_KEY: cw.credentials.publicKey, CW_PRIVATE_KEY: cw.credentials.privateKey, CW_CLIENT_ID: cw.credentials.clientId,
        TMES_URL: tmes.url, TMES_ACCOUNT: "env-admin", TMES_API_KEY: "envTmesKey",
      };
      const s = await open({ sandbox: false, repo: ROOT, license: false, detections: true, services: ["tmes"] }, io(env));
      expect(s.hes).toBeUndefined();
      const end = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000);
      const q = { domain: "acme.example", event: "threat" as const, start: new Date(end.getTime() - 24 * 3_600_000), end };
      const events = await s.tmes!.policyEvents(q);
      expect(events.length).toBeGreaterThan(0);
      expect(events).toEqual(tmes.eventsBetween(q.domain, q.event, q.start, q.end));
      const wrong = await open({ sandbox: false, repo: ROOT, license: false, detections: true, services: ["tmes"] }, io({ ...env, TMES_API_KEY: "notTheKey" }));
      await expect(wrong.tmes!.policyEvents(q)).rejects.toThrow(/answered 401 .*check TMES_ACCOUNT\/TMES_API_KEY/);
    });

    it("signs LMPI requests and authenticates to ConnectWise with the variables' values", async () => {
      const { customers, global } = loadSandboxCustomers(ROOT);
      cw = await startConnectWiseSandbox({ seed: seedFromCustomers(customers, global), credentials: { privateKey: "envPrivateKey" } });
      lmpi = await startLmpiSandbox({ rows: seedLmpiFromCustomers(customers, global), credentials: { secretKey: "envSecretKey" } });
      const env = {
        CW_URL: cw.url, CW_COMPANY: cw.credentials.company, CW_PUBLIC_KEY: cw.credentials.publicKey, CW_PRIVATE_KEY: "envPrivateKey", CW_CLIENT_ID: cw.credentials.clientId,
        LMPI_URL: lmpi.url, LMPI_ACCESS_TOKEN: lmpi.credentials.accessToken, LMPI_SECRET_KEY: "envSecretKey",
      };
      const s = await open({ sandbox: false, repo: ROOT, license: true }, io(env));
      expect(s.sandbox).toBeUndefined();
      expect(s.target).toBe(`ConnectWise at ${new URL(cw.url).host}`);
      const acme = (await s.license!.summary(YEAR, MONTH)).filter((r) => r.customerName === ACME);
      expect(acme.map((r) => r.productName).sort()).toEqual(ACME_PRODUCTS);
      expect((await s.cw.findCompanies(["AcmeCorp"])).map((c) => c.name)).toEqual([ACME]);
      expect(lmpi.requests.map((r) => r.status)).toEqual([200]);
      expect(cw.requests.every((r) => r.authenticated)).toBe(true);
      // a configured source is opened for real even when no customer uses it
      const unused = await open({ sandbox: false, repo: ROOT, license: true, needs: { lmpi: [], tmes: [], hes: [] } }, io(env));
      expect(unused.unconfigured).toEqual({});
      expect((await unused.license!.summary(YEAR, MONTH)).length).toBeGreaterThan(0);
      expect(lmpi.requests.map((r) => r.status)).toEqual([200, 200]);

      // a wrong secret is refused by the fake: the values really are the ones used
      const wrong = await open({ sandbox: false, repo: ROOT, license: true }, io({ ...env, LMPI_SECRET_KEY: "notTheKey" }));
      await expect(wrong.license!.summary(YEAR, MONTH)).rejects.toThrow();
    });
  });
});
