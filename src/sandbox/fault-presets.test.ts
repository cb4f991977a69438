import { createHash, createHmac, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { request } from "undici";
import { describe, expect, it, onTestFinished } from "vitest";
import type { EmailSecuritySandbox } from "./email-security-sandbox.ts";
import { FAULT_PRESETS, FAULT_PRESET_NAMES, HUGE_BODY_BYTES } from "./fault-presets.ts";
import type { LmpiSandbox } from "./lmpi-sandbox.ts";
import { sandboxRequest } from "./sandbox-request.ts";
import { startSandboxes, type Sandboxes } from "./start-sandboxes.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const MIN = 60_000;
/** The email-security fakes' clock: a test moves it. */
const clock = { now: Date.UTC(2026, 10, 30, 12) };

async function started(...faults: string[]): Promise<Sandboxes> {
  const s = await startSandboxes(ROOT, { lmpi: true, detections: ["tmes", "hes"], now: () => clock.now, faults });
  onTestFinished(() => s.close());
  return s;
}

/** The report of this month, signed as LMPI's clients sign (the fake checks the signature before the report faults apply). */
async function lmpiReport(lmpi: LmpiSandbox) {
  const now = new Date();
  const body = JSON.stringify({ report_cycle_year: String(now.getUTCFullYear()), report_cycle_month: String(now.getUTCMonth() + 1).padStart(2, "0") });
  const uri = "/LMPI/v3/reports/summary";
  const time = String(Math.floor(now.getTime() / 1000));
  const md5 = createHash("md5").update(body).digest("base64");
  const signature = createHmac("sha256", lmpi.credentials.secretKey).update(`${time}POST${uri}${md5}`).digest("base64");
  const res = await request(`${lmpi.url}${uri}`, {
    method: "POST", body,
    headers: { "content-type": "application/json", "x-access-token": lmpi.credentials.accessToken, "x-posix-time": time, "x-traceid": randomUUID(), "x-signature": signature },
  });
  return { status: res.statusCode, type: String(res.headers["content-type"]), text: await res.body.text() };
}

async function logs(fake: EmailSecuritySandbox, params: Record<string, string>) {
  const auth = `Basic ${Buffer.from(`${fake.credentials.account}:${fake.credentials.apiKey}`).toString("base64")}`;
  const res = await request(`${fake.url}/api/v1/log/policyeventlog?${new URLSearchParams({ domain: "acme.example", event: "spam", ...params })}`, { headers: { authorization: auth } });
  const text = await res.body.text();
  return { status: res.statusCode, type: String(res.headers["content-type"]), text, json: /json/.test(String(res.headers["content-type"])) && res.statusCode === 200 ? tryJson(text) : undefined };
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const additionsOf = (s: Sandboxes) => `/finance/agreements/${s.connectwise.state.additions.find((a) => !a.cancelledDate)!.agreementId}/additions`;

describe("fault presets", () => {
  it("each has a name, what the fake answers and what cwsync shows; an unknown name is refused before anything starts, listing them", async () => {
    expect(new Set(FAULT_PRESET_NAMES).size).toBe(FAULT_PRESETS.length);
    for (const p of FAULT_PRESETS) {
      expect(p.name).toMatch(/^[a-z0-9-]+$/);
      expect(p.description.length).toBeGreaterThan(20);
      expect(p.expect.length).toBeGreaterThan(20);
    }
    await expect(startSandboxes(ROOT, { lmpi: true, faults: ["cw-html200", "nope"] })).rejects.toThrow(`unknown sandbox fault \`nope\`: expected one of ${FAULT_PRESET_NAMES.join(", ")}`);
  });

  it("the README's table lists every preset as the catalogue describes it", () => {
    const readme = readFileSync(`${ROOT}/README.md`, "utf8");
    for (const p of FAULT_PRESETS) expect(readme).toContain(`| \`${p.name}\` | ${p.description} | ${p.expect} |`);
    expect(readme.match(/^ {2}\| `[a-z0-9-]+` \|/gm)).toHaveLength(FAULT_PRESETS.length);
  });

  it("without a preset the fakes answer normally", async () => {
    const s = await started();
    const list = await sandboxRequest(s.connectwise, "GET", additionsOf(s));
    expect(list.status).toBe(200);
    expect(Array.isArray(list.json)).toBe(true);
    expect((await lmpiReport(s.lmpi!)).text).toMatch(/^\{"summary":\[\{/);
  });

  it("cw-html200 and cw-truncated-json: every additions list, on every request, is HTML or half its JSON, status 200", async () => {
    const html = await started("cw-html200");
    for (let i = 0; i < 3; i++) {
      const r = await sandboxRequest(html.connectwise, "GET", additionsOf(html));
      expect([r.status, r.headers["content-type"]]).toEqual([200, "text/html; charset=UTF-8"]);
      expect(r.text).toContain("<html>");
    }
    expect((await sandboxRequest(html.connectwise, "GET", "/company/companies")).json).toBeInstanceOf(Array);
    const cut = await started("cw-truncated-json");
    for (let i = 0; i < 3; i++) {
      const r = await sandboxRequest(cut.connectwise, "GET", additionsOf(cut));
      expect(r.status).toBe(200);
      expect(r.text.startsWith("[{")).toBe(true);
      expect(r.json).toBeUndefined();
    }
  });

  it("cw-redirect-to-login: a ticket or addition create is answered 302 to a login page on another host, and nothing is created", async () => {
    const s = await started("cw-redirect-to-login");
    for (let i = 0; i < 2; i++) {
      const r = await sandboxRequest(s.connectwise, "POST", "/service/tickets", { body: { summary: "x" } });
      expect(r.status).toBe(302);
      expect(String(r.headers.location)).toMatch(/^http:\/\/127\.0\.0\.2:\d+\/login\?returnUrl=/);
    }
    expect(s.connectwise.state.tickets).toEqual([]);
  });

  it("cw-huge-body: the company list is a JSON answer of more than 32 MiB", async () => {
    const s = await started("cw-huge-body");
    const res = await request(`${s.connectwise.url}/company/companies`, { headers: { authorization: `Basic ${Buffer.from("x").toString("base64")}` } });
    expect(res.statusCode).toBe(200);
    let bytes = 0;
    for await (const chunk of res.body) bytes += (chunk as Buffer).length;
    expect(bytes).toBeGreaterThan(32 * 1024 * 1024);
    expect(bytes).toBeLessThan(HUGE_BODY_BYTES + 1024 * 1024);
  });

  it("cw-ignore-page: more than a page of agreement types, and page 2 answers page 1's rows", async () => {
    const s = await started("cw-ignore-page");
    const page = async (n: number) => (await sandboxRequest(s.connectwise, "GET", "/finance/agreements/types", { query: { page: n, pageSize: 1000 } })).json as { id: number }[];
    const [one, two] = [await page(1), await page(2)];
    expect(one).toHaveLength(1000);
    expect(two.map((t) => t.id)).toEqual(one.map((t) => t.id));
  });

  it("cw-lost-write: a change to an addition is answered as done but not kept", async () => {
    const s = await started("cw-lost-write");
    const addition = s.connectwise.state.additions.find((a) => !a.cancelledDate)!;
    const path = `/finance/agreements/${addition.agreementId}/additions/${addition.id}`;
    const before = addition.quantity;
    const r = await sandboxRequest(s.connectwise, "PATCH", path, { body: [{ op: "replace", path: "quantity", value: before + 7 }] });
    expect(r.status).toBe(200);
    expect((r.json as { quantity: number }).quantity).toBe(before + 7);
    expect(((await sandboxRequest(s.connectwise, "GET", path)).json as { quantity: number }).quantity).toBe(before);
  });

  it("cw-tenant-statuses: tenant status names, the seeded companies on them, activity only in inactiveFlag", async () => {
    const s = await started("cw-tenant-statuses");
    const statuses = (await sandboxRequest(s.connectwise, "GET", "/company/companies/statuses")).json as { id: number; name: string; inactiveFlag: boolean }[];
    expect(statuses.map((x) => `${x.name}${x.inactiveFlag ? " (inactive)" : ""}`)).toEqual(["Active - Managed", "Inactive - Former (inactive)", "Client", "Credit Hold (inactive)", "Not Approved (inactive)"]);
    const companies = (await sandboxRequest(s.connectwise, "GET", "/company/companies", { query: { pageSize: 1000 } })).json as { identifier: string; status: { id: number; name: string } }[];
    const named = new Map(companies.map((c) => [c.identifier, c.status.name]));
    expect(named.get("DormantCo")).toBe("Credit Hold");
    expect(named.get("OldTenant")).toBe("Inactive - Former");
    expect(named.get("AcmeCorp")).toMatch(/^(Active - Managed|Client)$/);
    expect(new Set(companies.map((c) => c.status.name))).toEqual(new Set(["Active - Managed", "Client", "Credit Hold", "Inactive - Former"]));
    for (const c of companies) expect(statuses.find((x) => x.id === c.status.id)?.name).toBe(c.status.name);
  });

  it("cw-throttle: past a bucket of 50 (1,000 a minute), requests are answered 429 with Retry-After and ConnectWise's JSON, and nothing is created", async () => {
    const s = await started("cw-throttle");
    const tickets = s.connectwise.state.tickets.length;
    const answers = await Promise.all(Array.from({ length: 70 }, (_, i) => (i < 60
      ? sandboxRequest(s.connectwise, "GET", "/company/companies")
      : sandboxRequest(s.connectwise, "POST", "/service/tickets", { body: { summary: "x" } }))));
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((x) => x === 429).length).toBeGreaterThanOrEqual(15);
    expect(statuses.filter((x) => x !== 429).length).toBeLessThanOrEqual(55);
    const refused = answers.find((r) => r.status === 429)!;
    expect(refused.headers["retry-after"]).toBe("1");
    expect(refused.json).toEqual({ error: "ConnectWiseAPI", message: "Too many requests. Please try again in 1 seconds." });
    expect(s.connectwise.state.tickets.length).toBe(tickets);
  });

  it("lmpi-html, lmpi-truncated, lmpi-empty-summary: every report request, not only the first", async () => {
    const html = await started("lmpi-html");
    for (let i = 0; i < 2; i++) expect(await lmpiReport(html.lmpi!)).toMatchObject({ status: 200, type: "text/html; charset=UTF-8" });
    const cut = await started("lmpi-truncated");
    for (let i = 0; i < 2; i++) {
      const r = await lmpiReport(cut.lmpi!);
      expect(r.text).toMatch(/^\{"summary":\[/);
      expect(tryJson(r.text)).toBeUndefined();
    }
    const empty = await started("lmpi-empty-summary");
    for (let i = 0; i < 2; i++) expect(JSON.parse((await lmpiReport(empty.lmpi!)).text)).toEqual({ summary: [] });
  });

  it("lmpi-used-null and lmpi-used-absurd: every row's `used`", async () => {
    for (const [name, used] of [["lmpi-used-null", null], ["lmpi-used-absurd", 1e308]] as const) {
      const s = await started(name);
      for (let i = 0; i < 2; i++) {
        const rows = (JSON.parse((await lmpiReport(s.lmpi!)).text) as { summary: { used: unknown; provisioned: number }[] }).summary;
        expect(rows.length).toBeGreaterThan(3);
        expect(new Set(rows.map((r) => r.used))).toEqual(new Set([used]));
        expect(rows.every((r) => typeof r.provisioned === "number")).toBe(true);
      }
    }
  });

  it("tmes-html and tmes-truncated: every log request of both TMES and HES", async () => {
    const window = { start: new Date(clock.now - 60 * MIN).toISOString(), end: new Date(clock.now).toISOString() };
    const html = await started("tmes-html");
    for (const fake of [html.tmes!, html.hes!, html.tmes!]) expect(await logs(fake, window)).toMatchObject({ status: 200, type: "text/html; charset=utf-8" });
    const cut = await started("tmes-truncated");
    for (const fake of [cut.tmes!, cut.hes!, cut.tmes!]) {
      const r = await logs(fake, window);
      expect(r.status).toBe(200);
      expect(r.text).toMatch(/^\{"logs":\[/);
      expect(r.json).toBeUndefined();
    }
  });

  it("tmes-endless-tokens: no logs and a fresh nextToken, however far one pages", async () => {
    const s = await started("tmes-endless-tokens");
    const tokens = new Set<string>();
    let token: string | undefined;
    for (let i = 0; i < 5; i++) {
      const r = await logs(s.hes!, token ? { token } : {});
      const json = r.json as { logs: unknown[]; nextToken: string };
      expect(json.logs).toEqual([]);
      token = decodeURIComponent(json.nextToken);
      tokens.add(token);
    }
    expect(tokens.size).toBe(5);
  });

  it("tmes-late-events: one event in three appears only 5 minutes after its time", async () => {
    const s = await started("tmes-late-events");
    const start = clock.now;
    try {
      const events = s.tmes!.eventsBetween("acme.example", "spam", new Date(start - 6 * 60 * MIN), new Date(start)).slice(0, 12);
      expect(events.length).toBeGreaterThan(6);
      let late = 0;
      for (const e of events) {
        const t = Date.parse(e.genTime);
        const window = { start: new Date(t - MIN).toISOString(), end: new Date(t + MIN).toISOString() };
        const served = async (at: number) => {
          clock.now = at;
          const r = await logs(s.tmes!, window);
          return r.status === 200 && r.text.includes(e.messageID);
        };
        const early = await served(t + 2 * MIN);
        expect(await served(t + 6 * MIN)).toBe(true);
        if (!early) late++;
      }
      expect(late).toBeGreaterThan(0);
      expect(late).toBeLessThan(events.length);
    } finally {
      clock.now = start;
    }
  });

  it("echo-auth: ConnectWise, LMPI, TMES and HES all answer with the request's credentials in the body", async () => {
    const s = await started("echo-auth");
    const cw = await sandboxRequest(s.connectwise, "GET", "/company/companies");
    expect(cw.status).toBe(400);
    expect(cw.text).toContain(Buffer.from(`${s.connectwise.credentials.company}+${s.connectwise.credentials.publicKey}:${s.connectwise.credentials.privateKey}`).toString("base64"));
    const lmpi = await lmpiReport(s.lmpi!);
    expect(lmpi.status).toBe(401);
    expect(lmpi.text).toContain(s.lmpi!.credentials.secretKey);
    for (const fake of [s.tmes!, s.hes!]) {
      const r = await logs(fake, {});
      expect(r.status).toBe(401);
      expect(r.text).toContain(fake.credentials.apiKey);
    }
  });

  it("presets combine, and one for a fake that is not running is left out", async () => {
    const s = await startSandboxes(ROOT, { lmpi: false, faults: ["lmpi-html", "tmes-html", "cw-html200"] });
    onTestFinished(() => s.close());
    expect(s.lmpi).toBeUndefined();
    expect((await sandboxRequest(s.connectwise, "GET", additionsOf(s))).text).toContain("<html>");
  });
});
