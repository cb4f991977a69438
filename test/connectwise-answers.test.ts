import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { reconcileWorld, type ReconcileWorld } from "./helpers/reconcile-world.ts";

/**
 * ConnectWise answering as real tenants and the proxies in front of them do (issue 12): garbled
 * 200s, redirects to a login page, tenant status names, echoed credentials, endless lists, huge
 * bodies, 500s on slow queries. What a user checks in ConnectWise: one addition per billed product,
 * one ticket per send, the affected customer failing with its reason while the others are billed,
 * and no secret anywhere.
 */

const T0 = "2026-11-30T12:00:00Z";
/** Bluewater, Fabrikam and Sakura bill on the 1st. */
const T1 = "2026-12-01T12:00:00Z";
const BLUEWATER_2026_12 = "Billing 2026-12 Bluewater Dental Group cws-82c6c8de51";
const SAKURA_2026_12 = "Billing 2026-12-01T00:00Z Sakura Trading K.K. cws-fc84aae804";
const FABRIKAM_2026_12 = "Billing 2026-12 Fabrikam Retail cws-b183c8a0e7";
const BLUEWATER_AGREEMENT = "Bluewater Dental Group - Managed Services";

interface CycleJson {
  customers: { name: string; state: string; reason: string; message: string }[];
  outcomes: { customer: string; report: string; result: string; message?: string }[];
}

async function reconcile(w: ReconcileWorld, at: string) {
  const r = await w.run("reconcile", "--at", at, "--format", "json");
  return { ...r, json: JSON.parse(r.stdout) as CycleJson };
}

const stateOf = (j: CycleJson, name: string) => {
  const c = j.customers.find((x) => x.name === name)!;
  return `${c.state} ${c.reason}`;
};

async function started(): Promise<ReconcileWorld> {
  const w = await reconcileWorld();
  expect((await w.run("reconcile", "--at", T0)).code).toBe(0);
  expect(w.writes()).toEqual([]);
  return w;
}

/** Live additions per `agreement product`: never more than one (several bill the customer twice). */
function livePerProduct(w: ReconcileWorld): Map<string, number> {
  const out = new Map<string, number>();
  for (const a of w.cw.state.additions) {
    if (a.cancelledDate) continue;
    const k = `${a.agreementId} ${a.product.identifier}`;
    out.set(k, (out.get(k) ?? 0) + 1);
  }
  return out;
}

/** How many tickets carry each summary: a send made twice shows 2. */
function ticketCounts(w: ReconcileWorld): Map<string, number> {
  const out = new Map<string, number>();
  for (const t of w.cw.state.tickets) out.set(t.summary, (out.get(t.summary) ?? 0) + 1);
  return out;
}

function expectNoDuplicates(w: ReconcileWorld): void {
  expect(Math.max(0, ...livePerProduct(w).values())).toBeLessThanOrEqual(1);
  expect(Math.max(0, ...ticketCounts(w).values())).toBeLessThanOrEqual(1);
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

const agreementId = (w: ReconcileWorld, name: string) => w.cw.state.agreements.find((a) => a.name === name && a.agreementStatus === "Active")!.id;

describe("ConnectWise answers that are not what the endpoint returns", () => {
  it("an HTML 200 or truncated JSON for the additions fails that customer (connectwise.unreadable) and creates nothing; the recovery bills each product once", async () => {
    const w = await started();
    const before = new Map(livePerProduct(w));
    const id = agreementId(w, BLUEWATER_AGREEMENT);
    w.cw.faults.add({ kind: "html200", method: "GET", path: `/finance/agreements/${id}/additions`, times: Infinity });
    const html = await reconcile(w, T1);
    expect(html.code).toBe(1);
    expect(stateOf(html.json, "bluewater-dental")).toBe("failing connectwise.unreadable");
    expect(html.json.customers.find((c) => c.name === "bluewater-dental")!.message).toContain(`finance/agreements/${id}/additions`);
    // the others are billed
    expect(ticketCounts(w).get(SAKURA_2026_12)).toBe(1);
    expect(ticketCounts(w).get(FABRIKAM_2026_12)).toBe(1);
    expect(w.writes().filter((q) => q.path.startsWith(`/finance/agreements/${id}/`))).toEqual([]);
    expect(ticketCounts(w).get(BLUEWATER_2026_12)).toBeUndefined();

    w.cw.faults.clear();
    w.cw.faults.add({ kind: "truncated-json", method: "GET", path: `/finance/agreements/${id}/additions`, times: Infinity });
    const cut = await reconcile(w, T1);
    expect(stateOf(cut.json, "bluewater-dental")).toBe("failing connectwise.unreadable");
    expect(w.writes().filter((q) => q.path.startsWith(`/finance/agreements/${id}/`))).toEqual([]);

    w.cw.faults.clear();
    const up = await reconcile(w, T1);
    expect(up.code).toBe(0);
    expect(ticketCounts(w).get(BLUEWATER_2026_12)).toBe(1);
    expectNoDuplicates(w);
    // every product billed before still has its one addition; the one created is alone too
    for (const k of before.keys()) expect(livePerProduct(w).get(k)).toBe(1);
  });

  it("an HTML 200 for the ticket search after lost answers never sends a ticket twice", async () => {
    const w = await started();
    w.cw.faults.add({ kind: "reset-after-commit", method: "POST", path: "/service/tickets", times: Infinity });
    const lost = await reconcile(w, T1);
    expect(lost.json.outcomes.some((o) => o.result === "unknown")).toBe(true);
    const made = w.cw.state.tickets.length;
    expect(made).toBeGreaterThan(0);

    w.cw.faults.clear();
    w.cw.faults.add({ kind: "html200", method: "GET", path: "/service/tickets", times: Infinity });
    const garbled = await reconcile(w, T1);
    expect(garbled.code).toBe(1);
    expect(w.cw.state.tickets.length).toBe(made);
    expectNoDuplicates(w);

    w.cw.faults.clear();
    const up = await reconcile(w, T1);
    expect(up.code).toBe(0);
    expectNoDuplicates(w);
    expect(ticketCounts(w).get(BLUEWATER_2026_12)).toBe(1);
  });

  it("looks for a ticket by its key within the customer's company only", async () => {
    const w = await started();
    w.cw.faults.add({ kind: "reset-after-commit", method: "POST", path: "/service/tickets", times: Infinity });
    await reconcile(w, T1);
    w.cw.faults.clear();
    const from = w.cw.requests.length;
    await reconcile(w, T1);
    const searches = w.cw.requests.slice(from).filter((q) => q.method === "GET" && q.path === "/service/tickets");
    expect(searches.length).toBeGreaterThan(0);
    const bluewater = w.cw.state.companies.find((c) => c.identifier === "BluewaterDental")!;
    const own = searches.find((q) => q.query.conditions?.includes("cws-82c6c8de51"))!;
    expect(own.query.conditions).toBe(`company/id = ${bluewater.id} and summary contains "cws-82c6c8de51"`);
    for (const q of searches) expect(q.query.conditions).toMatch(/^company\/id = \d+ and summary contains "cws-[0-9a-f]{10}"$/);
    expectNoDuplicates(w);
  });
});

describe("writes count only when ConnectWise shows them", () => {
  it("a create redirected to a login page is unknown, not done: nothing is lost, and the next run creates it once", async () => {
    const w = await started();
    w.cw.faults.add({ kind: "redirect-to-login", method: "POST", times: Infinity });
    const redirected = await reconcile(w, T1);
    expect(w.cw.state.tickets).toEqual([]);
    expect(stateOf(redirected.json, "bluewater-dental")).toBe("pending send.unresolved");
    const billed = (j: CycleJson) => j.outcomes.filter((o) => o.report === "billing" && o.result !== "recorded").map((o) => `${o.customer} ${o.result}`).sort();
    expect(billed(redirected.json)).toEqual(["bluewater-dental unknown", "fabrikam-retail unknown", "sakura-trading unknown"]);
    const history = await w.run("history", "bluewater-dental");
    expect(history.stdout).not.toMatch(/billing\s+2026-12\s+done/);

    w.cw.faults.clear();
    const up = await reconcile(w, T1);
    expect(up.code).toBe(0);
    expect(ticketCounts(w).get(BLUEWATER_2026_12)).toBe(1);
    expect(ticketCounts(w).get(SAKURA_2026_12)).toBe(1);
    expectNoDuplicates(w);
  });

  it("a create redirected to the record on the same API host is read back there and counts as done", async () => {
    const w = await started();
    w.cw.faults.add({ kind: "redirect-after-commit", method: "POST", times: Infinity });
    const r = await reconcile(w, T1);
    expect(r.code).toBe(0);
    expect(r.json.outcomes.filter((o) => o.report === "billing" && o.result !== "recorded").map((o) => `${o.customer} ${o.result}`).sort()).toEqual([
      "bluewater-dental done", "fabrikam-retail done", "sakura-trading done",
    ]);
    expect(ticketCounts(w).get(BLUEWATER_2026_12)).toBe(1);
    expectNoDuplicates(w);
  });

  it("a quantity change ConnectWise does not show when read back is not done: the customer fails, nothing is ticketed, and the next run sets it", async () => {
    const w = await started();
    const global = readFileSync(join(w.repo.dir, "customers/_global.yaml"), "utf8");
    w.repo.write("customers/_global.yaml", global.replace("decreases: hold", "decreases: apply"));
    w.repo.commit("apply decreases");
    w.cw.faults.add({ kind: "lost-write", method: "PATCH", times: Infinity });
    const lost = await reconcile(w, T1);
    expect(lost.code).toBe(1);
    expect(stateOf(lost.json, "bluewater-dental")).toBe("failing send.failed");
    expect(lost.json.customers.find((c) => c.name === "bluewater-dental")!.message).toContain("when read back");
    expect(ticketCounts(w).get(BLUEWATER_2026_12)).toBeUndefined();
    const patch = w.writes().find((q) => q.method === "PATCH")!;
    const additionId = Number(patch.path.split("/").pop());
    const wanted = (patch.body as { value: number }[])[0].value;
    expect(w.cw.state.additions.find((a) => a.id === additionId)!.quantity).not.toBe(wanted);

    w.cw.faults.clear();
    const up = await reconcile(w, T1);
    expect(up.code).toBe(0);
    expect(w.cw.state.additions.find((a) => a.id === additionId)!.quantity).toBe(wanted);
    expect(ticketCounts(w).get(BLUEWATER_2026_12)).toBe(1);
    expectNoDuplicates(w);
  });

  it("a GET or PATCH answered 500 is retried; a POST answered 500 is not, and is looked for before it is sent again", async () => {
    const w = await started();
    const id = agreementId(w, BLUEWATER_AGREEMENT);
    w.cw.faults.add({ kind: "status", status: 500, method: "GET", path: `/finance/agreements/${id}/additions`, times: 1 });
    w.cw.faults.add({ kind: "status", status: 500, method: "PATCH", times: 1 });
    w.cw.faults.add({ kind: "status", status: 500, method: "POST", path: "/service/tickets", times: 1 });
    const r = await reconcile(w, T1);
    expect(stateOf(r.json, "bluewater-dental")).not.toMatch(/^failing/);
    const posts = w.writes().filter((q) => q.method === "POST" && q.path === "/service/tickets");
    // the POST answered 500 was sent once; the customer it belonged to waits, the others are billed
    expect(posts.filter((q) => q.status === 500)).toHaveLength(1);
    expect(r.json.outcomes.filter((o) => o.result === "unknown")).toHaveLength(1);
    const up = await reconcile(w, T1);
    expect(up.code).toBe(0);
    expect(ticketCounts(w).get(BLUEWATER_2026_12)).toBe(1);
    expect(ticketCounts(w).get(SAKURA_2026_12)).toBe(1);
    expectNoDuplicates(w);
  });
});

describe("company activity from the tenant's status table", () => {
  it("bills a company whose status is named `Active - Managed` or is not in the table; degrades one on `Credit Hold` (inactiveFlag)", async () => {
    const w = await started();
    const from = w.cw.requests.length;
    const companies = w.cw.state.companies;
    companies.find((c) => c.identifier === "BluewaterDental")!.status = { id: 3, name: "Active - Managed" };
    companies.find((c) => c.identifier === "SakuraTrading")!.status = { id: 77, name: "Legacy import" };
    companies.find((c) => c.identifier === "Fabrikam")!.status = { id: 5, name: "Credit Hold" };
    const r = await reconcile(w, T1);
    expect(stateOf(r.json, "bluewater-dental")).not.toMatch(/^degraded/);
    expect(stateOf(r.json, "sakura-trading")).not.toMatch(/^degraded/);
    expect(stateOf(r.json, "fabrikam-retail")).toBe("degraded company.inactive");
    expect(ticketCounts(w).get(BLUEWATER_2026_12)).toBe(1);
    expect(ticketCounts(w).get(SAKURA_2026_12)).toBe(1);
    expect(ticketCounts(w).get(FABRIKAM_2026_12)).toBeUndefined();
    // the status the table does not list is reported once
    expect(r.stderr.match(/missing from the status table/g)).toHaveLength(1);
    expect(r.stderr).toContain('"statusId":77');
    // read once per cycle
    expect(w.cw.requests.slice(from).filter((q) => q.path === "/company/companies/statuses")).toHaveLength(1);
  });
});

describe("secrets and bounds", () => {
  it("an error body echoing the Authorization header puts no secret in stdout, stderr or the state directory", async () => {
    const w = await started();
    w.cw.faults.add({ kind: "echo-auth", status: 400, method: "GET", path: "/company/companies", times: Infinity });
    const r = await reconcile(w, T1);
    expect(r.code).toBe(1);
    expect(stateOf(r.json, "acme-corp")).toBe("failing connectwise.unavailable");
    const status = await w.run("status", "bluewater-dental");
    const { company, publicKey, privateKey } = w.cw.credentials;
    const basic = Buffer.from(`${company}+${publicKey}:${privateKey}`).toString("base64");
    const stored = filesUnder(w.stateDir).map((f) => readFileSync(f).toString("latin1")).join("\n");
    for (const text of [r.stdout, r.stderr, status.stdout, status.stderr, stored]) {
      expect(text).not.toContain(privateKey);
      expect(text).not.toContain(basic);
    }
    expect(r.stdout).toContain("[redacted]");
  });

  it("a list that ignores `page` is stopped with an error naming the endpoint; nothing is sent", async () => {
    const w = await started();
    for (let i = 0; i < 1000; i++) w.cw.state.agreementTypes.push({ id: 1000 + i, name: `Type ${i}`, inactiveFlag: false });
    w.cw.faults.add({ kind: "ignore-page", method: "GET", path: "/finance/agreements/types", times: Infinity });
    const r = await reconcile(w, T1);
    expect(r.code).toBe(1);
    expect(stateOf(r.json, "acme-corp")).toBe("failing connectwise.unreadable");
    expect(r.json.customers.find((c) => c.name === "acme-corp")!.message).toContain("finance/agreements/types");
    expect(w.cw.requests.filter((q) => q.path === "/finance/agreements/types").length).toBeLessThan(5);
    expect(w.writes()).toEqual([]);
  });

  it("an answer larger than 32 MiB is refused while it streams: every customer fails, none is taken as not found", async () => {
    const w = await started();
    w.cw.faults.add({ kind: "huge-body", bytes: 40 * 1024 * 1024, method: "GET", path: "/company/companies", times: Infinity });
    const r = await reconcile(w, T1);
    expect(r.code).toBe(1);
    expect(stateOf(r.json, "acme-corp")).toBe("failing connectwise.unreadable");
    expect(r.json.customers.find((c) => c.name === "acme-corp")!.message).toContain("larger than 32 MiB");
    expect(w.writes()).toEqual([]);
  });
});
