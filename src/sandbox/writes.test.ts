import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startConnectWiseSandbox, type ConnectWiseSandbox } from "./connectwise-sandbox.ts";
import { sandboxRequest } from "./sandbox-request.ts";
import { SeedBuilder } from "./seed-builder.ts";

const NOW = new Date("2027-03-10T09:15:00Z");

function seed() {
  const b = new SeedBuilder();
  const acme = b.company("AcmeCorp", "Acme Corporation"); // 250
  const agreement = b.agreement(acme, "Managed Service", "Acme - Managed"); // 800
  const wfbs = b.catalogItem("TM-WFBSS", "Worry-Free Business Security Services"); // 4400
  b.catalogItem("TM-HES", "Hosted Email Security"); // 4401
  b.addition(agreement, wfbs, 40); // 9900
  b.board("Managed Services", ["New", "In Progress", "Closed"]); // board 1, statuses 11-13
  b.board("Escalations", ["Triage"]); // board 2, status 14
  const s = b.build();
  s.catalog!.push({ id: 4499, identifier: "TM-BUNDLE", description: "A bundle", inactiveFlag: false, productClass: "Bundle" });
  return s;
}

describe("agreement additions", () => {
  let sb: ConnectWiseSandbox;
  beforeAll(async () => {
    sb = await startConnectWiseSandbox({ seed: seed(), now: () => NOW });
  });
  afterAll(() => sb.close());

  it("lists an agreement's additions with product references and computed fields", async () => {
    const r = await sandboxRequest(sb, "GET", "/finance/agreements/800/additions", { query: { conditions: 'product/identifier = "tm-wfbss" and agreementStatus = "Active"' } });
    expect(r.json).toMatchObject([{ id: 9900, agreementId: 800, product: { id: 4400, identifier: "TM-WFBSS" }, quantity: 40, billedQuantity: 40 }]);
    expect((await sandboxRequest(sb, "GET", "/finance/agreements/999/additions")).json).toEqual({ code: "NotFound", message: "Agreement 999 not found" });
  });

  it("POST creates: 201 with the full addition, product by identifier", async () => {
    const r = await sandboxRequest(sb, "POST", "/finance/agreements/800/additions", {
      body: { product: { identifier: "TM-HES" }, quantity: 25, billCustomer: "Billable", effectiveDate: "2027-03-01T00:00:00Z" },
    });
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({
      id: 9901, agreementId: 800, product: { id: 4401, identifier: "TM-HES" }, quantity: 25, billCustomer: "Billable",
      effectiveDate: "2027-03-01T00:00:00Z", cancelledDate: null, agreementStatus: "Active",
      _info: { lastUpdated: "2027-03-10T09:15:00Z", updatedBy: expect.any(String) },
    });
    expect(sb.state.additions.map((a) => a.id)).toContain(9901);
  });

  it("POST without product and billCustomer: 400 InvalidObject listing both", async () => {
    const r = await sandboxRequest(sb, "POST", "/finance/agreements/800/additions", { body: { quantity: 3 } });
    expect(r.status).toBe(400);
    expect(r.json).toEqual({
      code: "InvalidObject", message: "addition object is invalid",
      errors: [
        { code: "MissingRequiredField", message: "product is required.", resource: "addition", field: "product" },
        { code: "MissingRequiredField", message: "billCustomer is required.", resource: "addition", field: "billCustomer" },
      ],
    });
  });

  it("POST refuses a product not in the catalogue, a bundle, and a bad date", async () => {
    const unknown = await sandboxRequest(sb, "POST", "/finance/agreements/800/additions", { body: { product: { id: 1 }, billCustomer: "Billable" } });
    expect(unknown.json).toMatchObject({ code: "InvalidObject", errors: [{ code: "InvalidField", field: "product" }] });
    const bundle = await sandboxRequest(sb, "POST", "/finance/agreements/800/additions", { body: { product: { id: 4499 }, billCustomer: "Billable" } });
    expect(bundle.status).toBe(400);
    const date = await sandboxRequest(sb, "POST", "/finance/agreements/800/additions", { body: { product: { id: 4401 }, billCustomer: "Billable", effectiveDate: "03/01/2027" } });
    expect(date.json).toMatchObject({ errors: [{ code: "UnsupportedFormat", field: "effectiveDate" }] });
  });

  it("PATCH replaces quantity (bare or /-prefixed path): 200 with the updated addition", async () => {
    const bare = await sandboxRequest(sb, "PATCH", "/finance/agreements/800/additions/9900", { body: [{ op: "replace", path: "quantity", value: 42 }] });
    expect(bare.status).toBe(200);
    expect(bare.json).toMatchObject({ id: 9900, quantity: 42, billedQuantity: 42, _info: { lastUpdated: "2027-03-10T09:15:00Z" } });
    const slash = await sandboxRequest(sb, "PATCH", "/finance/agreements/800/additions/9900", { body: [{ op: "replace", path: "/quantity", value: 44 }] });
    expect(slash.json).toMatchObject({ quantity: 44 });
    expect(sb.state.additions.find((a) => a.id === 9900)?.quantity).toBe(44);
  });

  it("PATCH paths are case-sensitive; an unknown path is 400 and changes nothing", async () => {
    const r = await sandboxRequest(sb, "PATCH", "/finance/agreements/800/additions/9900", {
      body: [{ op: "replace", path: "quantity", value: 1 }, { op: "replace", path: "Quantity", value: 50 }],
    });
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({ code: "InvalidObject", errors: [{ code: "InvalidField", field: "Quantity", resource: "addition" }] });
    expect(sb.state.additions.find((a) => a.id === 9900)?.quantity).toBe(44);
    const notNumber = await sandboxRequest(sb, "PATCH", "/finance/agreements/800/additions/9900", { body: [{ op: "replace", path: "quantity", value: "50" }] });
    expect(notNumber.status).toBe(400);
    const notArray = await sandboxRequest(sb, "PATCH", "/finance/agreements/800/additions/9900", { body: { quantity: 50 } });
    expect(notArray.status).toBe(400);
  });

  it("PATCH of a reference sub-path answers 200 without changing anything, as ConnectWise does", async () => {
    const r = await sandboxRequest(sb, "PATCH", "/finance/agreements/800/additions/9900", { body: [{ op: "replace", path: "product/identifier", value: "TM-HES" }] });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ product: { identifier: "TM-WFBSS" } });
  });

  it("cancelling a line through cancelledDate makes it Cancelled", async () => {
    const r = await sandboxRequest(sb, "PATCH", "/finance/agreements/800/additions/9901", { body: [{ op: "replace", path: "cancelledDate", value: "2027-03-01T00:00:00Z" }] });
    expect(r.json).toMatchObject({ agreementStatus: "Cancelled", cancelledDate: "2027-03-01T00:00:00Z" });
    expect((await sandboxRequest(sb, "GET", "/finance/agreements/800/additions/9902")).status).toBe(404);
  });
});

describe("service tickets and notes", () => {
  let sb: ConnectWiseSandbox;
  beforeAll(async () => {
    sb = await startConnectWiseSandbox({ seed: seed(), now: () => NOW });
  });
  afterAll(() => sb.close());

  it("POST creates with references resolved, status New by default, initialDescription as the first note", async () => {
    const r = await sandboxRequest(sb, "POST", "/service/tickets", {
      body: { summary: "Billing 2027-03 Acme Corporation cws-0123456789", board: { name: "managed services" }, company: { identifier: "acmecorp" }, initialDescription: "WFBSS 40 -> 42", processNotifications: false },
    });
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({
      id: 100000, summary: "Billing 2027-03 Acme Corporation cws-0123456789", recordType: "ServiceTicket",
      board: { id: 1, name: "Managed Services" }, status: { id: 11, name: "New" }, company: { id: 250, identifier: "AcmeCorp", name: "Acme Corporation" },
      closedFlag: false, _info: { lastUpdated: "2027-03-10T09:15:00Z" },
    });
    expect(r.json).not.toHaveProperty("initialDescription");
    const notes = await sandboxRequest(sb, "GET", "/service/tickets/100000/notes");
    expect(notes.json).toMatchObject([{ ticketId: 100000, text: "WFBSS 40 -> 42", detailDescriptionFlag: true, internalAnalysisFlag: false, resolutionFlag: false }]);
    const found = await sandboxRequest(sb, "GET", "/service/tickets", { query: { conditions: 'summary contains "cws-0123456789" and closedFlag = false' } });
    expect((found.json as unknown[]).length).toBe(1);
  });

  it("board and status by id; a status of another board or an unknown board is refused", async () => {
    const ok = await sandboxRequest(sb, "POST", "/service/tickets", { body: { summary: "s", board: { id: 2 }, status: { name: "Triage" }, company: { id: 250 } } });
    expect(ok.json).toMatchObject({ board: { name: "Escalations" }, status: { id: 14, name: "Triage" } });
    const wrongStatus = await sandboxRequest(sb, "POST", "/service/tickets", { body: { summary: "s", board: { id: 1 }, status: { name: "Triage" }, company: { id: 250 } } });
    expect(wrongStatus.json).toMatchObject({ code: "InvalidObject", errors: [{ field: "status" }] });
    const board = await sandboxRequest(sb, "POST", "/service/tickets", { body: { summary: "s", board: { name: "Nope" }, company: { id: 250 } } });
    expect(board.status).toBe(400);
    expect(board.json).toMatchObject({ code: "InvalidObject", message: "ticket object is invalid", errors: [{ code: "InvalidField", resource: "ticket", field: "board" }] });
  });

  it("summary over 100 characters, or summary/company missing, is 400 InvalidObject", async () => {
    const long = await sandboxRequest(sb, "POST", "/service/tickets", { body: { summary: "x".repeat(101), company: { id: 250 } } });
    expect(long.status).toBe(400);
    expect(long.json).toEqual({
      code: "InvalidObject", message: "ticket object is invalid",
      errors: [{ code: "InvalidField", message: "summary cannot be longer than 100 characters", resource: "ticket", field: "summary" }],
    });
    expect((await sandboxRequest(sb, "POST", "/service/tickets", { body: { summary: "x".repeat(100), company: { id: 250 } } })).status).toBe(201);
    const none = await sandboxRequest(sb, "POST", "/service/tickets", { body: {} });
    expect(none.json).toMatchObject({ errors: [{ code: "MissingRequiredField", field: "summary" }, { code: "MissingRequiredField", field: "company" }] });
    const ghost = await sandboxRequest(sb, "POST", "/service/tickets", { body: { summary: "s", company: { identifier: "Ghost" } } });
    expect(ghost.json).toMatchObject({ errors: [{ code: "InvalidField", field: "company" }] });
  });

  it("a note needs text and a place to display it", async () => {
    const none = await sandboxRequest(sb, "POST", "/service/tickets/100000/notes", { body: { text: "hello", detailDescriptionFlag: false } });
    expect(none.status).toBe(400);
    expect(none.json).toMatchObject({
      code: "InvalidObject", message: "serviceNote object is invalid",
      errors: [{ message: "Please choose where to display the notes in order to save this record.", resource: "serviceNote" }],
    });
    const ok = await sandboxRequest(sb, "POST", "/service/tickets/100000/notes", { body: { text: "hello", internalAnalysisFlag: true } });
    expect(ok.status).toBe(201);
    expect(ok.json).toMatchObject({ ticketId: 100000, text: "hello", internalAnalysisFlag: true, detailDescriptionFlag: false });
    const id = (ok.json as { id: number }).id;
    expect((await sandboxRequest(sb, "GET", `/service/tickets/100000/notes/${id}`)).json).toMatchObject({ text: "hello" });
    expect((await sandboxRequest(sb, "POST", "/service/tickets/100000/notes", { body: { resolutionFlag: true } })).json).toMatchObject({ errors: [{ field: "text" }] });
    expect((await sandboxRequest(sb, "POST", "/service/tickets/4/notes", { body: { text: "x", resolutionFlag: true } })).json).toEqual({ code: "NotFound", message: "Ticket 4 not found" });
  });

  it("boards and their statuses are listed", async () => {
    expect(((await sandboxRequest(sb, "GET", "/service/boards")).json as { name: string }[]).map((b) => b.name)).toEqual(["Managed Services", "Escalations"]);
    const statuses = await sandboxRequest(sb, "GET", "/service/boards/1/statuses", { query: { fields: "id,name" } });
    expect(statuses.json).toEqual([{ id: 11, name: "New" }, { id: 12, name: "In Progress" }, { id: 13, name: "Closed" }]);
  });
});
