import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ApiError, UsageError } from "../../errors.ts";
import type { Clock } from "../../ports/clock.ts";
import { startLmpiSandbox, type LmpiSandbox } from "../../sandbox/lmpi-sandbox.ts";
import type { LmpiSummaryRow } from "../../sandbox/lmpi-seed.ts";
import { LmpiClient, lmpiOrigin, type LmpiClientOptions } from "./lmpi-client.ts";
import { LmpiApiError } from "./lmpi-error.ts";
import { lmpiSignature, LMPI_SUMMARY_PATH } from "./lmpi-signature.ts";

// the real clock of these tests: 2025-08-10T09:00:00Z
const NOW = Date.UTC(2025, 7, 10, 9);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const row = (customer: string, product: string, provisioned: number, used: number): LmpiSummaryRow => ({
  customer, city: "Milan", state: "MI", owned_by_vendor: "MSP", created_by_vendor: "MSP",
  product_name: product, service_plan: `${product} (Full)`, provisioned, used, unit: "Seats",
});

const ROWS = {
  "2025-07": [row("Acme Corporation", "Worry-Free Business Security Services", 50, 42), row("Sakura Trading KK", "Cloud Edge", 2, 2)],
  "2025-08": [row("Acme Corporation", "Worry-Free Business Security Services", 52, 47)],
};

function fakeClock(): Clock & { waits: number[] } {
  const waits: number[] = [];
  // a clock far from the real one, as under `--at`: signatures must not use it
  return { waits, now: () => Date.UTC(2031, 0, 1), sleep: async (ms) => void waits.push(ms) };
}

describe("LmpiClient against the LMPI sandbox", () => {
  let sb: LmpiSandbox;
  let clock: ReturnType<typeof fakeClock>;
  beforeAll(async () => {
    sb = await startLmpiSandbox({ rows: ROWS, now: () => NOW });
  });
  afterAll(() => sb.close());
  afterEach(() => {
    sb.requests.length = 0;
    sb.faults.length = 0;
  });

  const client = (over: Partial<LmpiClientOptions> & { secretKey?: string; accessToken?: string } = {}) => {
    clock = fakeClock();
    const { secretKey, accessToken, ...opts } = over;
    return new LmpiClient(
      { url: sb.url, accessToken: accessToken ?? sb.credentials.accessToken, secretKey: secretKey ?? sb.credentials.secretKey },
      { clock, realNow: () => NOW, random: () => 0.5, ...opts },
    );
  };

  it("reads a month's summary: one signed POST with the documented body, rows in port shape", async () => {
    const rows = await client().summary(2025, 7);
    expect(rows).toEqual([
      {
        customerName: "Acme Corporation", productName: "Worry-Free Business Security Services", servicePlan: "Worry-Free Business Security Services (Full)",
        provisioned: 50, used: 42, unit: "Seats", city: "Milan", state: "MI", ownedByVendor: "MSP", createdByVendor: "MSP",
      },
      expect.objectContaining({ customerName: "Sakura Trading KK", productName: "Cloud Edge", provisioned: 2, used: 2 }),
    ]);
    expect(sb.requests).toHaveLength(1);
    const [r] = sb.requests;
    expect(r).toMatchObject({ method: "POST", path: "/LMPI/v3/reports/summary", status: 200, posixTime: String(NOW / 1000) });
    expect(r.body).toEqual({ report_cycle_year: "2025", report_cycle_month: "07", language_code: "en-US" });
    expect(r.traceId).toMatch(UUID);
    expect((await client().summary(2025, 8)).map((x) => x.used)).toEqual([47]);
    expect(await client().summary(2025, 6)).toEqual([]);
  });

  it("signs with the real clock, not the clock that `--at` moves", async () => {
    await client().summary(2025, 7);
    expect(sb.requests[0].posixTime).toBe(String(NOW / 1000));
    expect(clock.now()).not.toBe(NOW);
  });

  it("a wrong secret: LMPI's AuthenticationFailureSignature as an actionable ApiError, without the secret or the signature", async () => {
    const secretKey = "wrong-secret-key-123";
    const traceId = "0b7d5c3e-2f4a-4c6b-8d9e-aabbccddeeff";
    const err = await client({ secretKey, traceId: () => traceId }).summary(2025, 7).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toBeInstanceOf(LmpiApiError);
    const e = err as LmpiApiError;
    expect(e).toMatchObject({ status: 401, code: "AuthenticationFailureSignature", retryable: false, method: "POST", path: LMPI_SUMMARY_PATH });
    expect(e.message).toMatch(/^LMPI POST \/LMPI\/v3\/reports\/summary answered 401 — AuthenticationFailureSignature/);
    expect(e.message).toContain("LMPI_SECRET_KEY");
    expect(e.message).toContain("clock");
    const sent = lmpiSignature(secretKey, NOW / 1000, { method: "POST", requestUri: LMPI_SUMMARY_PATH, body: JSON.stringify(sb.requests[0].body) });
    for (const text of [e.message, String(e.stack), JSON.stringify(e)]) {
      expect(text).not.toContain(secretKey);
      expect(text).not.toContain(sent);
    }
    expect(sb.requests).toHaveLength(1);
  });

  it("an unknown access token names LMPI_ACCESS_TOKEN", async () => {
    const err = (await client({ accessToken: "not-our-token" }).summary(2025, 7).catch((e: unknown) => e)) as LmpiApiError;
    expect(err).toMatchObject({ status: 401, code: "AuthenticationFailureAccessToken" });
    expect(err.message).toContain("LMPI_ACCESS_TOKEN");
  });

  it("a clock 20 minutes off is refused as AuthenticationFailurePosixTime, telling to fix the clock; 14 minutes passes", async () => {
    const err = (await client({ realNow: () => NOW - 20 * 60_000 }).summary(2025, 7).catch((e: unknown) => e)) as LmpiApiError;
    expect(err).toMatchObject({ status: 401, code: "AuthenticationFailurePosixTime", retryable: false });
    expect(err.message).toMatch(/clock is off.*NTP/);
    await expect(client({ realNow: () => NOW + 14 * 60_000 }).summary(2025, 7)).resolves.toHaveLength(2);
  });

  it("503 then success: retried after a backoff, re-signed with a new trace id", async () => {
    sb.faults.push({ kind: "status", status: 503 });
    let t = NOW;
    const rows = await client({ realNow: () => (t += 1000) }).summary(2025, 7);
    expect(rows).toHaveLength(2);
    expect(sb.requests.map((r) => r.status)).toEqual([503, 200]);
    expect(clock.waits).toEqual([250]);
    expect(sb.requests[1].traceId).not.toBe(sb.requests[0].traceId);
    expect(Number(sb.requests[1].posixTime)).toBeGreaterThan(Number(sb.requests[0].posixTime));
  });

  it("429 waits as long as Retry-After asks; a lost connection is retried too", async () => {
    sb.faults.push({ kind: "status", status: 429, retryAfter: "3" }, { kind: "reset" });
    await expect(client().summary(2025, 7)).resolves.toHaveLength(2);
    expect(sb.requests.map((r) => r.fault ?? r.status)).toEqual(["status", "reset", 200]);
    expect(clock.waits).toEqual([3000, 500]);
  });

  it("gives up after the retries with a retryable ApiError", async () => {
    for (let i = 0; i < 3; i++) sb.faults.push({ kind: "status", status: 502 });
    const err = (await client({ retries: 2 }).summary(2025, 7).catch((e: unknown) => e)) as LmpiApiError;
    expect(err).toMatchObject({ status: 502, retryable: true });
    expect(sb.requests).toHaveLength(3);
  });

  it("a month past LMPI's two-year retention is a clear, non-retried error", async () => {
    const err = (await client().summary(2023, 1).catch((e: unknown) => e)) as LmpiApiError;
    expect(err).toMatchObject({ status: 400, retryable: false });
    expect(err.message).toContain("only retained for two years");
    expect(sb.requests).toHaveLength(1);
  });

  it("keeps uneven rows row by row: no `used` is left out, an unreadable or absurd count marks only its row invalid", async () => {
    const acme = row("Acme Corporation", "Cloud Edge", 3, 2);
    const bad = (used: unknown, provisioned: unknown = 5) => ({ ...row("Bluewater", "Cloud App Security", 0, 0), used, provisioned }) as unknown as LmpiSummaryRow;
    sb.setRows({ "2025-07": [acme, bad(null), bad(undefined), bad(1e308), bad(-3), bad(2.5), bad("many"), bad(7, 1_000_001), bad(4, null), bad(" 12 ", "20")] });
    try {
      const rows = await client().summary(2025, 7);
      expect(rows[0]).toMatchObject({ customerName: "Acme Corporation", provisioned: 3, used: 2 });
      expect(rows[0].invalid).toBeUndefined();
      expect(rows.slice(1).map((r) => r.invalid ?? `${r.provisioned}/${r.used}`)).toEqual([
        "5/undefined",
        "5/undefined",
        "`used` is 1e+308, not a whole number of seats from 0 to 1,000,000",
        "`used` is -3, not a whole number of seats from 0 to 1,000,000",
        "`used` is 2.5, not a whole number of seats from 0 to 1,000,000",
        '`used` is "many", not a number',
        "`provisioned` is 1000001, not a whole number of seats from 0 to 1,000,000",
        "it has no `provisioned` count",
        "20/12",
      ]);
      expect(rows.every((r) => r.customerName && r.productName)).toBe(true);
    } finally {
      sb.setRows(ROWS);
    }
  });

  it.each([
    ["an HTML page", { kind: "html" } as const, /^LMPI POST \/LMPI\/v3\/reports\/summary answered 200 — UnreadableReport: the answer is `text\/html; charset=UTF-8`, not the JSON report \(an HTML page/],
    ["truncated JSON", { kind: "truncated" } as const, /answered 200 — UnreadableReport: the body is not valid JSON \(\d+ bytes; cut off in transit\?\)/],
  ])("a 200 with %s is UnreadableReport, never an empty report", async (_, fault, message) => {
    sb.faults.push(fault);
    const err = (await client().summary(2025, 7).catch((e: unknown) => e)) as LmpiApiError;
    expect(err).toMatchObject({ status: 200, code: "UnreadableReport" });
    expect(err.message).toMatch(message);
    expect(sb.requests).toHaveLength(1);
  });

  it("an empty `summary` is returned as no rows, for billing to tell from a month with customers", async () => {
    sb.faults.push({ kind: "empty-summary" });
    expect(await client().summary(2025, 7)).toEqual([]);
  });

  it("refuses bad report months before sending", async () => {
    await expect(client().summary(2025, 13)).rejects.toThrow(RangeError);
    expect(sb.requests).toHaveLength(0);
  });
});

describe("LMPI_URL", () => {
  it("is scheme, host and optional port; a trailing slash is fine", () => {
    expect(lmpiOrigin("https://cspi.trendmicro.com")).toBe("https://cspi.trendmicro.com");
    expect(lmpiOrigin("http://127.0.0.1:8080/")).toBe("http://127.0.0.1:8080");
  });

  it("a path is refused, saying cwsync appends the documented path", () => {
    expect(() => lmpiOrigin("https://cspi.trendmicro.com/LMPI/v3")).toThrow(UsageError);
    expect(() => lmpiOrigin("https://cspi.trendmicro.com/LMPI/v3")).toThrow(/appends \/LMPI\/v3\/reports\/summary/);
    expect(() => lmpiOrigin("cspi.trendmicro.com")).toThrow(/not a URL/);
  });
});

describe("LmpiClient against answers no LMPI gives", () => {
  async function rawServer(answer: (res: import("node:http").ServerResponse) => void) {
    const { createServer } = await import("node:http");
    const server = createServer((req, res) => {
      req.resume();
      req.on("end", () => answer(res));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as import("node:net").AddressInfo).port}`;
    return { url, close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))) };
  }
  const clientOf = (url: string) =>
    new LmpiClient({ url, accessToken: "access-token-0001", secretKey: "secret-key-0002" }, { clock: fakeClock(), realNow: () => NOW, random: () => 0.5, retries: 0 });

  it("stops reading a 200 past 32 MiB: UnreadableReport, never the report read whole", async () => {
    const chunk = Buffer.alloc(1 << 20, 0x20);
    const srv = await rawServer((res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.write('{"summary":[');
      let sent = 0;
      const pump = () => {
        while (sent < 64) {
          sent++;
          if (!res.write(chunk)) return void res.once("drain", pump);
        }
        res.end("]}");
      };
      res.on("close", () => (sent = 64));
      pump();
    });
    try {
      const err = await clientOf(srv.url).summary(2025, 7).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LmpiApiError);
      expect(err).toMatchObject({ status: 200, code: "UnreadableReport" });
      expect((err as Error).message).toContain("larger than 32 MiB");
    } finally {
      await srv.close();
    }
  });

  it("scrubs the secret key from what a row's problem quotes of a 200 report", async () => {
    const srv = await rawServer((res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ summary: [{ customer: "Acme", product_name: "WFBS", service_plan: "WFBS (Full)", provisioned: 5, used: "key secret-key-0002", unit: "Seats" }] }));
    });
    try {
      const rows = await clientOf(srv.url).summary(2025, 7);
      expect(rows[0]!.invalid).toContain("[redacted]");
      expect(rows[0]!.invalid).not.toContain("secret-key-0002");
    } finally {
      await srv.close();
    }
  });

  it("scrubs the access token and the secret key from an error body that echoes them", async () => {
    const srv = await rawServer((res) => {
      res.writeHead(400, { "content-type": "application/json" });
      res.end(JSON.stringify({ error_subject: "BadRequest", error_message: "got x-access-token access-token-0001 and key secret-key-0002 (encoded secret-key%2D0002)" }));
    });
    try {
      const err = (await clientOf(srv.url).summary(2025, 7).catch((e: unknown) => e)) as Error;
      expect(err.message).toContain("BadRequest");
      expect(err.message).not.toContain("access-token-0001");
      expect(err.message).not.toContain("secret-key-0002");
    } finally {
      await srv.close();
    }
  });
});
