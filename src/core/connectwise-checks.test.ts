import { describe, expect, it } from "vitest";
import type { Agreement } from "../ports/connectwise.ts";
import { checkCompany, checkMapping } from "./connectwise-checks.ts";

const agreement = (id: number, name: string, type: string, extra: Partial<Agreement> = {}): Agreement => ({
  id, name, type: { id: 1, name: type }, company: { id: 250 }, agreementStatus: "Active", ...extra,
});
const DEFAULTS = ["TMRM Management Solution", "Managed Service"];

describe("checkCompany", () => {
  const companies = [
    { id: 1, identifier: "AcmeCorp", name: "Acme", status: { id: 1, name: "Active" } },
    { id: 2, identifier: "OldTenant", name: "Old", deletedFlag: true },
    { id: 3, identifier: "DormantCo", name: "Dormant", status: { id: 2, name: "Inactive" } },
    { id: 4, identifier: "Managed", name: "Managed", status: { id: 5, name: "Active - Managed" } },
    { id: 5, identifier: "OnHold", name: "On hold", status: { id: 6, name: "Credit Hold" } },
    { id: 6, identifier: "Unlisted", name: "Unlisted", status: { id: 99, name: "Inactive" } },
  ];
  const statuses = [
    { id: 1, name: "Active", inactiveFlag: false },
    { id: 2, name: "Inactive", inactiveFlag: true },
    { id: 5, name: "Active - Managed", inactiveFlag: false },
    { id: 6, name: "Credit Hold", inactiveFlag: true },
  ];
  it("finds an active company, case-insensitively like ConnectWise", () => {
    expect(checkCompany("acmecorp", companies, statuses)).toMatchObject({ state: "found", company: { id: 1 } });
  });
  it("tells deleted, inactive and missing apart", () => {
    expect(checkCompany("OldTenant", companies, statuses).state).toBe("deleted");
    expect(checkCompany("DormantCo", companies, statuses).state).toBe("inactive");
    expect(checkCompany("Nobody", companies, statuses)).toEqual({ state: "not-found", identifier: "Nobody" });
  });
  it("decides activity by the status table's inactiveFlag, never by the status name", () => {
    expect(checkCompany("Managed", companies, statuses).state).toBe("found");
    expect(checkCompany("OnHold", companies, statuses).state).toBe("inactive");
    // a status the table does not list counts as active, whatever its name
    expect(checkCompany("Unlisted", companies, statuses).state).toBe("found");
  });
});

describe("checkMapping", () => {
  it("resolves `default` through the default agreement types to the one active agreement", () => {
    const r = checkMapping("wfbs-svc", "default", [agreement(10, "Acme - MS", "Managed Service"), agreement(11, "Acme - BF", "Break Fix")], DEFAULTS);
    expect(r.state).toBe("resolved");
    expect(r.agreements.map((a) => a.id)).toEqual([10]);
  });
  it("two active agreements of default types are ambiguous: nothing is guessed", () => {
    const r = checkMapping("wfbs-svc", "default", [agreement(10, "A", "Managed Service"), agreement(12, "B", "TMRM Management Solution")], DEFAULTS);
    expect(r.state).toBe("agreement.ambiguous");
    expect(r.message).toContain("2 active matches");
  });
  it("`default` leaves out the agreements the customer maps explicitly by name", () => {
    const list = [agreement(10, "Acme - MS", "Managed Service"), agreement(13, "Acme - Email", "Managed Service")];
    expect(checkMapping("wfbs-svc", "default", list, DEFAULTS).state).toBe("agreement.ambiguous");
    const r = checkMapping("wfbs-svc", "default", list, DEFAULTS, [{ type: "Managed Service", name: "Acme - Email" }]);
    expect(r).toMatchObject({ state: "resolved", agreements: [{ id: 10 }] });
  });

  it("an explicit mapping matches type and name; a cancelled twin does not count", () => {
    const list = [agreement(20, "Northwind - Web Gateway", "Managed Service"), agreement(21, "Northwind - Web Gateway", "Managed Service", { agreementStatus: "Cancelled", cancelledFlag: true })];
    expect(checkMapping("iwsaas", { type: "Managed Service", name: "northwind - web gateway" }, list, DEFAULTS)).toMatchObject({ state: "resolved", agreements: [{ id: 20 }] });
  });
  it("only cancelled or expired matches: agreement.cancelled; none: agreement.not-found", () => {
    const cancelled = [agreement(30, "X", "Managed Service", { cancelledFlag: true, agreementStatus: "Cancelled" })];
    expect(checkMapping("cas", { type: "Managed Service", name: "X" }, cancelled, DEFAULTS).state).toBe("agreement.cancelled");
    const expired = [agreement(31, "X", "Managed Service", { agreementStatus: "Expired" })];
    expect(checkMapping("cas", { type: "Managed Service", name: "X" }, expired, DEFAULTS).message).toContain("Expired");
    expect(checkMapping("cas", { type: "Managed Service", name: "Y" }, cancelled, DEFAULTS).state).toBe("agreement.not-found");
  });
});
