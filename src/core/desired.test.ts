import { describe, expect, it } from "vitest";
import { GLOBAL_FILE, loadConfig, type LoadResult } from "../config/load.ts";
import type { GlobalFile } from "../config/model.ts";
import type { CustomerRecord } from "../ports/state-store.ts";
import { assembleDesired, type DesiredInputs } from "./desired.ts";

const GLOBAL = `apiVersion: cwsync/v1
kind: Global
connectwise:
  defaultAgreementTypes: [Managed Service]
  tickets: { board: Managed Services, status: New }
  decreases: hold
products:
  wfbs-svc:
    displayName: Worry-Free Business Security Services
    lmp: { productName: Worry-Free Business Security Services }
    catalogItem: TM-WFBSS
    quantity: used
notifications:
  timezone: UTC
  at: "06:00"
  billing: { products: all, dayOfMonth: 1 }
`;

const customerYaml = (name: string, dayOfMonth = 15) => `apiVersion: cwsync/v1
kind: Customer
name: ${name}
trendMicro:
  customer: ${name} Ltd
connectwise:
  enabled: true
  companyId: ${name.replace(/-/g, "")}
agreements:
  wfbs-svc: default
notifications:
  timezone: Europe/Rome
  at: "07:00"
  billing:
    products: [wfbs-svc]
    dayOfMonth: ${dayOfMonth}
`;

const GLOBAL_PATH = `customers/${GLOBAL_FILE}`;

function load(files: Record<string, string>): LoadResult {
  return loadConfig(Object.entries(files).map(([name, text]) => ({ path: `customers/${name}`, size: Buffer.byteLength(text), text })), GLOBAL_PATH);
}

const NOW = new Date("2027-03-10T12:00:00Z");
const APPLIED = "2027-01-05T09:00:00.000Z";

/** What the state store holds for a customer applied (valid) at revision `rev1`. */
function applied(names: readonly string[], dayOfMonth = 15): { records: CustomerRecord[]; global: GlobalFile } {
  const l = load({ [GLOBAL_FILE]: GLOBAL, ...Object.fromEntries(names.map((n) => [`${n}.yaml`, customerYaml(n, dayOfMonth)])) });
  expect(l.diagnostics).toEqual([]);
  const records = l.customers.map((c): CustomerRecord => ({
    name: c.name, file: c.file, appliedRevision: "rev1", attemptedRevision: "rev1", config: c.config, configHash: "hash-rev1",
    firstAppliedAt: APPLIED, status: { state: "ready", reason: "ok", message: "", since: APPLIED },
  }));
  return { records, global: l.global! };
}

const inputs = (l: LoadResult, previous: CustomerRecord[], extra: Partial<DesiredInputs> = {}): DesiredInputs => ({
  revision: "rev2", load: l, previous, allowMassRemoval: false, now: NOW, ...extra,
});

const summary = (d: ReturnType<typeof assembleDesired>) => d.customers.map((c) => ({ name: c.name, source: c.source }));

describe("assembleDesired", () => {
  it("takes a valid file from the new revision and keeps a known customer's history start", () => {
    const prev = applied(["acme"]);
    const d = assembleDesired(inputs(load({ [GLOBAL_FILE]: GLOBAL, "acme.yaml": customerYaml("acme", 20), "beta.yaml": customerYaml("beta") }), prev.records));
    expect(summary(d)).toEqual([{ name: "acme", source: "current" }, { name: "beta", source: "current" }]);
    const [acme, beta] = d.customers;
    expect(acme.revision).toBe("rev2");
    expect(acme.customer?.reports[0].spec).toEqual({ kind: "monthly-day", dayOfMonth: 20 });
    expect(acme.firstAppliedAt.toISOString()).toBe(APPLIED);
    // a new customer's history starts now: nothing before it is back-filled
    expect(beta.firstAppliedAt).toEqual(NOW);
    expect(d.massRemoval).toBeUndefined();
  });

  it("keeps an invalid file's customer on its last valid config, with the error's file:line:col", () => {
    const prev = applied(["acme"], 15);
    const broken = customerYaml("acme", 20).replace("  companyId: acme", "  companyId: acme\n  companyID: typo");
    const d = assembleDesired(inputs(load({ [GLOBAL_FILE]: GLOBAL, "acme.yaml": broken }), prev.records));
    const [acme] = d.customers;
    expect(acme.source).toBe("last-valid");
    // still sending, on the day of the last valid revision (15), not the broken one's (20)
    expect(acme.customer?.reports[0].spec).toEqual({ kind: "monthly-day", dayOfMonth: 15 });
    expect(acme.revision).toBe("rev1");
    expect(acme.configHash).toBe("hash-rev1");
    expect(acme.firstAppliedAt.toISOString()).toBe(APPLIED);
    expect(acme.problem).toEqual({ code: "config.invalid", message: expect.stringContaining("companyID"), location: "customers/acme.yaml:9:3" });
  });

  it("has nothing to act on for an invalid file that was never valid", () => {
    const broken = customerYaml("acme").replace("dayOfMonth: 15", "dayOfMonth: 32");
    const d = assembleDesired(inputs(load({ [GLOBAL_FILE]: GLOBAL, "acme.yaml": broken }), []));
    const [acme] = d.customers;
    expect(acme.source).toBe("none");
    expect(acme.customer).toBeUndefined();
    expect(acme.problem?.code).toBe("config.invalid");
    expect(acme.problem?.location).toBe("customers/acme.yaml:16:17");
  });

  it("holds every customer on its last valid config when _global.yaml is broken, and uses the last valid global", () => {
    const prev = applied(["acme", "beta"], 15);
    const brokenGlobal = GLOBAL.replace("decreases: hold", "decreases: sometimes");
    const l = load({ [GLOBAL_FILE]: brokenGlobal, "acme.yaml": customerYaml("acme", 20), "beta.yaml": customerYaml("beta", 20), "gamma.yaml": customerYaml("gamma") });
    expect(l.blocked).toBe(true);
    const d = assembleDesired(inputs(l, prev.records, { lastGlobal: { config: prev.global, revision: "rev1" } }));
    expect(summary(d)).toEqual([
      { name: "acme", source: "last-valid" }, { name: "beta", source: "last-valid" },
      // new in the broken revision: never valid, so nothing runs
      { name: "gamma", source: "none" },
    ]);
    expect(d.global).toEqual(prev.global);
    expect(d.globalRevision).toBe("rev1");
    expect(d.globalProblem?.location).toBe("customers/_global.yaml:6:14");
    for (const c of d.customers) expect(c.problem).toEqual({ code: "global.invalid", message: d.globalProblem!.message, location: "customers/_global.yaml:6:14" });
    expect(d.customers.map((c) => c.customer?.reports[0].spec)).toEqual([
      { kind: "monthly-day", dayOfMonth: 15 }, { kind: "monthly-day", dayOfMonth: 15 }, undefined,
    ]);
  });

  it("does not remove a deleted customer while _global.yaml is broken: the removal waits with everything else", () => {
    const prev = applied(["acme", "beta"], 15);
    const brokenGlobal = GLOBAL.replace("decreases: hold", "decreases: sometimes");
    const l = load({ [GLOBAL_FILE]: brokenGlobal, "acme.yaml": customerYaml("acme") });
    const d = assembleDesired(inputs(l, prev.records, { lastGlobal: { config: prev.global, revision: "rev1" } }));
    expect(summary(d)).toEqual([{ name: "acme", source: "last-valid" }, { name: "beta", source: "last-valid" }]);
    expect(d.customers[1].problem?.code).toBe("global.invalid");
    expect(d.massRemoval).toBeUndefined();
  });

  it("marks a deleted customer file removed; deleting exactly a quarter is not a mass removal", () => {
    const prev = applied(["a", "b", "c", "d"]);
    const d = assembleDesired(inputs(load({ [GLOBAL_FILE]: GLOBAL, "a.yaml": customerYaml("a"), "b.yaml": customerYaml("b"), "c.yaml": customerYaml("c") }), prev.records));
    expect(summary(d)).toEqual([
      { name: "a", source: "current" }, { name: "b", source: "current" }, { name: "c", source: "current" }, { name: "d", source: "removed" },
    ]);
    expect(d.customers[3].customer).toBeUndefined();
    expect(d.massRemoval).toEqual({ removed: ["d"], of: 4, held: false });
  });

  it("holds a revision deleting more than a quarter of the customers: they keep their last config until allowed", () => {
    const prev = applied(["a", "b", "c", "d", "e"]);
    const l = load({ [GLOBAL_FILE]: GLOBAL, "a.yaml": customerYaml("a"), "b.yaml": customerYaml("b"), "c.yaml": customerYaml("c") });
    const held = assembleDesired(inputs(l, prev.records));
    expect(summary(held).filter((c) => c.source !== "current")).toEqual([{ name: "d", source: "removal-held" }, { name: "e", source: "removal-held" }]);
    expect(held.customers.find((c) => c.name === "d")?.customer?.reports[0].spec).toEqual({ kind: "monthly-day", dayOfMonth: 15 });
    expect(held.massRemoval).toEqual({ removed: ["d", "e"], of: 5, held: true });

    const allowed = assembleDesired(inputs(l, prev.records, { allowMassRemoval: true }));
    expect(summary(allowed).filter((c) => c.source !== "current")).toEqual([{ name: "d", source: "removed" }, { name: "e", source: "removed" }]);
    expect(allowed.massRemoval).toEqual({ removed: ["d", "e"], of: 5, held: false });
  });

  it("does not count customers removed earlier, and restarts the history of a customer whose file comes back", () => {
    const prev = applied(["a", "b", "c", "d"]);
    prev.records[3] = { ...prev.records[3], removedAt: "2027-02-01T00:00:00.000Z" };
    // 1 of the 3 live customers (a third) goes: held; d is already gone and not counted
    const l = load({ [GLOBAL_FILE]: GLOBAL, "a.yaml": customerYaml("a"), "b.yaml": customerYaml("b"), "d.yaml": customerYaml("d") });
    const d = assembleDesired(inputs(l, prev.records));
    expect(d.massRemoval).toEqual({ removed: ["c"], of: 3, held: true });
    expect(d.customers.find((c) => c.name === "d")).toMatchObject({ source: "current", firstAppliedAt: NOW });
  });
});
