import { describe, expect, it } from "vitest";
import type { GlobalFile } from "../config/model.ts";
import type { EffectiveCustomer } from "../config/resolve.ts";
import type { Addition, Agreement } from "../ports/connectwise.ts";
import { billingPreview, type PreviewInputs } from "./billing-preview.ts";
import type { CustomerChecks } from "./connectwise-checks.ts";

const globalWith = (decreases: "hold" | "update") => ({
  connectwise: { decreases },
  products: { cas: { displayName: "Cloud App Security", lmp: { productName: "Cloud App Security" }, catalogItem: "TM-CAS", quantity: "used" } },
}) as unknown as GlobalFile;

const customer = (over: Partial<EffectiveCustomer> = {}): EffectiveCustomer => ({
  name: "acme", displayName: "Acme", lmpCustomer: "Acme Corp", emailDomains: [], enabled: true, companyId: "Acme", agreements: { cas: "default" },
  settings: "global", timezone: "UTC", at: "06:00", reports: [{ report: "billing", spec: { kind: "monthly-day", dayOfMonth: 1 }, products: ["cas"] }],
  ...over,
});
const ag: Agreement = { id: 800, name: "Acme MS", type: { id: 1, name: "Managed Service" }, company: { id: 250 } };
const checks: CustomerChecks = {
  name: "acme", company: { state: "found", company: { id: 250, identifier: "Acme", name: "Acme" } },
  mappings: [{ product: "cas", state: "resolved", agreements: [ag], message: "" }], catalog: [],
};
const addition = (quantity: number, unitPrice?: number) => ({ id: 9900, product: { id: 1, identifier: "TM-CAS" }, quantity, ...(unitPrice !== undefined ? { unitPrice } : {}) }) as Addition;
const rows = (used: number) => [{ customerName: "Acme Corp", productName: "Cloud App Security", used, provisioned: used + 2 }];

const inputs = (over: Partial<PreviewInputs> = {}): PreviewInputs => ({
  customers: [customer()], global: globalWith("hold"), checks: new Map([["acme", checks]]),
  rows: new Map([["2027-02", rows(18)]]), additions: new Map([[800, [addition(20, 4.5)]]]), now: new Date("2027-01-20T00:00:00Z"),
  ...over,
});

describe("billingPreview", () => {
  it("the next billing, the addition's quantity now → the seats, the money, a held decrease flagged", () => {
    const [p] = billingPreview(inputs());
    expect(p).toMatchObject({ customer: "acme", state: "ok", periodKey: "2027-02", seatsMonth: "2027-02", due: new Date("2027-02-01T06:00:00Z") });
    expect(p.state === "ok" && p.lines).toEqual([
      { product: "cas", productName: "Cloud App Security", op: "held", previous: 20, quantity: 18, change: -2, unitPrice: 4.5, money: -9, decrease: true, reason: "decrease.held", message: expect.stringContaining("20 → 18") },
    ]);
  });

  it("under `decreases: update` a decrease is set, still flagged; no unit price, no money", () => {
    const [p] = billingPreview(inputs({ global: globalWith("update"), additions: new Map([[800, [addition(20)]]]) }));
    expect(p.state === "ok" && p.lines[0]).toMatchObject({ op: "set", change: -2, decrease: true });
    expect(p.state === "ok" && "money" in p.lines[0]).toBe(false);
  });

  it("reads the previous month's report under `seatsFrom: previous-month`", () => {
    const c = customer({ reports: [{ report: "billing", spec: { kind: "monthly-day", dayOfMonth: 1 }, products: ["cas"], seatsFrom: "previous-month" }] });
    const [p] = billingPreview(inputs({ customers: [c], rows: new Map([["2027-01", rows(25)]]) }));
    expect(p).toMatchObject({ state: "ok", seatsMonth: "2027-01" });
    expect(p.state === "ok" && p.lines[0]).toMatchObject({ op: "set", previous: 20, quantity: 25, change: 5, money: 22.5, decrease: false });
  });

  it("a failed read is the customer's reason, not an error", () => {
    const [noLmp] = billingPreview(inputs({ rows: new Map([["2027-02", { error: "LMPI answered 503" }]]) }));
    expect(noLmp).toMatchObject({ state: "none", reason: "license.unavailable", periodKey: "2027-02", message: expect.stringContaining("LMPI answered 503") });
    const [noAdditions] = billingPreview(inputs({ additions: new Map([[800, { error: "timeout" }]]) }));
    expect(noAdditions).toMatchObject({ state: "none", reason: "connectwise.unavailable", message: expect.stringContaining("#800") });
    const [empty] = billingPreview(inputs({ rows: new Map([["2027-02", []]]) }));
    expect(empty).toMatchObject({ state: "none", reason: "lmpi.empty-report" });
  });
});
