import { createHash, createHmac, randomUUID } from "node:crypto";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UsageError } from "../errors.ts";
import { startLmpiSandbox, type LmpiSandbox } from "./lmpi-sandbox.ts";

const NOW = Date.UTC(2025, 7, 10, 9);
const PATH = "/LMPI/v3/reports/summary";
const JULY = '{"report_cycle_year":"2025","report_cycle_month":"07"}';

/** A request signed by hand, independently of the client's signing code. */
function signed(creds: { accessToken: string; secretKey: string }, o: { uri?: string; body?: string; time?: number; signBody?: string } = {}) {
  const uri = o.uri ?? PATH;
  const body = o.body ?? JULY;
  const time = String(o.time ?? NOW / 1000);
  const signBody = o.signBody ?? body;
  const md5 = signBody ? createHash("md5").update(signBody).digest("base64") : "";
  const signature = createHmac("sha256", creds.secretKey).update(`${time}POST${uri}${md5}`).digest("base64");
  return {
    uri, body,
    headers: { "content-type": "application/json", "x-access-token": creds.accessToken, "x-posix-time": time, "x-traceid": randomUUID(), "x-signature": signature } as Record<string, string>,
  };
}

describe("LMPI sandbox", () => {
  let sb: LmpiSandbox;
  beforeAll(async () => {
    sb = await startLmpiSandbox({ now: () => NOW, rows: { "2025-07": [{ customer: "Acme Corporation", city: "", state: "", owned_by_vendor: "MSP", created_by_vendor: "MSP", product_name: "Cloud Edge", service_plan: "Cloud Edge (Full)", provisioned: 3, used: 2, unit: "Appliances" }] } });
  });
  afterAll(() => sb.close());

  async function post(req: { uri: string; body: string; headers: Record<string, string> }, method = "POST") {
    const res = await request(`${sb.url}${req.uri}`, { method: method as "POST", headers: req.headers, body: method === "GET" ? undefined : req.body });
    return { status: res.statusCode, json: (await res.body.json()) as Record<string, unknown> };
  }

  it("listens on 127.0.0.1 only", async () => {
    expect(sb.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await expect(startLmpiSandbox({ listen: { host: "0.0.0.0" } })).rejects.toThrow(UsageError);
  });

  it("answers a correctly signed request with the documented `summary` rows", async () => {
    const r = await post(signed(sb.credentials));
    expect(r).toEqual({ status: 200, json: { summary: [expect.objectContaining({ customer: "Acme Corporation", product_name: "Cloud Edge", provisioned: 3, used: 2 })] } });
  });

  it("each missing header gets its documented 400 error body", async () => {
    const cases = { "x-access-token": "MissingHeaderAccessToken", "x-posix-time": "MissingHeaderPosixTime", "x-signature": "MissingHeaderSignature", "x-traceid": "MissingHeaderTraceID" };
    for (const [header, subject] of Object.entries(cases)) {
      const req = signed(sb.credentials);
      delete req.headers[header];
      const r = await post(req);
      expect(r.status, header).toBe(400);
      expect(r.json).toEqual({ error_subject: subject, error_message: expect.any(String) });
    }
  });

  it("415 InvalidHeaderContentType when the body is not declared JSON", async () => {
    const req = signed(sb.credentials);
    req.headers["content-type"] = "text/plain";
    expect(await post(req)).toMatchObject({ status: 415, json: { error_subject: "InvalidHeaderContentType" } });
  });

  it("401 for an unknown or malformed access token", async () => {
    expect((await post(signed({ ...sb.credentials, accessToken: "someone-else" }))).json.error_subject).toBe("AuthenticationFailureAccessToken");
    expect((await post(signed({ ...sb.credentials, accessToken: "has space" }))).json.error_subject).toBe("InvalidHeaderAccessToken");
  });

  it("recomputes the signature: a wrong secret, a changed body, a different URI all fail", async () => {
    const subject = async (req: ReturnType<typeof signed>) => {
      const r = await post(req);
      return `${r.status} ${String(r.json.error_subject)}`;
    };
    expect(await subject(signed({ ...sb.credentials, secretKey: "wrong" }))).toBe("401 AuthenticationFailureSignature");
    expect(await subject(signed(sb.credentials, { body: JULY.replace("07", "08"), signBody: JULY }))).toBe("401 AuthenticationFailureSignature");
    // the query is part of the signed request URI
    const withQuery = signed(sb.credentials, { uri: `${PATH}?x=1` });
    expect(await subject({ ...withQuery, uri: `${PATH}?x=2` })).toBe("401 AuthenticationFailureSignature");
    expect(await subject(withQuery)).toBe("200 undefined");
  });

  it("rejects timestamps more than 15 minutes from its clock, either way", async () => {
    const at = (seconds: number) => post(signed(sb.credentials, { time: NOW / 1000 + seconds }));
    for (const off of [-901, 901, -86_400]) expect((await at(off)).json.error_subject, String(off)).toBe("AuthenticationFailurePosixTime");
    for (const off of [-900, 900]) expect((await at(off)).status, String(off)).toBe(200);
  });

  it("validates the body: report_cycle_year/month as strings YYYY and MM", async () => {
    for (const body of ['{"report_cycle_year":"2025"}', '{"report_cycle_year":2025,"report_cycle_month":"07"}', '{"report_cycle_year":"2025","report_cycle_month":"7"}']) {
      const r = await post(signed(sb.credentials, { body }));
      expect(r.status, body).toBe(400);
      expect(r.json.error_subject).toBe("InvalidParameter");
    }
  });

  it("unknown paths 404 and other methods 405, before authentication", async () => {
    expect((await post(signed(sb.credentials, { uri: "/LMPI/v3/reports/other" }))).status).toBe(404);
    expect((await post(signed(sb.credentials), "PUT")).status).toBe(405);
  });

  it("answer faults, one request each: rows with fields replaced or left out (matching rows only), an empty summary, HTML, truncated JSON", async () => {
    const other = { customer: "Bluewater", city: "", state: "", owned_by_vendor: "MSP", created_by_vendor: "MSP", product_name: "Cloud Edge", service_plan: "Cloud Edge (Full)", provisioned: 5, used: 5, unit: "Appliances" };
    sb.setRows({ "2025-07": [{ customer: "Acme Corporation", city: "", state: "", owned_by_vendor: "MSP", created_by_vendor: "MSP", product_name: "Cloud Edge", service_plan: "Cloud Edge (Full)", provisioned: 3, used: 2, unit: "Appliances" }, other] });
    sb.faults.push(
      { kind: "rows", customer: "acme corporation", set: { used: undefined, provisioned: 1e308 } },
      { kind: "empty-summary" }, { kind: "html" }, { kind: "truncated" },
    );
    const raw = async () => {
      const req = signed(sb.credentials);
      const res = await request(`${sb.url}${req.uri}`, { method: "POST", headers: req.headers, body: req.body });
      return { status: res.statusCode, type: String(res.headers["content-type"]), text: await res.body.text() };
    };
    const changed = JSON.parse((await raw()).text) as { summary: Record<string, unknown>[] };
    expect("used" in changed.summary[0]).toBe(false);
    expect(changed.summary[0].provisioned).toBe(1e308);
    expect(changed.summary[1]).toEqual(other);
    expect(JSON.parse((await raw()).text)).toEqual({ summary: [] });
    const html = await raw();
    expect([html.status, html.type]).toEqual([200, "text/html; charset=UTF-8"]);
    const cut = await raw();
    expect([cut.status, cut.type]).toEqual([200, "application/json; charset=utf-8"]);
    expect(() => JSON.parse(cut.text)).toThrow();
    expect(sb.requests.slice(-4).map((r) => `${r.status} ${r.fault}`)).toEqual(["200 rows", "200 empty-summary", "200 html", "200 truncated"]);
    // spent: the next request gets the report as it is
    expect(JSON.parse((await raw()).text).summary[0]).toMatchObject({ used: 2, provisioned: 3 });
  });

  it("an echo-auth fault answers 401 with an error body that quotes the token, the signature and the secret key", async () => {
    sb.faults.push({ kind: "echo-auth" });
    const req = signed(sb.credentials);
    const res = await request(`${sb.url}${req.uri}`, { method: "POST", headers: req.headers, body: req.body });
    expect(res.statusCode).toBe(401);
    const body = (await res.body.json()) as { error_subject: string; error_message: string };
    expect(body.error_subject).toBe("InvalidSignature");
    for (const v of [sb.credentials.accessToken, sb.credentials.secretKey, String(req.headers["x-signature"])]) expect(body.error_message).toContain(v);
    expect(sb.requests.at(-1)).toMatchObject({ status: 401, fault: "echo-auth", errorSubject: "InvalidSignature" });
  });

  it("records requests without the signature or the token", () => {
    const text = JSON.stringify(sb.requests);
    expect(text).not.toContain(sb.credentials.accessToken);
    expect(text).not.toContain("x-signature");
    expect(sb.requests.some((r) => r.errorSubject === "AuthenticationFailureSignature")).toBe(true);
  });
});
