import { describe, expect, it } from "vitest";
import { systemClock } from "../adapters/clock-system.ts";
import { LmpiClient } from "../adapters/lmpi/lmpi-client.ts";
import type { GlobalFile } from "../config/model.ts";
import type { EffectiveCustomer } from "../config/resolve.ts";
import { startLmpiSandbox } from "./lmpi-sandbox.ts";
import { seedLmpiFromCustomers, seedRows } from "./lmpi-seed.ts";

const global: GlobalFile = {
  apiVersion: "cwsync/v1",
  kind: "Global",
  connectwise: { defaultAgreementTypes: ["Managed Service"], tickets: { board: "Managed Services" } },
  products: {
    "wfbs-svc": { displayName: "WFBS", lmp: { productName: "Worry-Free Business Security Services" }, catalogItem: "TM-WFBSS", quantity: "used" },
    "cloud-edge": { displayName: "Cloud Edge", lmp: { productName: "Cloud Edge" }, catalogItem: "TM-CLOUDEDGE", quantity: "provisioned" },
    cas: { displayName: "CAS", lmp: { productName: "Cloud App Security" }, catalogItem: "TM-CAS", quantity: "used" },
  },
  notifications: { timezone: "UTC", at: "06:00", billing: { products: "all", dayOfMonth: 1 } },
};

function customer(name: string, lmpCustomer: string, products: string[]): EffectiveCustomer {
  return {
    name, displayName: lmpCustomer, lmpCustomer, emailDomains: [], enabled: true, companyId: name,
    agreements: Object.fromEntries(products.map((p) => [p, "default" as const])),
    settings: "global", timezone: "UTC", at: "06:00", reports: [],
  };
}

const customers = [
  customer("acme-corp", "Acme Corporation", ["wfbs-svc", "cloud-edge"]),
  customer("sakura-trading", "Sakura Trading KK", ["cas", "not-in-catalogue"]),
  customer("acme-corp-legacy", "Acme Corporation", ["wfbs-svc"]),
];

describe("seedLmpiFromCustomers", () => {
  const rowsFor = seedLmpiFromCustomers(customers, global);

  it("one row per LMP customer and mapped catalogue product, named as the files and the catalogue name them", () => {
    const rows = rowsFor(2025, 7);
    expect(rows.map((r) => [r.customer, r.product_name])).toEqual([
      ["Acme Corporation", "Cloud Edge"],
      ["Acme Corporation", "Worry-Free Business Security Services"],
      ["Sakura Trading KK", "Cloud App Security"],
    ]);
    expect(rows[0]).toMatchObject({ service_plan: "Cloud Edge (Full)", unit: "Appliances", owned_by_vendor: "Sandbox MSP" });
  });

  it("is stable across runs: the same numbers for the same month, every time", () => {
    const counts = (y: number, m: number) => seedLmpiFromCustomers(customers, global)(y, m).map((r) => [r.provisioned, r.used]);
    expect(counts(2025, 7)).toEqual([[4, 4], [56, 52], [80, 65]]);
    expect(counts(2025, 8)).toEqual([[3, 3], [60, 56], [78, 76]]);
    expect(rowsFor(2025, 7)).toEqual(rowsFor(2025, 7));
  });

  it("changes from month to month, with used never above provisioned", () => {
    const months = Array.from({ length: 24 }, (_, i) => rowsFor(2024 + Math.floor(i / 12), (i % 12) + 1));
    const seen = new Set(months.map((rows) => JSON.stringify(rows.map((r) => [r.provisioned, r.used]))));
    expect(seen.size).toBeGreaterThan(20);
    for (const r of months.flat()) {
      expect(r.used).toBeGreaterThanOrEqual(0);
      expect(r.used).toBeLessThanOrEqual(r.provisioned);
      expect(r.provisioned).toBeGreaterThanOrEqual(1);
    }
  });
});

describe("seedRows", () => {
  it("reads a function seed or a YYYY-MM record; nothing for an unseeded month", () => {
    const row = seedLmpiFromCustomers(customers, global)(2025, 7)[0];
    expect(seedRows({ "2025-07": [row] }, 2025, 7)).toEqual([row]);
    expect(seedRows({ "2025-07": [row] }, 2025, 8)).toEqual([]);
    expect(seedRows(undefined, 2025, 7)).toEqual([]);
    expect(seedRows(() => [row], 1999, 1)).toEqual([row]);
  });
});

describe("LMPI sandbox seeded from customers, read by the client", () => {
  it("serves different seat counts for different months, the same on every run", async () => {
    // a pinned clock on both sides: July 2025 would fall out of the two-year retention on the real one
    const now = () => Date.UTC(2025, 8, 1);
    const sb = await startLmpiSandbox({ rows: seedLmpiFromCustomers(customers, global), now });
    try {
      const lmpi = new LmpiClient({ url: sb.url, ...sb.credentials }, { clock: systemClock, realNow: now });
      const july = await lmpi.summary(2025, 7);
      const august = await lmpi.summary(2025, 8);
      expect(july.map((r) => r.used)).toEqual([4, 52, 65]);
      expect(august.map((r) => r.used)).toEqual([3, 56, 76]);
      expect(await lmpi.summary(2025, 7)).toEqual(july);
    } finally {
      await sb.close();
    }
  });
});
