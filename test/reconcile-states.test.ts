import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { seedLmpiFromCustomers } from "../src/sandbox/lmpi-seed.ts";
import { loadSandboxCustomers } from "../src/sandbox/seed.ts";
import { systemClock } from "../src/adapters/clock-system.ts";
import type { Clock } from "../src/ports/clock.ts";
import { FakeClock } from "./helpers/fake-clock.ts";
import { reconcileWorld, type ReconcileWorld } from "./helpers/reconcile-world.ts";
import { waitFor } from "./helpers/wait-for.ts";

/** The first reconcile: every customer's history starts here (nothing before is back-filled). */
const T0 = "2026-11-30T12:00:00Z";
/** Bluewater (global block, 06:00 UTC), Fabrikam (06:30 London) and Sakura (09:00 Tokyo) bill on the 1st. */
const T1 = "2026-12-01T12:00:00Z";
const T2 = "2027-01-01T12:00:00Z";

const BLUEWATER_2026_12 = "Billing 2026-12 Bluewater Dental Group cws-82c6c8de51";
const SAKURA_2026_12 = "Billing 2026-12-01T00:00Z Sakura Trading K.K. cws-fc84aae804";
const FABRIKAM_2026_12 = "Billing 2026-12 Fabrikam Retail cws-b183c8a0e7";
const BILLING_T1 = [BLUEWATER_2026_12, FABRIKAM_2026_12, SAKURA_2026_12];
/** The detection reports due by T1 whose periods ended after T0 (Sakura's cron fire, Acme's and Northwind's days, Fabrikam's and Outback's November), sorted. */
const REPORTS_T1 = [
  "Email Security 2026-11-30T23:00Z Sakura Trading K.K. cws-176b49ca18",
  "Email Security daily 2026-11-30 Acme Corporation cws-8a26e20b28",
  "Hosted Email Security daily 2026-11-29 Northwind Logistics cws-cd9a726482",
  "Hosted Email Security monthly 2026-11 Fabrikam Retail cws-7950ba8337",
  "Hosted Email Security monthly 2026-11 Outback Mining Pty Ltd cws-fd8a0c7fc6",
];

interface CycleJson {
  dryRun: boolean;
  globalProblem: { message: string; location: string } | null;
  massRemoval: { removed: string[]; of: number; held: boolean } | null;
  customers: { name: string; state: string; reason: string; message: string; location?: string }[];
  actions: { kind: string; customer: string; report: string; periodKey: string; reason?: string; lines?: { product: string; op: string; reason?: string; previous?: number; quantity?: number }[] }[];
  outcomes: { customer: string; report: string; result: string; message?: string; ticketId?: number }[];
}

async function reconcile(w: ReconcileWorld, at: string, ...flags: string[]) {
  return reconcileOn(w, systemClock, at, ...flags);
}

async function reconcileOn(w: ReconcileWorld, clock: Clock, at: string, ...flags: string[]) {
  const r = await w.runOn(clock, "reconcile", "--at", at, "--format", "json", ...flags);
  return { ...r, json: JSON.parse(r.stdout) as CycleJson };
}

/** Each customer's `state reason` (and location), as `reconcile --format json` reports it. */
const states = (j: CycleJson) => Object.fromEntries(j.customers.map((c) => [c.name, `${c.state} ${c.reason}${c.location ? ` ${c.location}` : ""}`]));

const tickets = (w: ReconcileWorld) => w.cw.state.tickets.map((t) => t.summary).sort();
const billingTickets = (w: ReconcileWorld) => tickets(w).filter((t) => t.startsWith("Billing "));
/** ConnectWise writes other than detection report tickets. */
const billingWrites = (w: ReconcileWorld) => w.writes().filter((q) => !(q.path === "/service/tickets" && !(q.body as { summary: string }).summary.startsWith("Billing ")));

const linesOf = (j: CycleJson, customer: string) =>
  j.actions.find((a) => a.kind === "billing" && a.customer === customer)?.lines?.map((l) => `${l.product} ${l.op}${l.reason ? ` ${l.reason}` : ""}`);

function edit(w: ReconcileWorld, file: string, from: string, to: string): void {
  const text = readFileSync(join(w.repo.dir, file), "utf8");
  if (!text.includes(from)) throw new Error(`${file} has no \`${from}\``);
  w.repo.write(file, text.replace(from, to));
}

/** A world after its first reconcile at T0, which must leave ConnectWise untouched. */
async function started(): Promise<ReconcileWorld> {
  const w = await reconcileWorld();
  const first = await w.run("reconcile", "--at", T0);
  expect(first.code).toBe(0);
  expect(w.writes()).toEqual([]);
  return w;
}

describe("customer states reported by reconcile and status", () => {
  it("shows the seed's situations: ready, suspended, integration disabled, and an ambiguous default agreement", async () => {
    const w = await reconcileWorld();
    const r = await reconcile(w, T0);
    expect(r.code).toBe(0);
    expect(states(r.json)).toEqual({
      "acme-corp": "ready ok",
      "bluewater-dental": "ready ok",
      "contoso-legal": "suspended suspended",
      "fabrikam-retail": "degraded agreement.ambiguous",
      "fabrikam-retail-legacy": "suspended integration.disabled",
      "northwind-logistics": "ready ok",
      "outback-mining": "ready ok",
      "sakura-trading": "ready ok",
    });
    const contoso = r.json.customers.find((c) => c.name === "contoso-legal")!;
    expect(contoso.message).toBe("suspended through 2027-01-15: contract renegotiation; no invoices until the new terms are signed");
    const status = await w.run("status", "--format", "json");
    const fromStatus = (JSON.parse(status.stdout) as { customers: { name: string; status: { state: string; reason: string } }[] }).customers;
    expect(Object.fromEntries(fromStatus.map((c) => [c.name, `${c.status.state} ${c.status.reason}`]))).toEqual(states(r.json));
    // degraded fails the run only under --strict
    expect((await w.run("reconcile", "--at", T0, "--strict")).code).toBe(1);
  });

  it("bills on the 1st: a seat decrease under `decreases: hold` is recorded in the ticket, not applied (decrease.held)", async () => {
    const w = await started();
    const r = await reconcile(w, T1);
    expect(r.code).toBe(0);
    expect(r.json.customers.find((c) => c.name === "bluewater-dental")).toMatchObject({
      state: "pending", reason: "decrease.held", message: "Hosted Email Security: 61 → 54 seats is a decrease; held for a human (decreases: hold)",
    });
    expect(linesOf(r.json, "bluewater-dental")).toEqual(["cas create", "hes held decrease.held", "wfbs-adv held decrease.held"]);
    // the detection reports that fell due since T0 go out with the billing summaries
    expect(tickets(w)).toEqual([...BILLING_T1, ...REPORTS_T1]);
    // neither held addition was touched: still 61 and 39 seats, no PATCH sent to them
    expect(w.cw.state.additions.filter((a) => a.id === 9903 || a.id === 9904).map((a) => a.quantity)).toEqual([61, 39]);
    expect(w.writes().filter((q) => q.method === "PATCH").map((q) => q.path)).not.toContain("/finance/agreements/802/additions/9903");
    const ticket = w.cw.state.tickets.find((t) => t.summary === BLUEWATER_2026_12)!;
    const note = w.cw.state.notes.find((n) => n.ticketId === ticket.id)!;
    expect(note.text).toContain("- Hosted Email Security (TM-HES) on “Bluewater Dental Group - Managed Services”: 61 → 54 — decrease held, not applied");
  });

  it("keeps an invalid customer file on its last valid config, still billing, while its state is invalid at file:line:col", async () => {
    const w = await started();
    const good = w.repo.git("rev-parse", "HEAD").trim();
    edit(w, "customers/bluewater-dental.yaml", "notifications: global", "notifications: globl");
    const bad = w.repo.commit("typo in bluewater");
    const r = await reconcile(w, T1);
    expect(r.code).toBe(0);
    expect(states(r.json)["bluewater-dental"]).toBe("invalid config.invalid customers/bluewater-dental.yaml:17:16");
    expect(tickets(w)).toContain(BLUEWATER_2026_12);
    const view = JSON.parse((await w.run("status", "bluewater-dental", "--format", "json")).stdout) as { status: { state: string; location: string }; appliedRevision: string; attemptedRevision: string };
    expect(view.status).toMatchObject({ state: "invalid", location: "customers/bluewater-dental.yaml:17:16" });
    expect([view.appliedRevision, view.attemptedRevision]).toEqual([good, bad]);
    expect((await w.run("reconcile", "--at", T1, "--strict")).code).toBe(1);
  });

  it("holds every customer on its last valid config while _global.yaml is broken, still sending", async () => {
    const w = await started();
    edit(w, "customers/_global.yaml", "decreases: hold", "decreases: sometimes");
    w.repo.commit("break the global file");
    const r = await reconcile(w, T1);
    expect(r.code).toBe(0);
    expect(r.json.globalProblem).toEqual({ message: "`connectwise.decreases` must be `apply` or `hold`, found string `sometimes`", location: "customers/_global.yaml:10:14" });
    const broken = "invalid global.invalid customers/_global.yaml:10:14";
    expect(states(r.json)).toEqual({
      "acme-corp": broken,
      "bluewater-dental": broken,
      "contoso-legal": "suspended suspended",
      "fabrikam-retail": broken,
      "fabrikam-retail-legacy": "suspended integration.disabled",
      "northwind-logistics": broken,
      "outback-mining": broken,
      "sakura-trading": broken,
    });
    // the last valid global still holds decreases
    expect(linesOf(r.json, "bluewater-dental")).toEqual(["cas create", "hes held decrease.held", "wfbs-adv held decrease.held"]);
    // detection reports too: their sources are opened although no customer resolves without the global file
    expect(tickets(w)).toEqual([...BILLING_T1, ...REPORTS_T1]);
    const text = await w.run("reconcile", "--at", T1);
    expect(text.stdout).toContain("  _global.yaml is invalid (customers/_global.yaml:10:14): every customer keeps its last valid config\n");
  });

  it("marks a deleted customer file removed and sends nothing more for it, even when it was suspended", async () => {
    const w = await started();
    w.repo.remove("customers/bluewater-dental.yaml");
    w.repo.remove("customers/contoso-legal.yaml");
    w.repo.commit("two customers leave (a quarter: not a mass removal)");
    const r = await reconcile(w, T1);
    expect(r.code).toBe(0);
    expect(r.json.massRemoval).toEqual({ removed: ["bluewater-dental", "contoso-legal"], of: 8, held: false });
    expect(r.json.customers.find((c) => c.name === "bluewater-dental")).toMatchObject({
      state: "removed", reason: "file.deleted", message: "customers/bluewater-dental.yaml was deleted: no more sends",
    });
    expect(states(r.json)["contoso-legal"]).toBe("removed file.deleted");
    expect(tickets(w)).toEqual([FABRIKAM_2026_12, SAKURA_2026_12, ...REPORTS_T1]);
    await reconcile(w, T2);
    expect(tickets(w).filter((t) => t.includes("Bluewater"))).toEqual([]);
    const status = JSON.parse((await w.run("status", "bluewater-dental", "--format", "json")).stdout) as { status: { state: string }; nextDue: unknown[] };
    expect(status.status.state).toBe("removed");
    expect(status.nextDue).toEqual([]);
  });

  it("holds a commit deleting more than a quarter of the customers (they keep sending) until --allow-mass-removal", async () => {
    const w = await started();
    for (const name of ["acme-corp", "bluewater-dental", "sakura-trading"]) w.repo.remove(`customers/${name}.yaml`);
    w.repo.commit("three of eight customers leave");
    const held = await reconcile(w, T1);
    expect(held.code).toBe(0);
    expect(held.json.massRemoval).toEqual({ removed: ["acme-corp", "bluewater-dental", "sakura-trading"], of: 8, held: true });
    expect(held.json.customers.find((c) => c.name === "sakura-trading")).toMatchObject({
      state: "pending", reason: "removal.held",
      message: "customers/sakura-trading.yaml was deleted, but the revision removes 3 of 8 customers (more than a quarter): held, still sending, until confirmed with --allow-mass-removal",
    });
    expect(states(held.json)["acme-corp"]).toBe("pending removal.held");
    expect(states(held.json)["bluewater-dental"]).toBe("pending removal.held");
    expect(tickets(w)).toEqual([...BILLING_T1, ...REPORTS_T1]);

    const confirmed = await reconcile(w, T1, "--allow-mass-removal");
    expect(confirmed.code).toBe(0);
    expect(confirmed.json.massRemoval).toEqual({ removed: ["acme-corp", "bluewater-dental", "sakura-trading"], of: 8, held: false });
    for (const name of ["acme-corp", "bluewater-dental", "sakura-trading"]) expect(states(confirmed.json)[name]).toBe("removed file.deleted");
    await reconcile(w, T2);
    expect(billingTickets(w).filter((t) => /Acme|Bluewater|Sakura|Fabrikam/.test(t))).toEqual([
      BLUEWATER_2026_12, FABRIKAM_2026_12, SAKURA_2026_12, "Billing 2027-01 Fabrikam Retail cws-c6e030d023",
    ]);
    // nothing more for the removed customers: neither billing nor detection reports after T1
    expect(tickets(w).filter((t) => /Acme|Bluewater|Sakura/.test(t))).toEqual([BLUEWATER_2026_12, SAKURA_2026_12, REPORTS_T1[0], REPORTS_T1[1]]);
  });

  it("degrades a customer whose company is not found, deleted or inactive, and bills nothing to it until it is back", async () => {
    const w = await started();
    const companies = w.cw.state.companies;
    const bluewater = companies.find((c) => c.identifier === "BluewaterDental")!;
    w.cw.state.companies = companies.filter((c) => c !== bluewater);
    companies.find((c) => c.identifier === "SakuraTrading")!.deletedFlag = true;
    companies.find((c) => c.identifier === "Fabrikam")!.status = { id: 2, name: "Inactive" };
    const r = await reconcile(w, T1);
    expect(r.code).toBe(0);
    expect(states(r.json)).toMatchObject({
      "bluewater-dental": "degraded company.not-found",
      "sakura-trading": "degraded company.deleted",
      "fabrikam-retail": "degraded company.inactive",
    });
    expect(r.json.customers.find((c) => c.name === "sakura-trading")!.message).toBe(
      "company SakuraTrading is deleted in ConnectWise: nothing is billed or reported to it (fix connectwise.companyId in customers/sakura-trading.yaml)",
    );
    expect(r.json.actions.filter((a) => a.report === "billing" && ["bluewater-dental", "sakura-trading", "fabrikam-retail"].includes(a.customer)).map((a) => `${a.customer} ${a.kind} ${a.reason}`)).toEqual([
      "bluewater-dental wait company.not-found", "fabrikam-retail wait company.inactive", "sakura-trading wait company.deleted",
    ]);
    // the other customers' detection reports go out; nothing for the three
    expect(billingWrites(w)).toEqual([]);
    expect(tickets(w)).toEqual(REPORTS_T1.filter((t) => !/Sakura|Fabrikam/.test(t)));
    expect((await w.run("reconcile", "--at", T1, "--strict")).code).toBe(1);

    w.cw.state.companies.push(bluewater);
    const back = await reconcile(w, T1);
    expect(states(back.json)["bluewater-dental"]).toBe("pending decrease.held");
    expect(billingTickets(w)).toEqual([BLUEWATER_2026_12]);
  });

  it("degrades only the product whose agreement is missing or cancelled; the customer's other products are billed", async () => {
    const w = await started();
    const agreements = w.cw.state.agreements;
    const hostedEmail = agreements.find((a) => a.name === "Northwind - Hosted Email")!;
    w.cw.state.agreements = agreements.filter((a) => a !== hostedEmail);
    const missing = await reconcile(w, T1);
    expect(missing.json.customers.find((c) => c.name === "northwind-logistics")).toMatchObject({ state: "degraded", reason: "agreement.not-found" });

    w.cw.state.agreements.push(hostedEmail);
    const gateway = w.cw.state.agreements.find((a) => a.name === "Northwind - Web Gateway" && a.agreementStatus === "Active")!;
    Object.assign(gateway, { agreementStatus: "Cancelled", cancelledFlag: true });
    const before = w.writes().length;
    // Northwind bills on the 29th at 08:30 New York
    const r = await reconcile(w, "2026-12-29T14:00:00Z");
    expect(r.code).toBe(0);
    expect(states(r.json)["northwind-logistics"]).toBe("degraded agreement.cancelled");
    expect(linesOf(r.json, "northwind-logistics")).toEqual(["wfbs-svc held decrease.held", "hes set", "tmems-standard set", "iwsaas refused agreement.cancelled"]);
    expect(billingTickets(w).filter((t) => t.includes("Northwind"))).toEqual(["Billing 2026-12 Northwind Logistics cws-2707c282a2"]);
    expect(w.writes().slice(before).filter((q) => q.path.startsWith(`/finance/agreements/${gateway.id}/`))).toEqual([]);
  });

  it("refuses a product with two live additions (addition.ambiguous) and bills the others", async () => {
    const w = await started();
    const wfsa = w.cw.state.additions.find((a) => a.id === 9904)!;
    w.cw.state.additions.push({ ...wfsa, id: 9990, quantity: 7 });
    const r = await reconcile(w, T1);
    expect(r.json.customers.find((c) => c.name === "bluewater-dental")).toMatchObject({
      state: "degraded", reason: "addition.ambiguous",
      message: "wfbs-adv: agreement “Bluewater Dental Group - Managed Services” has 2 live additions for TM-WFSA (#9904, #9990); cancel all but one — cwsync never bills twice",
    });
    expect(linesOf(r.json, "bluewater-dental")).toEqual(["cas create", "hes held decrease.held", "wfbs-adv refused addition.ambiguous"]);
    expect(tickets(w)).toContain(BLUEWATER_2026_12);
    expect(w.writes().filter((q) => /\/additions\/99(04|90)$/.test(q.path))).toEqual([]);
  });

  it("refuses a product whose catalogue item is missing in ConnectWise (catalog.missing) and bills the others", async () => {
    const w = await started();
    w.cw.state.catalog = w.cw.state.catalog.filter((c) => c.identifier !== "TM-CAS");
    const r = await reconcile(w, T1);
    expect(r.json.customers.find((c) => c.name === "bluewater-dental")).toMatchObject({
      state: "degraded", reason: "catalog.missing", message: "cas: catalogue item TM-CAS is missing in ConnectWise",
    });
    expect(linesOf(r.json, "bluewater-dental")).toEqual(["cas refused catalog.missing", "hes held decrease.held", "wfbs-adv held decrease.held"]);
    expect(tickets(w)).toContain(BLUEWATER_2026_12);
    expect(w.writes().filter((q) => q.method === "POST" && q.path === "/finance/agreements/802/additions")).toEqual([]);
  });

  it("refuses a product without an LMP row (license.unmatched) or under two spellings (license.ambiguous), billing the others", async () => {
    const w = await started();
    const { customers, global } = loadSandboxCustomers(w.repo.dir);
    const seed = seedLmpiFromCustomers(customers, global);
    w.lmpi.setRows((year, month) => {
      const rows = seed(year, month).filter((r) => !(r.customer === "Bluewater Dental Group" && r.product_name === "Cloud App Security"));
      const sakura = rows.find((r) => r.customer === "Sakura Trading KK" && r.product_name === "Worry-Free Services Advanced")!;
      return [...rows, { ...sakura, customer: "SAKURA TRADING KK", used: 3 }];
    });
    const r = await reconcile(w, T1);
    expect(r.json.customers.find((c) => c.name === "bluewater-dental")).toMatchObject({
      state: "degraded", reason: "license.unmatched",
      message: "cas: the LMP report has no “Cloud App Security” row for customer “Bluewater Dental Group” (check trendMicro.customer and the product's lmp.productName)",
    });
    expect(states(r.json)["sakura-trading"]).toBe("degraded license.ambiguous");
    expect(linesOf(r.json, "bluewater-dental")).toEqual(["cas refused license.unmatched", "hes held decrease.held", "wfbs-adv held decrease.held"]);
    expect(linesOf(r.json, "sakura-trading")).toEqual(["wfbs-adv refused license.ambiguous", "tmems-advanced held decrease.held"]);
    expect(billingTickets(w)).toEqual(BILLING_T1);
  });

  it("fails the run while LMPI answers 500 (license.unavailable, exit 1), bills nothing, and bills on recovery", async () => {
    const w = await started();
    w.lmpi.faults.push({ kind: "status", status: 500 });
    const down = await reconcile(w, T1);
    expect(down.code).toBe(1);
    expect(w.lmpi.requests.map((q) => q.status)).toEqual([500]);
    expect(down.json.customers.find((c) => c.name === "bluewater-dental")).toMatchObject({ state: "failing", reason: "license.unavailable" });
    expect(states(down.json)["sakura-trading"]).toBe("failing license.unavailable");
    expect(states(down.json)["fabrikam-retail"]).toBe("failing license.unavailable");
    // detection reports do not read the LMP: they go out
    expect(billingWrites(w)).toEqual([]);
    expect(tickets(w)).toEqual(REPORTS_T1);
    const view = JSON.parse((await w.run("status", "bluewater-dental", "--format", "json")).stdout) as { lastError: { at: string; message: string } };
    expect(view.lastError.at).toBe("2026-12-01T12:00:00.000Z");
    expect(view.lastError.message).toMatch(/^the LMP report for 2026-12 could not be read: /);

    const up = await reconcile(w, T1);
    expect(up.code).toBe(0);
    expect(states(up.json)["bluewater-dental"]).toBe("pending decrease.held");
    expect(tickets(w)).toEqual([...BILLING_T1, ...REPORTS_T1]);
  });

  it("fails the run while ConnectWise answers every read with 500 (connectwise.unavailable, exit 1) and catches up after", async () => {
    const w = await started();
    w.cw.faults.add({ kind: "status", status: 500, method: "GET", times: Infinity });
    const down = await reconcile(w, T1);
    expect(down.code).toBe(1);
    expect(down.json.customers.find((c) => c.name === "acme-corp")).toMatchObject({ state: "failing", reason: "connectwise.unavailable" });
    expect(states(down.json)).toEqual({
      "acme-corp": "failing connectwise.unavailable",
      "bluewater-dental": "failing connectwise.unavailable",
      "contoso-legal": "suspended suspended",
      "fabrikam-retail": "failing connectwise.unavailable",
      "fabrikam-retail-legacy": "suspended integration.disabled",
      "northwind-logistics": "failing connectwise.unavailable",
      "outback-mining": "failing connectwise.unavailable",
      "sakura-trading": "failing connectwise.unavailable",
    });
    expect(w.writes()).toEqual([]);
    expect(tickets(w)).toEqual([]);

    w.cw.faults.clear();
    const up = await reconcile(w, T1);
    expect(up.code).toBe(0);
    expect(tickets(w)).toEqual([...BILLING_T1, ...REPORTS_T1]);
  });

  it("fails the run when ConnectWise refuses the ticket with 400 (send.failed) and retries it on the next run", async () => {
    const w = await started();
    const statusNew = w.cw.state.statuses.find((x) => x.name === "New")!;
    statusNew.name = "Open";
    const refused = await reconcile(w, T1);
    expect(refused.code).toBe(1);
    // a customer's sends stop at its first failure: Fabrikam's and Sakura's reports wait behind their billing
    const posted = w.writes().filter((q) => q.path === "/service/tickets");
    expect(posted.map((q) => q.status)).toEqual([400, 400, 400, 400, 400, 400]);
    expect(posted.map((q) => (q.body as { summary: string }).summary).sort()).toEqual([...BILLING_T1, REPORTS_T1[1], REPORTS_T1[2], REPORTS_T1[4]]);
    const bluewater = refused.json.customers.find((c) => c.name === "bluewater-dental")!;
    expect(bluewater).toMatchObject({ state: "failing", reason: "send.failed" });
    expect(bluewater.message).toMatch(/^billing 2026-12 failed: .*400.* — retried on the next reconcile$/);
    expect(tickets(w)).toEqual([]);

    statusNew.name = "New";
    const retried = await reconcile(w, T1);
    expect(retried.code).toBe(0);
    expect(states(retried.json)["bluewater-dental"]).toBe("pending decrease.held");
    expect(tickets(w)).toEqual([...BILLING_T1, ...REPORTS_T1]);
  });

  it("leaves a ticket whose answer was lost unresolved (send.unresolved), then finds it on the next run instead of sending it twice", async () => {
    const w = await started();
    // decreases applied, so that the lost answer is all that is pending for bluewater
    edit(w, "customers/_global.yaml", "decreases: hold", "decreases: apply");
    w.repo.commit("apply decreases");
    // every ticket is created, but no answer comes back
    w.cw.faults.add({ kind: "reset-after-commit", method: "POST", path: "/service/tickets", times: Infinity });
    const lost = await reconcile(w, T1);
    // pending, not failing: nothing is known to have gone wrong
    expect(lost.code).toBe(0);
    expect(lost.json.customers.find((c) => c.name === "bluewater-dental")).toMatchObject({ state: "pending", reason: "send.unresolved" });
    expect(lost.json.outcomes.filter((o) => o.result === "unknown").map((o) => `${o.customer} ${o.report}`).sort()).toEqual([
      "acme-corp emailSecurity", "bluewater-dental billing", "fabrikam-retail billing", "northwind-logistics hostedEmailSecurity", "outback-mining hostedEmailSecurity", "sakura-trading billing",
    ]);
    // a customer's later sends wait behind its unresolved one: Fabrikam's and Sakura's reports were not attempted
    expect(tickets(w)).toEqual([...BILLING_T1, REPORTS_T1[1], REPORTS_T1[2], REPORTS_T1[4]]);
    const posts = w.writes().filter((q) => q.path === "/service/tickets").length;
    w.cw.faults.clear();

    const resolved = await reconcile(w, T1);
    expect(resolved.code).toBe(0);
    expect(resolved.json.outcomes.filter((o) => o.customer === "bluewater-dental").map((o) => [o.result, o.ticketId])).toEqual([["done", w.cw.state.tickets.find((t) => t.summary === BLUEWATER_2026_12)!.id]]);
    expect(states(resolved.json)["bluewater-dental"]).toBe("ready ok");
    // the six were found, not sent again; only the two reports that waited are posted
    expect(w.writes().filter((q) => q.path === "/service/tickets").slice(posts).map((q) => (q.body as { summary: string }).summary).sort()).toEqual([REPORTS_T1[0], REPORTS_T1[3]]);
    expect(tickets(w)).toEqual([...BILLING_T1, ...REPORTS_T1]);
  });

  it("waits CWSYNC_SETTLE_SECONDS before looking for a create whose client gave up, which ConnectWise then commits late: found, never sent twice", async () => {
    const w = await started();
    w.env.CWSYNC_SETTLE_SECONDS = "4";
    // every ticket POST: the connection is dropped at once, the ticket created 1.5 s later
    w.cw.faults.add({ kind: "commit-late", ms: 1500, method: "POST", path: "/service/tickets", times: Infinity });
    const lost = await reconcile(w, T1);
    expect(lost.json.customers.find((c) => c.name === "bluewater-dental")).toMatchObject({ state: "pending", reason: "send.unresolved" });
    const posts = () => w.writes().filter((q) => q.path === "/service/tickets").length;
    const sent = posts();
    expect(sent).toBeGreaterThan(0);
    w.cw.faults.clear();

    // at once (the late commits not in yet): nothing is looked for, nothing sent again, and the
    // message says when it will be (the outcome shows the settle time had not passed yet)
    const early = await reconcile(w, T1);
    expect(posts()).toBe(sent);
    expect(early.json.customers.find((c) => c.name === "bluewater-dental")).toMatchObject({ state: "pending", reason: "send.unresolved" });
    expect(early.json.customers.find((c) => c.name === "bluewater-dental")?.message).toMatch(/looked for again after/);
    const lookAt = Math.max(...early.json.outcomes.flatMap((o) => /looked for again after (\S+),/.exec(o.message ?? "")?.[1] ?? []).map(Date.parse));
    expect(lookAt).toBeGreaterThan(0);

    // once ConnectWise has committed them, and on a clock past the time the messages name: every one
    // found, none twice; the sends that waited behind them go out (time passed by the clock, not a sleep)
    await waitFor("ConnectWise to commit the late tickets", () => w.cw.state.tickets.length === sent, 30_000);
    const resolved = await reconcileOn(w, new FakeClock(lookAt + 1000), T1);
    expect(resolved.code).toBe(0);
    expect(tickets(w)).toEqual([...BILLING_T1, ...REPORTS_T1].sort());
    expect(new Set(tickets(w)).size).toBe(tickets(w).length);
  });

  it("ranks states: invalid over failing over degraded over pending", async () => {
    const w = await started();
    edit(w, "customers/bluewater-dental.yaml", "notifications: global", "notifications: globl");
    w.repo.commit("typo in bluewater");
    w.lmpi.faults.push({ kind: "status", status: 500 });
    const r = await reconcile(w, T1);
    expect(r.code).toBe(1);
    // bluewater cannot be billed either, but its broken file is what a human must fix first
    expect(states(r.json)["bluewater-dental"]).toBe("invalid config.invalid customers/bluewater-dental.yaml:17:16");
    // fabrikam's ambiguous default agreement ranks below the failure
    expect(states(r.json)["fabrikam-retail"]).toBe("failing license.unavailable");
    // acme bills nothing on the 1st; its detection report does not read the LMP and went out
    expect(states(r.json)["acme-corp"]).toBe("ready ok");
    const again = await reconcile(w, T1);
    expect(states(again.json)["fabrikam-retail"]).toBe("degraded agreement.ambiguous");
    // sakura's held decrease ranks below the failure too, and shows once the LMP is readable
    expect(states(r.json)["sakura-trading"]).toBe("failing license.unavailable");
    expect(states(again.json)["sakura-trading"]).toBe("pending decrease.held");
  });

  it("fails --strict on invalid or degraded customers only; without --strict those exit 0", async () => {
    const w = await reconcileWorld();
    // with fabrikam's second default-type agreement cancelled, every customer is ready or suspended
    Object.assign(w.cw.state.agreements.find((a) => a.name === "Fabrikam Retail - Managed Services (2024)")!, { agreementStatus: "Cancelled", cancelledFlag: true });
    const clean = await reconcile(w, T0, "--strict");
    expect(clean.code).toBe(0);
    expect(states(clean.json)["fabrikam-retail"]).toBe("ready ok");
    edit(w, "customers/acme-corp.yaml", "at: \"07:00\"", "at: \"7am\"");
    w.repo.commit("acme: bad time of day");
    const invalid = await reconcile(w, T0, "--strict");
    expect(invalid.code).toBe(1);
    expect(states(invalid.json)["acme-corp"]).toBe("invalid config.invalid customers/acme-corp.yaml:20:7");
    expect((await w.run("reconcile", "--at", T0)).code).toBe(0);
  });

  it("--dry-run prints the plan and writes nothing: no ConnectWise write, no ledger entry, so the real run still sends", async () => {
    const w = await started();
    const history = async () => JSON.parse((await w.run("history", "bluewater-dental", "--format", "json")).stdout) as { sends: unknown[]; journal: unknown[] };
    const before = await history();
    const dry = await reconcile(w, T1, "--dry-run");
    expect(dry.code).toBe(0);
    expect(dry.json.dryRun).toBe(true);
    expect(dry.json.actions.filter((a) => a.kind === "billing").map((a) => a.customer)).toEqual(["bluewater-dental", "fabrikam-retail", "sakura-trading"]);
    expect(dry.json.outcomes).toEqual([]);
    expect(w.writes()).toEqual([]);
    expect(await history()).toEqual(before);
    const text = await w.run("reconcile", "--at", T1, "--dry-run");
    expect(text.stdout).toContain("billing 2026-12: would send (cas 61, hes 61 → 54 held, wfbs-adv 39 → 36 held)");
    expect(w.writes()).toEqual([]);

    const real = await reconcile(w, T1);
    expect(real.json.outcomes.filter((o) => o.result === "done").length).toBe(8);
    expect(tickets(w)).toEqual([...BILLING_T1, ...REPORTS_T1]);
  });
});
