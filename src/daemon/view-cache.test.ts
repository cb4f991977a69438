import { describe, expect, it } from "vitest";
import type { CustomerView } from "../status/customer-view.ts";
import { ViewCache } from "./build-snapshot.ts";

const view = (name: string, due: string, overdue = false): CustomerView => ({
  name, file: `customers/${name}.yaml`, status: { state: "ready", reason: "ok", message: "", since: "2027-01-01T00:00:00.000Z" },
  agreements: [], nextDue: [{ report: "billing", periodKey: "2027-02", due, overdue }], unfinished: [], missed: [], heldDecreases: [],
});

const SIG_1 = ["sig-1"];

describe("ViewCache (the daemon's customer views between snapshots)", () => {
  const DUE = "2027-02-01T06:00:00.000Z";

  it("serves a view while its record is unchanged and its next send is not yet due", () => {
    const cache = new ViewCache();
    const v = view("acme", DUE);
    cache.set(SIG_1, v);
    expect(cache.get(SIG_1, "acme", Date.parse(DUE) - 1)).toBe(v);
  });

  it("rebuilds when the record changed, when the next send falls due, and after a send touched the customer", () => {
    const cache = new ViewCache();
    cache.set(SIG_1, view("acme", DUE));
    expect(cache.get(["sig-2"], "acme", Date.parse(DUE) - 1)).toBeUndefined();
    // at the due instant the view would still say "due", not "overdue": it must be rebuilt
    expect(cache.get(SIG_1, "acme", Date.parse(DUE))).toBeUndefined();
    cache.forget("acme");
    expect(cache.get(SIG_1, "acme", 0)).toBeUndefined();
  });

  it("keeps a view whose only next send is already overdue until its record changes", () => {
    const cache = new ViewCache();
    const v = view("acme", DUE, true);
    cache.set(SIG_1, v);
    expect(cache.get(SIG_1, "acme", Date.parse(DUE) + 86_400_000)).toBe(v);
  });
});
