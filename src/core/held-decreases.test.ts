import { describe, expect, it } from "vitest";
import type { LedgerEntry } from "../ports/state-store.ts";
import type { BillingLine } from "./actions.ts";
import { heldDecreases, withReleases } from "./held-decreases.ts";

const line = (product: string, op: BillingLine["op"], previous: number, quantity: number): BillingLine => ({
  product, productName: product.toUpperCase(), catalogItem: `TM-${product}`, agreementId: 802, additionId: product.length, previous, quantity, op,
  ...(op === "held" ? { reason: "decrease.held", message: `${product.toUpperCase()}: ${previous} → ${quantity} seats is a decrease` } : {}),
});

const billing = (periodKey: string, lines: BillingLine[], state: LedgerEntry["state"] = "done"): LedgerEntry => ({
  key: `cws-${periodKey}`, customer: "acme", report: "billing", periodKey, trigger: "schedule", state, dueAt: `${periodKey}-01T06:00:00.000Z`,
  payload: { lines }, result: { ticketId: 1 }, attempts: 1, createdAt: `${periodKey}-01T06:00:01.000Z`, updatedAt: `${periodKey}-01T06:00:02.000Z`,
});

describe("heldDecreases", () => {
  const december = billing("2026-12", [line("hes", "held", 61, 54), line("cas", "set", 0, 5), line("wfbs", "held", 39, 36)]);

  it("lists the held lines of the latest billing that went out, a later month replacing them", () => {
    expect(heldDecreases([december]).map((h) => `${h.periodKey} ${h.product} ${h.previous}→${h.quantity}`)).toEqual(["2026-12 hes 61→54", "2026-12 wfbs 39→36"]);
    const january = billing("2027-01", [line("hes", "set", 61, 70), line("wfbs", "held", 39, 30)]);
    expect(heldDecreases([december, january]).map((h) => `${h.periodKey} ${h.product}`)).toEqual(["2027-01 wfbs"]);
    // a billing not gone out (failed, open) leaves the last one standing: its retry says what it holds
    expect(heldDecreases([december, { ...january, state: "failed" }]).map((h) => h.periodKey)).toEqual(["2026-12", "2026-12"]);
    expect(heldDecreases([december, january], "2026-12").map((h) => h.product)).toEqual(["hes", "wfbs"]);
    expect(heldDecreases([{ ...december, report: "emailSecurity" }])).toEqual([]);
  });

  it("leaves out what was released", () => {
    const released = withReleases(december, [{ product: "hes", additionId: 3, quantity: 54, at: "2026-12-02T09:00:00.000Z", by: "alice" }], "2026-12-02T09:00:00.000Z");
    expect(released.result).toEqual({ ticketId: 1, released: [{ product: "hes", additionId: 3, quantity: 54, at: "2026-12-02T09:00:00.000Z", by: "alice" }] });
    expect(heldDecreases([released]).map((h) => h.product)).toEqual(["wfbs"]);
    const both = withReleases(released, [{ product: "wfbs", additionId: 4, quantity: 36, at: "2026-12-02T09:01:00.000Z", by: "bob" }], "2026-12-02T09:01:00.000Z");
    expect(heldDecreases([both])).toEqual([]);
  });
});
