import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { LmpiFault } from "../src/sandbox/lmpi-sandbox.ts";
import { seedLmpiFromCustomers } from "../src/sandbox/lmpi-seed.ts";
import { loadSandboxCustomers } from "../src/sandbox/seed.ts";
import { reconcileWorld, type ReconcileWorld } from "./helpers/reconcile-world.ts";

/** The first reconcile: nothing before it is back-filled. */
const T0 = "2026-11-30T12:00:00Z";
/** Bluewater, Fabrikam and Sakura bill on the 1st. */
const T1 = "2026-12-01T12:00:00Z";
const BLUEWATER = "Bluewater Dental Group";
const BLUEWATER_2026_12 = "Billing 2026-12 Bluewater Dental Group cws-82c6c8de51";
const BILLING_T1 = [BLUEWATER_2026_12, "Billing 2026-12 Fabrikam Retail cws-b183c8a0e7", "Billing 2026-12-01T00:00Z Sakura Trading K.K. cws-fc84aae804"];
const BILLED = ["bluewater-dental", "fabrikam-retail", "sakura-trading"];

interface CycleJson {
  customers: { name: string; state: string; reason: string; message: string }[];
  actions: { kind: string; customer: string; report: string; reason?: string; lines?: { product: string; op: string; reason?: string; quantity?: number; warning?: { reason: string } }[] }[];
}

async function reconcile(w: ReconcileWorld, at: string) {
  const r = await w.run("reconcile", "--at", at, "--format", "json");
  return { ...r, json: JSON.parse(r.stdout) as CycleJson };
}

const states = (j: CycleJson) => Object.fromEntries(j.customers.map((c) => [c.name, `${c.state} ${c.reason}`]));
const customer = (j: CycleJson, name: string) => j.customers.find((c) => c.name === name)!;
const linesOf = (j: CycleJson, name: string) =>
  j.actions.find((a) => a.kind === "billing" && a.customer === name)?.lines?.map((l) => `${l.product} ${l.op}${l.reason ? ` ${l.reason}` : ""}${l.warning ? ` (${l.warning.reason})` : ""}`);
const billingTickets = (w: ReconcileWorld) => w.cw.state.tickets.map((t) => t.summary).filter((s) => s.startsWith("Billing ")).sort();
const noteOf = (w: ReconcileWorld, summary: string) => w.cw.state.notes.find((n) => n.ticketId === w.cw.state.tickets.find((t) => t.summary === summary)!.id)!.text;
/** ConnectWise writes to agreement additions. */
const additionWrites = (w: ReconcileWorld) => w.writes().filter((q) => q.path.includes("/additions"));
/** Live additions per agreement and catalogue item: never more than one (never double-billed). */
const additionsPerProduct = (w: ReconcileWorld) => {
  const n = new Map<string, number>();
  for (const a of w.cw.state.additions) {
    const k = `${a.agreementId}/${a.product.identifier}`;
    n.set(k, (n.get(k) ?? 0) + 1);
  }
  return Math.max(...n.values());
};

function edit(w: ReconcileWorld, file: string, from: string, to: string): void {
  const text = readFileSync(join(w.repo.dir, file), "utf8");
  if (!text.includes(from)) throw new Error(`${file} has no \`${from}\``);
  w.repo.write(file, text.replace(from, to));
}

async function started(opts: { applyDecreases?: boolean } = {}): Promise<ReconcileWorld> {
  const w = await reconcileWorld();
  if (opts.applyDecreases) {
    edit(w, "customers/_global.yaml", "decreases: hold", "decreases: apply");
    w.repo.commit("apply decreases");
  }
  const first = await w.run("reconcile", "--at", T0);
  expect(first.code, first.stdout + first.stderr).toBe(0);
  expect(w.writes()).toEqual([]);
  return w;
}

/** The sandbox seed's row of a customer's product in December 2026. */
function seedRow(w: ReconcileWorld, lmpCustomer: string, product: string) {
  const { customers, global } = loadSandboxCustomers(w.repo.dir);
  return seedLmpiFromCustomers(customers, global)(2026, 12).find((r) => r.customer === lmpCustomer && r.product_name === product)!;
}

describe("uneven LMP report rows never stop billing", () => {
  it.each([
    ["null", { used: null }],
    ["absent", { used: undefined }],
  ])("a `quantity: used` product whose row has %s `used` is billed at provisioned, said in the ticket and in status (seats.used-unreported)", async (_, set) => {
    const w = await started({ applyDecreases: true });
    w.lmpi.faults.push({ kind: "rows", customer: BLUEWATER, product: "Cloud App Security", set });
    const provisioned = seedRow(w, BLUEWATER, "Cloud App Security").provisioned;
    const r = await reconcile(w, T1);
    expect(r.code).toBe(0);
    expect(linesOf(r.json, "bluewater-dental")).toEqual(["cas create (seats.used-unreported)", "hes set", "wfbs-adv set"]);
    expect(customer(r.json, "bluewater-dental")).toMatchObject({
      state: "ready", reason: "seats.used-unreported",
      message: `cas: the LMP report has no used units for “Cloud App Security” (customer “${BLUEWATER}”): billed at provisioned, ${provisioned} seats, as Trend Micro charges it`,
    });
    // the addition holds the provisioned seats
    const created = additionWrites(w).filter((q) => q.method === "POST" && (q.body as { description: string }).description.startsWith("Cloud App Security"));
    expect(created.map((q) => (q.body as { quantity: number }).quantity)).toEqual([provisioned]);
    expect(noteOf(w, BLUEWATER_2026_12)).toContain(
      `- Cloud App Security (TM-CAS) on “Bluewater Dental Group - Managed Services”: ${provisioned} (new) — addition created; LMP reports no used units: billed at provisioned (seats.used-unreported)`,
    );
    const status = JSON.parse((await w.run("status", "bluewater-dental", "--format", "json")).stdout) as { status: { state: string; reason: string } };
    expect(status.status).toMatchObject({ state: "ready", reason: "seats.used-unreported" });
    expect(billingTickets(w)).toEqual(BILLING_T1);
  });

  it.each([
    ["1e308", 1e308],
    ["negative", -3],
    ["fractional", 2.5],
    ["not a number", "12 seats"],
  ])("a row with %s `used` fails only that customer's product (failing seats.invalid): its other products are set, its ticket names it, the others are billed", async (_, used) => {
    const w = await started();
    w.lmpi.faults.push({ kind: "rows", customer: BLUEWATER, product: "Hosted Email Security", set: { used } });
    const r = await reconcile(w, T1);
    expect(r.code).toBe(1);
    expect(customer(r.json, "bluewater-dental")).toMatchObject({ state: "failing", reason: "seats.invalid" });
    expect(customer(r.json, "bluewater-dental").message).toMatch(/^hes: the LMP report's “Hosted Email Security” row for “Bluewater Dental Group” cannot be billed: `used` is /);
    expect(linesOf(r.json, "bluewater-dental")).toEqual(["cas create", "hes refused seats.invalid", "wfbs-adv held decrease.held"]);
    expect(states(r.json)["fabrikam-retail"]).toBe("degraded agreement.ambiguous");
    expect(states(r.json)["sakura-trading"]).toBe("pending decrease.held");
    // every billing ticket went out, Bluewater's naming the product that was not billed
    expect(billingTickets(w)).toEqual(BILLING_T1);
    expect(noteOf(w, BLUEWATER_2026_12)).toMatch(/- Hosted Email Security \(TM-HES\) on “Bluewater Dental Group - Managed Services”: — — not billed \(seats\.invalid\): the LMP report's “Hosted Email Security” row/);
    // the absurd number went nowhere: Bluewater's HES addition (#9903) untouched, every quantity sent is sane
    expect(additionWrites(w).filter((q) => q.path.endsWith("/9903"))).toEqual([]);
    const quantities = additionWrites(w).map((q) => (Array.isArray(q.body) ? (q.body as { value: unknown }[])[0].value : (q.body as { quantity: unknown }).quantity));
    expect(quantities.length).toBeGreaterThan(0);
    expect(quantities.every((n) => Number.isInteger(n) && (n as number) >= 0 && (n as number) <= 1_000_000)).toBe(true);
    expect(w.cw.state.additions.every((a) => Number.isInteger(a.quantity) && a.quantity >= 0 && a.quantity <= 1_000_000)).toBe(true);
    const status = JSON.parse((await w.run("status", "bluewater-dental", "--format", "json")).stdout) as { status: { state: string; reason: string } };
    expect(status.status).toMatchObject({ state: "failing", reason: "seats.invalid" });
  });

  it("an empty report (`summary: []`) is lmpi.empty-report: nothing is closed, and the recovery run bills exactly once", async () => {
    const w = await started();
    w.lmpi.faults.push({ kind: "empty-summary" });
    const empty = await reconcile(w, T1);
    expect(empty.code).toBe(1);
    for (const name of BILLED) expect(states(empty.json)[name]).toBe("failing lmpi.empty-report");
    expect(customer(empty.json, "bluewater-dental").message).toMatch(/^the LMP report for 2026-12 has no rows/);
    expect(additionWrites(w)).toEqual([]);
    expect(billingTickets(w)).toEqual([]);
    const history = JSON.parse((await w.run("history", "bluewater-dental", "--format", "json")).stdout) as { sends: { report: string }[] };
    expect(history.sends.filter((s) => s.report === "billing")).toEqual([]);

    const recovered = await reconcile(w, T1);
    expect(recovered.code).toBe(0);
    expect(states(recovered.json)["bluewater-dental"]).toBe("pending decrease.held");
    expect(billingTickets(w)).toEqual(BILLING_T1);
    const writes = additionWrites(w).length;
    expect(writes).toBeGreaterThan(0);
    expect(additionsPerProduct(w)).toBe(1);

    // and once only: a further run sends nothing more
    await reconcile(w, T1);
    expect(billingTickets(w)).toEqual(BILLING_T1);
    expect(additionWrites(w).length).toBe(writes);
    expect(additionsPerProduct(w)).toBe(1);
  });

  it.each<[string, LmpiFault]>([
    ["an HTML page", { kind: "html" }],
    ["truncated JSON", { kind: "truncated" }],
  ])("a 200 with %s is lmpi.unreadable, never an empty report: billing fails, and the recovery run bills once", async (_, fault) => {
    const w = await started();
    w.lmpi.faults.push(fault);
    const garbled = await reconcile(w, T1);
    expect(garbled.code).toBe(1);
    expect(w.lmpi.requests.at(-1)).toMatchObject({ status: 200, fault: fault.kind });
    for (const name of BILLED) expect(states(garbled.json)[name]).toBe("failing lmpi.unreadable");
    expect(customer(garbled.json, "bluewater-dental").message).toMatch(/^the LMP report for 2026-12 could not be read: LMPI POST \/LMPI\/v3\/reports\/summary answered 200 — UnreadableReport: /);
    expect(additionWrites(w)).toEqual([]);
    expect(billingTickets(w)).toEqual([]);

    const recovered = await reconcile(w, T1);
    expect(recovered.code).toBe(0);
    expect(billingTickets(w)).toEqual(BILLING_T1);
    const writes = additionWrites(w).length;
    await reconcile(w, T1);
    expect(billingTickets(w)).toEqual(BILLING_T1);
    expect(additionWrites(w).length).toBe(writes);
    expect(additionsPerProduct(w)).toBe(1);
  });
});
