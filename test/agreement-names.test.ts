import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempRepo } from "./helpers/git-repo.ts";
import { reconcileWorld } from "./helpers/reconcile-world.ts";

// Agreement types and names are matched by cwsync in what ConnectWise returns, never sent in a query
// condition: an MSP's "O'Brien Dental - Managed Services" must be mappable (DESIGN §8 rules).
describe("an agreement whose name has an apostrophe", () => {
  it("validates, and billing lands on that agreement: one addition per product, one ticket", async () => {
    const repo = tempRepo();
    const file = join(repo.dir, "customers/bluewater-dental.yaml");
    const text = readFileSync(file, "utf8").replace("  wfbs-adv: default\n", "  wfbs-adv: { type: Managed Service, name: \"O'Brien's Dental [EU] - Managed Services\" }\n");
    repo.write("customers/bluewater-dental.yaml", text);
    repo.commit("map wfbs-adv to O'Brien's agreement");
    const w = await reconcileWorld({ repo });

    const valid = await w.run("validate");
    expect(valid.stdout).toBe("✔ 9 files valid\n");
    expect(valid.code).toBe(0);

    expect((await w.run("reconcile", "--at", "2026-11-30T12:00:00Z")).code).toBe(0);
    const r = await w.run("reconcile", "--at", "2026-12-01T12:00:00Z", "--format", "json");
    expect(r.code, r.stderr).toBe(0);
    const bluewater = JSON.parse(r.stdout).customers.find((c: { name: string }) => c.name === "bluewater-dental");
    expect(bluewater.state).not.toBe("degraded");

    const agreement = w.cw.state.agreements.find((a) => a.name === "O'Brien's Dental [EU] - Managed Services")!;
    expect(agreement).toBeDefined();
    const additions = w.cw.state.additions.filter((a) => a.agreementId === agreement.id);
    expect(additions.map((a) => a.product.identifier)).toEqual(["TM-WFSA"]);
    expect(w.cw.state.tickets.filter((t) => t.summary.startsWith("Billing 2026-12 Bluewater Dental Group"))).toHaveLength(1);
    // the name never went into a request's conditions
    expect(w.cw.requests.filter((q) => JSON.stringify(q.query).includes("Brien"))).toEqual([]);
  });
});
