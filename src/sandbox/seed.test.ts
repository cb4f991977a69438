import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { readConfigFiles } from "../adapters/config-files.ts";
import { loadConfig } from "../config/load.ts";
import { resolveCustomer, type EffectiveCustomer } from "../config/resolve.ts";
import { startConnectWiseSandbox } from "./connectwise-sandbox.ts";
import type { SandboxAgreement } from "./model.ts";
import { sandboxRequest } from "./sandbox-request.ts";
import { bulkSeed, loadSandboxSeed, seedFromCustomers } from "./seed.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

function realCustomers() {
  const { groups } = readConfigFiles(["customers"], ROOT);
  const result = loadConfig(groups[0].files, groups[0].globalPath);
  const global = result.global!;
  const customers = result.customers.flatMap((c) => (c.config ? [resolveCustomer(c.config, global)] : []));
  return { customers, global };
}

describe("seedFromCustomers on customers/", () => {
  const { customers, global } = realCustomers();
  const seed = seedFromCustomers(customers, global);
  const enabled = customers.filter((c) => c.enabled);
  const company = (identifier: string) => seed.companies!.find((c) => c.identifier === identifier)!;
  const agreementsOf = (identifier: string) => seed.agreements!.filter((a) => a.company.identifier === identifier);
  const active = (a: SandboxAgreement) => a.agreementStatus === "Active" && !a.cancelledFlag;

  it("has one active company per enabled customer, identifier and name as in the file", () => {
    expect(enabled.length).toBeGreaterThanOrEqual(7);
    for (const c of enabled) {
      const matches = seed.companies!.filter((x) => x.identifier === c.companyId);
      expect(matches, c.name).toHaveLength(1);
      expect(matches[0]).toMatchObject({ name: c.displayName, status: { name: "Active" }, deletedFlag: false });
    }
    // the disabled legacy tenant shares Fabrikam's ID: still one company
    expect(seed.companies!.filter((x) => x.identifier === "Fabrikam")).toHaveLength(1);
    expect(company("0042").name).toBe("Northwind Logistics");
  });

  it("has an active agreement for every explicit mapping and a default-type one for every `default`", () => {
    const defaults = global.connectwise.defaultAgreementTypes as string[];
    for (const c of enabled) {
      for (const [product, m] of Object.entries(c.agreements)) {
        const own = agreementsOf(c.companyId!).filter(active);
        const hits = m === "default"
          ? own.filter((a) => defaults.includes(a.type.name) && a.name === `${c.displayName} - Managed Services`)
          : own.filter((a) => a.type.name === m.type && a.name === m.name);
        expect(hits, `${c.name}/${product}`).toHaveLength(1);
      }
    }
    const types = seed.agreementTypes!.map((t) => t.name);
    expect(types).toEqual(expect.arrayContaining([...defaults, "Break Fix", "Managed Services"]));
  });

  it("fabrikam-retail is ambiguous: two active default-type agreements besides the one it maps explicitly", () => {
    const defaults = global.connectwise.defaultAgreementTypes as string[];
    const candidates = agreementsOf("Fabrikam").filter((a) => active(a) && defaults.includes(a.type.name) && a.name !== "Fabrikam - Network Edge");
    expect(candidates.map((a) => a.name).sort()).toEqual(["Fabrikam Retail - Managed Services", "Fabrikam Retail - Managed Services (2024)"]);
  });

  it("gives the ambiguous customer a second default-type agreement when its mappings do not", () => {
    const fabrikam = customers.find((c) => c.name === "fabrikam-retail")!;
    const onlyDefaults = { ...fabrikam, agreements: { "wfbs-svc": "default" as const } };
    const s = seedFromCustomers([onlyDefaults], global);
    const names = s.agreements!.filter((a) => a.company.identifier === "Fabrikam").map((a) => [a.type.name, a.name]);
    expect(names).toEqual([["TMRM Management Solution", "Fabrikam Retail - Managed Services"], ["Managed Service", "Fabrikam Retail - Managed Services (2024)"]]);
  });

  it("northwind's Web Gateway has a cancelled twin beside the active one", () => {
    const twins = agreementsOf("0042").filter((a) => a.name === "Northwind - Web Gateway");
    expect(twins.map((a) => [a.agreementStatus, a.cancelledFlag]).sort()).toEqual([["Active", false], ["Cancelled", true]]);
  });

  it("has the deleted, inactive and look-alike companies", () => {
    expect(company("OldTenant")).toMatchObject({ deletedFlag: true });
    expect(company("DormantCo")).toMatchObject({ status: { name: "Inactive" }, deletedFlag: false });
    expect(company("AcmeCorpUK")).toMatchObject({ deletedFlag: false });
  });

  it("catalogue items for every product; additions for some billed products, at least one left to create", () => {
    for (const p of Object.values(global.products)) {
      expect(seed.catalog!.filter((c) => c.identifier === p.catalogItem && c.productClass === "Agreement")).toHaveLength(1);
    }
    let present = 0;
    let missing = 0;
    for (const c of enabled) {
      const billed = c.reports.find((r) => r.report === "billing")?.products ?? [];
      for (const p of billed) {
        const ids = agreementsOf(c.companyId!).filter(active).map((a) => a.id);
        const has = seed.additions!.some((a) => ids.includes(a.agreementId) && a.product.identifier === global.products[p].catalogItem && a.agreementStatus === "Active");
        if (has) present++;
        else missing++;
      }
    }
    expect(present).toBeGreaterThan(0);
    expect(missing).toBeGreaterThan(0);
    for (const a of seed.additions!.filter((x) => x.agreementStatus === "Active")) expect(a.quantity).toBeGreaterThan(0);
  });

  it("has the ticket board with New, In Progress and Closed", () => {
    const board = seed.boards!.find((b) => b.name === global.connectwise.tickets.board)!;
    expect(seed.statuses!.filter((s) => s.board.id === board.id).map((s) => s.name)).toEqual(["New", "In Progress", "Closed"]);
  });

  it("is deterministic, and loadSandboxSeed gives the same records", () => {
    expect(seedFromCustomers(customers, global)).toEqual(seed);
    expect(loadSandboxSeed(ROOT)).toEqual(seed);
  });

  it("adds the configured board and status when they differ from the standard ones", () => {
    const g = { ...global, connectwise: { ...global.connectwise, tickets: { board: "Billing", status: "Waiting" } } };
    const s = seedFromCustomers([] as EffectiveCustomer[], g);
    expect(s.boards!.map((b) => b.name)).toEqual(["Managed Services", "Billing"]);
    expect(s.statuses!.filter((x) => x.board.name === "Billing").map((x) => x.name)).toEqual(["New", "In Progress", "Closed", "Waiting"]);
  });

  it("serves the seed: verify-style batch by identifier finds the customers", async () => {
    const sb = await startConnectWiseSandbox({ seed });
    try {
      const r = await sandboxRequest(sb, "GET", "/company/companies", { query: { conditions: 'identifier in ("AcmeCorp","0042","OldTenant","NoSuchCo")', pageSize: 1000 } });
      expect((r.json as { identifier: string }[]).map((c) => c.identifier)).toEqual(["AcmeCorp", "0042", "OldTenant"]);
    } finally {
      await sb.close();
    }
  });
});

describe("bulkSeed", () => {
  it("makes n companies, each with one default-type agreement and one Break Fix", () => {
    const s = bulkSeed(3);
    expect(s.companies!.map((c) => c.identifier)).toEqual(["BULK00001", "BULK00002", "BULK00003"]);
    expect(s.agreements!.filter((a) => a.company.identifier === "BULK00002").map((a) => a.type.name)).toEqual(["TMRM Management Solution", "Break Fix"]);
    expect(s.boards).toHaveLength(1);
  });

  it("extends a base seed without reusing its ids", () => {
    const base = loadSandboxSeed(ROOT);
    const s = bulkSeed(2, { base, agreementType: "Managed Service" });
    const ids = s.companies!.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(s.companies!.length).toBe(base.companies!.length + 2);
    expect(s.agreementTypes!.filter((t) => t.name === "Managed Service")).toHaveLength(1);
    expect(s.boards).toEqual(base.boards);
  });
});
