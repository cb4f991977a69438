import { describe, expect, it } from "vitest";
import { GLOBAL_FILE, loadConfig } from "../config/load.ts";
import type { GlobalFile } from "../config/model.ts";
import type { EffectiveCustomer } from "../config/resolve.ts";
import type { Addition, Agreement, Company } from "../ports/connectwise.ts";
import type { LicenseRow } from "../ports/license-source.ts";
import { cursorKey, type LedgerEntry } from "../ports/state-store.ts";
import type { Action, BillingSend } from "./actions.ts";
import { billingLine, type LineInputs } from "./billing-lines.ts";
import { checkCustomer, type CustomerChecks } from "./connectwise-checks.ts";
import { assembleDesired, type Desired } from "./desired.ts";
import { buildPlan, type LedgerView, type Observed } from "./plan.ts";
import { sendKey } from "./send-key.ts";

const globalYaml = (decreases: "apply" | "hold") => `apiVersion: cwsync/v1
kind: Global
connectwise:
  defaultAgreementTypes: [Managed Service]
  tickets: { board: Managed Services, status: New }
  decreases: ${decreases}
products:
  wfbs-svc:
    displayName: Worry-Free Business Security Services
    lmp: { productName: Worry-Free Business Security Services }
    catalogItem: TM-WFBSS
    quantity: used
  cloud-edge:
    displayName: Cloud Edge
    lmp: { productName: Cloud Edge }
    catalogItem: TM-CLOUDEDGE
    quantity: provisioned
notifications:
  timezone: UTC
  at: "06:00"
  billing: { products: all, dayOfMonth: 1 }
catchUp: { detections: 3d }
`;

interface CustomerOpts {
  companyId?: string;
  tz?: string;
  at?: string;
  day?: number;
  enabled?: boolean;
  suspendUntil?: string;
  hostedEmailSecurity?: "day" | "week" | "month";
  /** `trendMicro.customer`; two acting files naming one LMP customer make its rows ambiguous. */
  lmp?: string;
}

const customerYaml = (name: string, o: CustomerOpts = {}) => [
  "apiVersion: cwsync/v1", "kind: Customer", `name: ${name}`,
  ...(o.suspendUntil ? ["suspend:", "  reason: contract renegotiation", `  until: ${o.suspendUntil}`] : []),
  "trendMicro:", `  customer: ${o.lmp ?? "Acme Corporation"}`, "  emailDomains: [acme.example]",
  "connectwise:", `  enabled: ${o.enabled ?? true}`, `  companyId: ${o.companyId ?? "AcmeCorp"}`,
  "agreements:", "  wfbs-svc: default",
  "notifications:", `  timezone: ${o.tz ?? "UTC"}`, `  at: "${o.at ?? "06:00"}"`,
  "  billing:", "    products: [wfbs-svc]", `    dayOfMonth: ${o.day ?? 1}`,
  ...(o.hostedEmailSecurity ? ["  hostedEmailSecurity:", `    every: ${o.hostedEmailSecurity}`, "    detections: [spam, phishing]"] : []),
  "",
].join("\n");

/** The desired state of one revision whose customers were first applied at `appliedAt`. */
function desiredOf(files: Record<string, string>, appliedAt: Date, decreases: "apply" | "hold" = "hold"): Desired {
  const sources = Object.entries({ [GLOBAL_FILE]: globalYaml(decreases), ...files }).map(([name, text]) => ({ path: `customers/${name}`, size: text.length, text }));
  const load = loadConfig(sources, `customers/${GLOBAL_FILE}`);
  expect(load.diagnostics).toEqual([]);
  return assembleDesired({ revision: "rev1", load, previous: [], allowMassRemoval: false, now: appliedAt });
}

const COMPANY: Company = { id: 1, identifier: "AcmeCorp", name: "Acme Corporation", status: { id: 1, name: "Active" } };
const AGREEMENT: Agreement = { id: 10, name: "Acme - Managed Services", type: { id: 1, name: "Managed Service" }, company: { id: 1 }, agreementStatus: "Active" };
const CATALOG = [{ id: 100, identifier: "TM-WFBSS" }, { id: 101, identifier: "TM-CLOUDEDGE" }];

function checksOf(c: EffectiveCustomer, global: GlobalFile, catalog = CATALOG): CustomerChecks {
  return checkCustomer(c, global, { companies: [COMPANY, { ...COMPANY, id: 2, identifier: "Other" }], agreements: [AGREEMENT], catalog, agreementTypes: [], companyStatuses: [] });
}

const row = (used: number, over: Partial<LicenseRow> = {}): LicenseRow => ({
  customerName: "Acme Corporation", productName: "Worry-Free Business Security Services", servicePlan: "Full", provisioned: used + 2, used, ...over,
});

const addition = (id: number, quantity: number, over: Partial<Addition> = {}): Addition => ({
  id, product: { id: 100, identifier: "TM-WFBSS" }, quantity, agreementId: 10, agreementStatus: "Active", cancelledDate: null, ...over,
});

/** ConnectWise and LMP as observed: the company found, wfbs-svc's addition at 40 seats, and these seat counts per month. */
function observedFor(desired: Desired, seatsByMonth: Record<string, number>, additions: Addition[] = [addition(500, 40)]): Observed {
  const checks = new Map(desired.customers.filter((d) => d.customer).map((d) => [d.name, checksOf(d.customer!, desired.global!)]));
  return {
    checks,
    licenses: new Map(Object.entries(seatsByMonth).map(([m, used]) => [m, [row(used)]])),
    additions: new Map([[10, additions]]),
  };
}

const EMPTY: LedgerView = { entries: new Map(), cursors: new Map(), unfinished: [] };

const entry = (key: string, state: LedgerEntry["state"], over: Partial<LedgerEntry> = {}): LedgerEntry => ({
  key, customer: "acme", report: "billing", periodKey: "2027-04", trigger: "schedule", state, dueAt: "2027-04-01T06:00:00.000Z",
  attempts: 1, createdAt: "2027-04-01T06:00:01.000Z", updatedAt: "2027-04-01T06:00:02.000Z", ...over,
});

const brief = (actions: readonly Action[]) => actions.map((a) => `${a.customer} ${a.report} ${a.periodKey} ${a.kind}${a.kind === "billing" || a.kind === "report" ? "" : ` ${a.kind === "record" ? a.state : ""}${a.reason}`}`);

const at = (iso: string) => new Date(iso);

describe("buildPlan", () => {
  it("does not back-fill: a customer's history starts when it was first applied", () => {
    const desired = desiredOf({ "acme.yaml": customerYaml("acme") }, at("2027-03-10T00:00:00Z"));
    const observed = observedFor(desired, { "2027-03": 41, "2027-04": 42 });
    // March 1 fell due before the customer was applied: never sent
    expect(buildPlan(desired, observed, EMPTY, at("2027-03-31T23:59:00Z")).actions).toEqual([]);
    const april = buildPlan(desired, observed, EMPTY, at("2027-04-01T06:00:00Z")).actions;
    expect(brief(april)).toEqual(["acme billing 2027-04 billing"]);
    expect(april[0]).toMatchObject({ key: sendKey("acme", "billing", "2027-04"), due: "2027-04-01T06:00:00.000Z", trigger: "schedule", resume: false });
    expect((april[0] as BillingSend).lines.map((l) => [l.op, l.previous, l.quantity])).toEqual([["set", 40, 42]]);
    expect((april[0] as BillingSend).summary).toBe(`Billing 2027-04 Acme Corporation ${sendKey("acme", "billing", "2027-04")}`);
  });

  it("writes a billing send's ticket text when it is read, the same each time, where it always stood; a copy (the ledger payload) holds the text", () => {
    const desired = desiredOf({ "acme.yaml": customerYaml("acme") }, at("2027-03-10T00:00:00Z"));
    const send = buildPlan(desired, observedFor(desired, { "2027-04": 42 }), EMPTY, at("2027-04-01T06:00:00Z")).actions[0] as BillingSend;
    expect(Object.getOwnPropertyDescriptor(send, "description")?.get).toBeTypeOf("function");
    expect(send.description).toMatch(/^Billing for Acme Corporation, 2027-04: seats from the Trend Micro Licensing Management Platform\.\n/);
    expect(send.description).toContain("40 → 42 — updated");
    expect(send.description).toBe(send.description);
    // the JSON output and the ledger entry show it between the summary and the lines, as before
    expect(Object.keys(send).slice(-3)).toEqual(["summary", "description", "lines"]);
    const payload = { ...send, resume: false };
    expect(Object.getOwnPropertyDescriptor(payload, "description")).toMatchObject({ value: send.description, writable: true });
    expect(JSON.parse(JSON.stringify(send))).toEqual(payload);
  });

  it("does not plan a send whose ledger entry is done again", () => {
    const desired = desiredOf({ "acme.yaml": customerYaml("acme") }, at("2027-03-10T00:00:00Z"));
    const key = sendKey("acme", "billing", "2027-04");
    const ledger: LedgerView = { ...EMPTY, entries: new Map([[key, entry(key, "done")]]) };
    expect(buildPlan(desired, observedFor(desired, { "2027-04": 42 }), ledger, at("2027-04-01T08:00:00Z")).actions).toEqual([]);
  });

  it("plans every billing month missed during downtime, oldest first, each with its own month's seats", () => {
    const desired = desiredOf({ "acme.yaml": customerYaml("acme") }, at("2026-12-20T00:00:00Z"));
    const observed = observedFor(desired, { "2027-01": 41, "2027-02": 39, "2027-03": 44, "2027-04": 45 });
    // the cursor says January went out; four months later February, March and April are all owed
    const janKey = sendKey("acme", "billing", "2027-01");
    const ledger: LedgerView = {
      entries: new Map([[janKey, entry(janKey, "done", { periodKey: "2027-01" })]]),
      cursors: new Map([[cursorKey("acme", "billing"), "2027-01-01T06:00:00.000Z"]]),
      unfinished: [],
    };
    const actions = buildPlan(desired, observed, ledger, at("2027-04-20T00:00:00Z")).actions;
    // billing is never recorded as missed, however old
    expect(brief(actions)).toEqual(["acme billing 2027-02 billing", "acme billing 2027-03 billing", "acme billing 2027-04 billing"]);
    expect(actions.map((a) => (a as BillingSend).lines[0].quantity)).toEqual([39, 44, 45]);
    // decreases: hold — 40 → 39 is held, the increases are set
    expect(actions.map((a) => (a as BillingSend).lines[0].op)).toEqual(["held", "set", "set"]);
  });

  it("records detection reports older than catchUp.detections as missed and lets the recent ones wait for their data source", () => {
    const desired = desiredOf({ "acme.yaml": customerYaml("acme", { day: 28, hostedEmailSecurity: "day" }) }, at("2027-03-01T00:00:00Z"));
    const hes = (now: string) => brief(buildPlan(desired, observedFor(desired, {}), EMPTY, at(now)).actions.filter((a) => a.report === "hostedEmailSecurity"));
    // due at 06:00 UTC for the day before; catch-up 3d: Mar 7 06:00 is 3 days 6 hours old at Mar 10 12:00
    expect(hes("2027-03-10T12:00:00Z")).toEqual([
      ...["2027-02-28", "2027-03-01", "2027-03-02", "2027-03-03", "2027-03-04", "2027-03-05", "2027-03-06"].map((p) => `acme hostedEmailSecurity ${p} record missedcatch-up.expired`),
      ...["2027-03-07", "2027-03-08", "2027-03-09"].map((p) => `acme hostedEmailSecurity ${p} wait report.waiting-for-data-source`),
    ]);
    // exactly 3 days old is still within the window
    expect(hes("2027-03-10T06:00:00Z").slice(5)).toEqual([
      "acme hostedEmailSecurity 2027-03-05 record missedcatch-up.expired",
      ...["2027-03-06", "2027-03-07", "2027-03-08", "2027-03-09"].map((p) => `acme hostedEmailSecurity ${p} wait report.waiting-for-data-source`),
    ]);
  });

  it("skips a send that falls due while suspended, through the whole local `until` day, and never sends it later", () => {
    const desired = desiredOf({
      // 23:30 in Rome on the 15th is still the `until` day (22:30 UTC)
      "late.yaml": customerYaml("late", { companyId: "Other", lmp: "Late Ltd", tz: "Europe/Rome", at: "23:30", day: 15, suspendUntil: "2027-03-15" }),
      // 00:30 in Rome on the 16th is the day after, although still the 15th in UTC (23:30 UTC)
      "early.yaml": customerYaml("early", { tz: "Europe/Rome", at: "00:30", day: 16, suspendUntil: "2027-03-15" }),
    }, at("2027-02-20T00:00:00Z"));
    const observed = observedFor(desired, { "2027-03": 42 });
    const during = buildPlan(desired, observed, EMPTY, at("2027-03-15T23:45:00Z")).actions;
    expect(brief(during)).toEqual(["early billing 2027-03 billing", "late billing 2027-03 record skippedsuspended"]);
    expect(during.find((a) => a.customer === "late")?.due).toBe("2027-03-15T22:30:00.000Z");
    expect(during.find((a) => a.customer === "early")?.due).toBe("2027-03-15T23:30:00.000Z");
    expect((during.find((a) => a.customer === "early") as BillingSend).lines.map((l) => [l.op, l.quantity])).toEqual([["set", 42]]);
    // a reconcile first run after the suspension (downtime) still records it skipped: it is not sent late
    const after = buildPlan(desired, observed, EMPTY, at("2027-03-20T00:00:00Z")).actions;
    expect(brief(after.filter((a) => a.customer === "late"))).toEqual(["late billing 2027-03 record skippedsuspended"]);
    // once recorded, nothing more
    const key = sendKey("late", "billing", "2027-03");
    const ledger: LedgerView = { ...EMPTY, entries: new Map([[key, entry(key, "skipped", { customer: "late", periodKey: "2027-03" })]]) };
    expect(brief(buildPlan(desired, observed, ledger, at("2027-03-20T00:00:00Z")).actions.filter((a) => a.customer === "late"))).toEqual([]);
  });

  it("records a disabled customer's due sends as skipped", () => {
    const desired = desiredOf({ "acme.yaml": customerYaml("acme", { enabled: false }) }, at("2027-03-10T00:00:00Z"));
    const actions = buildPlan(desired, { licenses: new Map(), additions: new Map(), checks: new Map() }, EMPTY, at("2027-04-01T06:00:00Z")).actions;
    expect(actions).toEqual([{
      kind: "record", key: sendKey("acme", "billing", "2027-04"), customer: "acme", report: "billing", periodKey: "2027-04",
      due: "2027-04-01T06:00:00.000Z", state: "skipped", reason: "integration.disabled",
    }]);
  });

  it("resumes an unfinished send from its stored payload, once, whatever LMP says now", () => {
    const desired = desiredOf({ "acme.yaml": customerYaml("acme") }, at("2027-03-10T00:00:00Z"));
    const first = buildPlan(desired, observedFor(desired, { "2027-04": 42 }), EMPTY, at("2027-04-01T06:00:00Z")).actions[0] as BillingSend;
    const stuck = entry(first.key, "unknown", { payload: first });
    const ledger: LedgerView = { entries: new Map([[first.key, stuck]]), cursors: new Map(), unfinished: [stuck] };
    // an hour later LMP reports 50: the open send still carries 42, and is planned once
    const actions = buildPlan(desired, observedFor(desired, { "2027-04": 50 }), ledger, at("2027-04-01T07:00:00Z")).actions;
    expect(actions).toEqual([{ ...first, resume: true }]);
    expect((actions[0] as BillingSend).lines[0].quantity).toBe(42);
  });

  it("send-now sends the current month under its own key and plans nothing scheduled with it", () => {
    const desired = desiredOf({
      "acme.yaml": customerYaml("acme"),
      "other.yaml": customerYaml("other", { companyId: "Other", lmp: "Other Ltd" }),
    }, at("2027-03-10T00:00:00Z"));
    const now = at("2027-04-01T06:00:00Z"); // the scheduled April billing is due at this very instant
    const actions = buildPlan(desired, observedFor(desired, { "2027-04": 42 }), EMPTY, now, { customer: "acme", reports: ["billing"], at: now }).actions;
    const key = sendKey("acme", "billing", "now@2027-04-01T06:00:00.000Z");
    expect(key).not.toBe(sendKey("acme", "billing", "2027-04"));
    expect(actions.map((a) => ({ key: a.key, customer: a.customer, periodKey: a.periodKey, kind: a.kind }))).toEqual([{ key, customer: "acme", periodKey: "2027-04", kind: "billing" }]);
    const send = actions[0] as BillingSend;
    expect(send.trigger).toBe("send-now");
    expect(send.summary).toBe(`Billing (send now) 2027-04 Acme Corporation ${key}`);
    expect(send.lines.map((l) => [l.op, l.quantity])).toEqual([["set", 42]]);
  });

  it("send-now refuses seats of an LMP customer that another file also names, as the scheduled send does", () => {
    const desired = desiredOf({
      "acme.yaml": customerYaml("acme"),
      "acme-twin.yaml": customerYaml("acme-twin", { companyId: "Other" }),
    }, at("2027-03-10T00:00:00Z"));
    const now = at("2027-04-02T06:00:00Z");
    const observed = observedFor(desired, { "2027-04": 42 });
    const forced = buildPlan(desired, observed, EMPTY, now, { customer: "acme", reports: ["billing"], at: now }).actions as BillingSend[];
    expect(forced.map((a) => [a.customer, a.lines.map((l) => [l.op, l.reason])])).toEqual([["acme", [["refused", "license.ambiguous"]]]]);
  });
});

describe("billingLine", () => {
  function inputs(over: { decreases?: "apply" | "hold"; rows?: LicenseRow[]; additions?: Addition[]; catalog?: typeof CATALOG; claimedTwice?: boolean } = {}): LineInputs {
    const desired = desiredOf({ "acme.yaml": customerYaml("acme") }, at("2027-03-10T00:00:00Z"), over.decreases ?? "hold");
    const customer = desired.customers[0].customer!;
    return {
      customer, global: desired.global!, checks: checksOf(customer, desired.global!, over.catalog ?? CATALOG),
      rows: over.rows ?? [row(42)], additions: new Map([[10, over.additions ?? [addition(500, 40)]]]),
      claimedTwice: over.claimedTwice ?? false, day: "2027-04-01",
    };
  }
  const line = (over: Parameters<typeof inputs>[0]) => {
    const l = billingLine("wfbs-svc", inputs(over));
    return { op: l.op, reason: l.reason, additionId: l.additionId, previous: l.previous, quantity: l.quantity, agreementId: l.agreementId, catalogItemId: l.catalogItemId };
  };

  it("creates the addition when the agreement has none", () => {
    expect(line({ additions: [] })).toEqual({ op: "create", reason: undefined, additionId: undefined, previous: undefined, quantity: 42, agreementId: 10, catalogItemId: 100 });
  });

  it("sets an existing addition to the month's seats, or leaves it when it already holds them", () => {
    expect(line({})).toEqual({ op: "set", reason: undefined, additionId: 500, previous: 40, quantity: 42, agreementId: 10, catalogItemId: 100 });
    expect(line({ additions: [addition(500, 42)] })).toMatchObject({ op: "unchanged", additionId: 500, previous: 42, quantity: 42 });
  });

  it("holds a decrease under `decreases: hold` and applies it under `apply`", () => {
    expect(line({ additions: [addition(500, 45)] })).toMatchObject({ op: "held", reason: "decrease.held", previous: 45, quantity: 42 });
    expect(line({ additions: [addition(500, 45)], decreases: "apply" })).toMatchObject({ op: "set", reason: undefined, previous: 45, quantity: 42 });
  });

  it("refuses two live additions for the product, but a cancelled one does not count", () => {
    expect(line({ additions: [addition(500, 40), addition(501, 30)] })).toMatchObject({ op: "refused", reason: "addition.ambiguous", additionId: undefined });
    expect(line({ additions: [addition(500, 40), addition(501, 30, { cancelledDate: "2027-03-31T00:00:00Z" })] })).toMatchObject({ op: "set", additionId: 500, previous: 40 });
    expect(line({ additions: [addition(501, 30, { agreementStatus: "Cancelled" }), addition(500, 40)] })).toMatchObject({ op: "set", additionId: 500, previous: 40 });
    // an addition of another catalogue item is not the product's
    expect(line({ additions: [addition(500, 40), addition(502, 3, { product: { id: 101, identifier: "TM-CLOUDEDGE" } })] })).toMatchObject({ op: "set", additionId: 500 });
  });

  it("refuses a product without an LMP row (license.unmatched)", () => {
    expect(line({ rows: [row(42, { productName: "Cloud App Security" }), row(42, { customerName: "Acme Corporation UK" })] })).toMatchObject({ op: "refused", reason: "license.unmatched", quantity: undefined });
  });

  it("refuses rows under two spellings of the customer (license.ambiguous), and a name claimed by two files", () => {
    expect(line({ rows: [row(20), row(22, { customerName: "ACME  Corporation" })] })).toMatchObject({ op: "refused", reason: "license.ambiguous", quantity: undefined });
    expect(line({ claimedTwice: true })).toMatchObject({ op: "refused", reason: "license.ambiguous" });
  });

  it("sums the service-plan rows of one product, matching the product name regardless of case and spacing", () => {
    const rows = [row(30, { servicePlan: "Full" }), row(12, { servicePlan: "Add-on", productName: "worry-free  business security services" }), row(7, { productName: "Cloud Edge" })];
    expect(line({ rows })).toMatchObject({ op: "set", previous: 40, quantity: 42 });
  });

  it("counts a row the report repeats word for word once (LMP answered every row twice: 87 seats, not 174)", () => {
    const rows = [row(30, { servicePlan: "Full" }), row(30, { servicePlan: "Full" }), row(12, { servicePlan: "Add-on" })];
    expect(line({ rows })).toMatchObject({ op: "set", quantity: 42 });
    // two plan rows that differ in anything are two rows
    expect(line({ rows: [row(30, { servicePlan: "Full" }), row(30, { servicePlan: "Full", provisioned: 33 })] })).toMatchObject({ op: "set", quantity: 60 });
  });

  it("bills provisioned for a plan row with no used units, with the seats.used-unreported warning", () => {
    // 30 used on one plan, none reported on the other (provisioned 14): Trend Micro charges 30 + 14
    const rows = [row(30, { servicePlan: "Full" }), row(0, { servicePlan: "Add-on", provisioned: 14, used: undefined })];
    const l = billingLine("wfbs-svc", inputs({ rows }));
    expect(l).toMatchObject({ op: "set", quantity: 44, warning: { reason: "seats.used-unreported" } });
    expect(billingLine("wfbs-svc", inputs({})).warning).toBeUndefined();
  });

  it("refuses a product whose row is invalid (seats.invalid), even beside a readable plan row", () => {
    const rows = [row(30), row(0, { servicePlan: "Add-on", provisioned: 0, used: undefined, invalid: "`used` is -3, not a whole number of seats from 0 to 1,000,000" })];
    const l = billingLine("wfbs-svc", inputs({ rows }));
    expect(l).toMatchObject({ op: "refused", reason: "seats.invalid" });
    expect(l.quantity).toBeUndefined();
    expect(l.message).toContain("`used` is -3");
  });

  it("refuses to create an addition whose catalogue item ConnectWise does not have (catalog.missing)", () => {
    expect(line({ additions: [], catalog: [{ id: 101, identifier: "TM-CLOUDEDGE" }] })).toMatchObject({ op: "refused", reason: "catalog.missing", quantity: 42, catalogItemId: undefined });
    // with an addition in place the missing catalogue item does not matter
    expect(line({ catalog: [] })).toMatchObject({ op: "set", quantity: 42 });
  });
});
