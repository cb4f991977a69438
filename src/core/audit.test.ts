import { describe, expect, it } from "vitest";
import type { GlobalFile } from "../config/model.ts";
import type { EffectiveCustomer } from "../config/resolve.ts";
import type { Addition, Agreement } from "../ports/connectwise.ts";
import type { LedgerEntry } from "../ports/state-store.ts";
import { buildAudit, failingCategories, type AuditInputs } from "./audit.ts";
import type { CustomerChecks } from "./connectwise-checks.ts";

const global = {
  connectwise: { decreases: "hold" },
  products: {
    cas: { displayName: "Cloud App Security", lmp: { productName: "Cloud App Security" }, catalogItem: "TM-CAS", quantity: "used" },
    edge: { displayName: "Cloud Edge", lmp: { productName: "Cloud Edge" }, catalogItem: "TM-EDGE", quantity: "provisioned" },
  },
} as unknown as GlobalFile;

const customer = (name: string, lmpCustomer: string, enabled = true, products = ["cas"]): EffectiveCustomer => ({
  name, displayName: name, lmpCustomer, emailDomains: [], enabled, companyId: name, agreements: Object.fromEntries(products.map((p) => [p, "default"])),
  settings: "global", timezone: "UTC", at: "06:00", reports: [{ report: "billing", spec: { kind: "monthly-day", dayOfMonth: 1 }, products }],
});
const agreement = (id: number, company: number): Agreement => ({ id, name: `Agreement ${id}`, type: { id: 1, name: "Managed Service" }, company: { id: company } });
const addition = (id: number, item: string, quantity: number, unitPrice?: number): Addition =>
  ({ id, product: { id: 1, identifier: item }, quantity, ...(unitPrice !== undefined ? { unitPrice } : {}) }) as Addition;
const checks = (name: string, ag: Agreement): CustomerChecks => ({
  name, company: { state: "found", company: { id: ag.company.id, identifier: name, name } },
  mappings: [{ product: "cas", state: "resolved", agreements: [ag], message: "" }], catalog: [],
});
const row = (customerName: string, productName: string, used: number, provisioned: number) => ({ customerName, productName, used, provisioned });
const entry = (customer: string, periodKey: string, lines: object[], result?: object): LedgerEntry => ({
  key: `cws-${customer}-${periodKey}`, customer, report: "billing", periodKey, trigger: "schedule", state: "done", dueAt: `${periodKey}-01T06:00:00.000Z`,
  payload: { lines }, result: result ?? { lines }, attempts: 1, createdAt: `${periodKey}-01T06:00:00.000Z`, updatedAt: `${periodKey}-01T06:00:01.000Z`,
});

function inputs(over: Partial<AuditInputs> = {}): AuditInputs {
  const acmeAg = agreement(800, 250);
  return {
    month: "2027-01", day: "2027-01-15", global,
    customers: [customer("acme", "Acme Corp"), customer("old", "Old Co", false)],
    rows: [row("Acme Corp", "Cloud App Security", 20, 22), row("Old Co", "Cloud App Security", 5, 5), row("Stranger", "Cloud Edge", 1, 3), row("Acme Corp", "Mystery Product", 2, 2)],
    checks: new Map([["acme", checks("acme", acmeAg)]]),
    additions: new Map([[800, [addition(9900, "TM-CAS", 20, 4)]], [900, [addition(9950, "TM-EDGE", 2, 30), addition(9951, "TM-OTHER", 9, 1)]]]),
    agreements: [acmeAg, { ...agreement(900, 260), company: { id: 260, name: "Hand Billed Ltd" } }],
    ledger: [entry("acme", "2027-01", [{ product: "cas", op: "set", quantity: 20, previous: 18, additionId: 9900, agreementId: 800 }])],
    ...over,
  };
}

describe("buildAudit", () => {
  it("tells why seats are unbilled and prices them from the item's additions elsewhere", () => {
    const a = buildAudit(inputs());
    expect(a.unbilled.map((u) => [u.lmpCustomer, u.why, u.seats, u.monthlyValue])).toEqual([
      ["Old Co", "customer-disabled", 5, 20],
      ["Stranger", "no-customer-file", 3, 90], // Cloud Edge bills provisioned
      ["Acme Corp", "product-unknown", 2, undefined],
    ]);
    expect(a.totals.unbilledSeats).toBe(10);
    expect(a.lines.find((l) => l.customer === "acme")).toMatchObject({ status: "billed", additionId: 9900, quantity: 20, lastSet: 20, unitPrice: 4 });
  });

  it("finds unmanaged additions of the catalogue's items only on agreements no file maps", () => {
    expect(buildAudit(inputs()).unmanaged).toEqual([
      { companyId: 260, companyName: "Hand Billed Ltd", agreementId: 900, agreementName: "Agreement 900", additionId: 9950, product: "edge", catalogItem: "TM-EDGE", quantity: 2, unitPrice: 30, monthlyValue: 60 },
    ]);
  });

  it("is drift when the addition differs from what the ledger says cwsync set, valued by the difference", () => {
    const i = inputs();
    const a = buildAudit({ ...i, additions: new Map([...i.additions, [800, [addition(9900, "TM-CAS", 26, 4)]]]) });
    expect(a.drift).toEqual([expect.objectContaining({ customer: "acme", additionId: 9900, quantity: 26, lastSet: 20, difference: 6, monthlyValue: 24, lastSetPeriod: "2027-01" })]);
    expect(failingCategories(a, ["drift", "held"])).toEqual(["drift"]);
    // without a ledger nothing is drift: it cannot be told, and says so
    const blind = buildAudit({ ...i, ledger: undefined, additions: new Map([...i.additions, [800, [addition(9900, "TM-CAS", 26, 4)]]]) });
    expect(blind.drift).toEqual([]);
    expect(blind.notes.join()).toMatch(/no state/);
  });

  it("lists a held decrease until it is released, and a release is what cwsync last set", () => {
    const i = inputs();
    const heldLine = { product: "cas", productName: "Cloud App Security", op: "held", previous: 30, quantity: 20, additionId: 9900, agreementId: 800 };
    const at30 = new Map([...i.additions, [800, [addition(9900, "TM-CAS", 30, 4)]]]);
    const held = buildAudit({ ...i, additions: at30, ledger: [entry("acme", "2027-01", [heldLine])] });
    expect(held.held).toEqual([expect.objectContaining({ customer: "acme", additionId: 9900, quantity: 30, heldQuantity: 20, monthlyValue: 40 })]);
    const released = entry("acme", "2027-01", [heldLine], { lines: [heldLine], released: [{ product: "cas", additionId: 9900, quantity: 20, at: "2027-01-03T09:00:00.000Z", by: "ann" }] });
    const after = buildAudit({ ...i, ledger: [released] });
    expect(after.held).toEqual([]);
    expect(after.drift).toEqual([]);
    expect(after.lines.find((l) => l.customer === "acme")?.lastSet).toBe(20);
  });
});
