import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FakeClock } from "../../../test/helpers/fake-clock.ts";
import { startConnectWiseSandbox, type ConnectWiseSandbox } from "../../sandbox/connectwise-sandbox.ts";
import { bulkSeed, loadSandboxSeed } from "../../sandbox/seed.ts";
import { ConnectWiseClient } from "./connectwise-client.ts";
import { fetchAll } from "./paging.ts";
import { ConnectWiseTransport } from "./transport.ts";

// The client against the embedded sandbox over real loopback HTTP.
let sandbox: ConnectWiseSandbox | undefined;
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

async function connect(seed = loadSandboxSeed(join(import.meta.dirname, "../../.."))) {
  sandbox = await startConnectWiseSandbox({ seed });
  const clock = new FakeClock();
  const http = new ConnectWiseTransport({ url: sandbox.url, ...sandbox.credentials }, { clock, random: () => 0.5 });
  return { sb: sandbox, clock, http, cw: new ConnectWiseClient(http) };
}

describe("ConnectWise client against the sandbox", () => {
  it("pages through 2,500 companies with every parameter repeated", async () => {
    const { sb, http } = await connect(bulkSeed(2500));
    const rows = await fetchAll<{ id: number }>(http, "company/companies", { conditions: 'identifier like "BULK%"', fields: "id,identifier" }, { id: "number" });
    expect(rows).toHaveLength(2500);
    expect(new Set(rows.map((r) => r.id)).size).toBe(2500);
    const pages = sb.requests.filter((r) => r.path === "/company/companies");
    expect(pages.map((r) => r.query.page)).toEqual(["1", "2", "3"]);
    expect(pages.every((r) => r.query.conditions === 'identifier like "BULK%"' && r.query.pageSize === "1000")).toBe(true);
  });

  it("finds companies and agreements in batches", async () => {
    const { sb, cw } = await connect(bulkSeed(600));
    const ids = Array.from({ length: 600 }, (_, i) => `BULK${String(i + 1).padStart(5, "0")}`);
    const companies = await cw.findCompanies(ids);
    expect(companies).toHaveLength(600);
    const agreements = await cw.agreementsOf(companies.map((c) => c.id));
    expect(agreements).toHaveLength(1200);
    expect(sb.requests.length).toBeLessThanOrEqual(12);
  });

  it("waits as long as Retry-After says on 429 (fake clock)", async () => {
    const { sb, cw, clock } = await connect();
    sb.faults.add({ kind: "status", status: 429, retryAfter: 7, path: "/finance/agreements/types" });
    await cw.agreementTypes();
    expect(clock.sleeps).toContain(7000);
  });

  it("a reset after the create committed: unknown, and looking finds exactly one addition", async () => {
    const { sb, cw } = await connect();
    const agreement = sb.state.agreements.find((a) => a.name === "Acme - Email Protection")!;
    const item = sb.state.catalog.find((i) => i.identifier === "TM-CAS")!;
    sb.faults.add({ kind: "reset-after-commit", method: "POST" });
    const r = await cw.createAddition(agreement.id, { productId: item.id, quantity: 12, effectiveDate: "2027-01-01", billCustomer: "Billable" });
    expect(r.outcome).toBe("unknown");
    const lines = (await cw.additionsOf(agreement.id)).filter((a) => a.product.identifier === "TM-CAS");
    expect(lines.map((a) => a.quantity)).toEqual([12]);
    expect(sb.requests.filter((q) => q.method === "POST")).toHaveLength(1);
  });

  it("a redirect after a create to the record on our own host is read back there, not re-posted", async () => {
    const { sb, cw } = await connect();
    const company = sb.state.companies.find((c) => c.identifier === "AcmeCorp")!;
    sb.faults.add({ kind: "redirect-after-commit", method: "POST" });
    const r = await cw.createTicket({ boardName: "Managed Services", companyId: company.id, summary: "Billing 2027-01 Acme Corporation cws-00112233aa", initialDescription: "seats" });
    expect(r.outcome).toBe("created");
    expect(await cw.findTicketsByKey("cws-00112233aa", company.id)).toHaveLength(1);
    expect(sb.requests.filter((q) => q.method === "POST")).toHaveLength(1);
  });

  it("a PATCH lost to a reset is retried and sets the absolute quantity once", async () => {
    const { sb, cw } = await connect();
    const addition = sb.state.additions.find((a) => !a.cancelledDate)!;
    sb.faults.add({ kind: "reset", method: "PATCH" });
    const updated = await cw.setAdditionQuantity(addition.agreementId, addition.id, 42);
    expect(updated.quantity).toBe(42);
    expect(sb.state.additions.find((a) => a.id === addition.id)!.quantity).toBe(42);
  });

  it("creates a ticket on a board by name and finds it by its send key; notes need no extra flags", async () => {
    const { sb, cw } = await connect();
    const company = sb.state.companies.find((c) => c.identifier === "0042")!;
    const created = await cw.createTicket({ boardName: "Managed Services", statusName: "New", companyId: company.id, summary: "Billing 2027-01 Northwind Logistics cws-0a1b2c3d4e", initialDescription: "wfbs-svc 40 → 42" });
    expect(created.outcome).toBe("created");
    const [found] = await cw.findTicketsByKey("cws-0a1b2c3d4e", company.id);
    expect(found.board?.name).toBe("Managed Services");
    const note = await cw.addTicketNote(found.id, "hes 10 → 12");
    expect(note.outcome).toBe("created");
    expect(await cw.findTicketsByKey("cws-ffffffffff", company.id)).toEqual([]);
  });
});
