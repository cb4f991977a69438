import { describe, expect, it } from "vitest";
import type { CustomerFile, GlobalFile } from "../config/model.ts";
import { resolveCustomer } from "../config/resolve.ts";
import type { CustomerChecks } from "../core/connectwise-checks.ts";
import type { Desired, DesiredCustomer } from "../core/desired.ts";
import { cursorKey, type CustomerRecord } from "../ports/state-store.ts";
import { changedChecks, DueIndex, sameJson, sliceOf, touchedBy } from "./cycle-scope.ts";
import { loadConfig } from "../config/load.ts";
import { readConfigFiles } from "../adapters/config-files.ts";
import { rowToCustomer } from "../adapters/state-sqlite/rows.ts";

// The project's own customers/ and _global.yaml: real configs with real schedules.
const group = readConfigFiles(["customers"], new URL("../..", import.meta.url).pathname).groups[0];
const load = loadConfig(group.files, group.globalPath);
const global = load.global as GlobalFile;
const customers = load.customers.flatMap((c) => (c.config ? [{ name: c.name, config: c.config as CustomerFile }] : []));
const FIRST = new Date("2026-11-30T12:00:00Z");

function desiredOf(name: string): DesiredCustomer {
  const c = customers.find((x) => x.name === name)!;
  return { name, file: `customers/${name}.yaml`, source: "current", customer: resolveCustomer(c.config, global), config: c.config, configHash: `h-${name}`, revision: "r1", firstAppliedAt: FIRST };
}

describe("DueIndex (which customers a daemon cycle must look at)", () => {
  it("names a customer once its next send is due, until its cursor moves past it", () => {
    const acme = desiredOf("acme-corp");
    const index = new DueIndex();
    index.update([acme], new Map(), "g1", FIRST.getTime());
    const at = index.earliest();
    expect(at).toBeGreaterThan(FIRST.getTime());
    expect(index.due(at - 1)).toEqual([]);
    expect(index.due(at)).toEqual(["acme-corp"]);
    // sent: every report's cursor at or past what was due
    const cursors = new Map(acme.customer!.reports.map((r) => [cursorKey("acme-corp", r.report), new Date(at).toISOString()]));
    index.update([acme], cursors, "g1", at);
    expect(index.due(at)).toEqual([]);
    expect(index.earliest()).toBeGreaterThan(at);
  });

  it("says whether the due send is a detection report (the cycle then polls first)", () => {
    const index = new DueIndex();
    const all = customers.map((c) => desiredOf(c.name));
    index.update(all, new Map(), "g1", FIRST.getTime());
    const at = index.earliest();
    const due = index.due(at);
    expect(due.length).toBeGreaterThan(0);
    expect(typeof index.detectionDue(due, at)).toBe("boolean");
    expect(index.detectionDue([], at)).toBe(false);
  });

  it("names a suspended customer once when its suspension ends (its state changes with nothing sent), not again after", () => {
    const contoso = desiredOf("contoso-legal");
    const index = new DueIndex();
    // every report's cursor far ahead: nothing is due, only the suspension's end (2027-01-15, end of day in its zone)
    const cursors = new Map(contoso.customer!.reports.map((r) => [cursorKey("contoso-legal", r.report), "2099-01-01T00:00:00.000Z"]));
    index.update([contoso], cursors, "g1", FIRST.getTime());
    const ends = Date.parse("2027-01-16T12:00:00Z");
    expect(index.due(Date.parse("2027-01-14T00:00:00Z"))).toEqual([]);
    expect(index.due(ends)).toEqual(["contoso-legal"]);
    // looked at in a cycle after the end: done
    index.update([contoso], cursors, "g1", ends);
    expect(index.due(ends + 60_000)).toEqual([]);
  });

  it("names the same customers when asked again and again between updates, and sees an update that brings a send closer", () => {
    const index = new DueIndex();
    const all = customers.map((c) => desiredOf(c.name));
    index.update(all, new Map(), "g1", FIRST.getTime());
    const at = index.earliest();
    // asked before anything is due (an idle cycle), then when it is, then once more
    expect(index.due(at - 1)).toEqual([]);
    expect(index.due(at - 1)).toEqual([]);
    const due = index.due(at);
    expect(due.length).toBeGreaterThan(0);
    expect(index.due(at)).toEqual(due);
    // their sends made: nothing until the next ones
    const cursors = new Map(all.flatMap((d) => d.customer!.reports.map((r) => [cursorKey(d.name, r.report), new Date(at).toISOString()] as const)));
    index.update(all, cursors, "g1", at);
    expect(index.due(at)).toEqual([]);
    const later = index.earliest();
    expect(index.due(later - 1)).toEqual([]);
    // a customer whose history starts over (its cursors gone) is due again at once, though asked just before
    const first = all.find((d) => d.name === due[0])!;
    index.update([first], new Map(), "g1", later - 1);
    expect(index.due(later - 1)).toContain(first.name);
  });

  it("forgets a customer that no longer acts (removed or never valid)", () => {
    const index = new DueIndex();
    const acme = desiredOf("acme-corp");
    index.update([acme], new Map(), "g1", FIRST.getTime());
    index.update([{ ...acme, source: "removed", customer: undefined }], new Map(), "g1", FIRST.getTime());
    expect(index.due(Number.MAX_SAFE_INTEGER)).toEqual([]);
  });
});

describe("touchedBy (customers a ConnectWise change may concern)", () => {
  const desired = { revision: "r1", customers: [desiredOf("acme-corp"), desiredOf("sakura-trading")] } as Desired;
  const record = (name: string, companyId: number): CustomerRecord => ({
    name, file: `customers/${name}.yaml`, status: { state: "ready", reason: "ok", message: "", since: "" },
    observed: { company: { state: "found", company: { id: companyId, identifier: "x", name: "x" } } } as unknown as CustomerChecks,
  });

  it("matches a changed company by configured identifier (any case) and by the id last verified, a changed agreement by its company", () => {
    const records = [record("acme-corp", 250), record("sakura-trading", 260)];
    expect(touchedBy({ companies: [{ id: 999, identifier: "ACMECORP", name: "Acme" }], agreements: [] }, desired, records)).toEqual(new Set(["acme-corp"]));
    // renamed in ConnectWise: the identifier no longer matches, the id still does
    expect(touchedBy({ companies: [{ id: 260, identifier: "Sakura-Renamed", name: "S" }], agreements: [] }, desired, records)).toEqual(new Set(["sakura-trading"]));
    expect(touchedBy({ companies: [], agreements: [{ id: 5, company: { id: 250 } } as never] }, desired, records)).toEqual(new Set(["acme-corp"]));
    expect(touchedBy({ companies: [{ id: 1, identifier: "SomeoneElse", name: "x" }], agreements: [] }, desired, records)).toEqual(new Set());
  });
});

describe("changedChecks and sameJson", () => {
  it("finds the customers whose fresh checks differ from their stored ones, as JSON compares them", () => {
    const checks = { company: { state: "found", company: { id: 1, identifier: "A", name: "A" } }, mappings: [] } as unknown as CustomerChecks;
    const stored = JSON.parse(JSON.stringify(checks)) as CustomerChecks;
    const records = new Map<string, CustomerRecord>([["a", { name: "a", file: "", status: { state: "ready", reason: "ok", message: "", since: "" }, observed: stored }]]);
    expect(changedChecks(new Map([["a", checks]]), (n) => records.get(n))).toEqual(new Set());
    expect(changedChecks(new Map([["a", { ...checks, mappings: [{ product: "x" }] } as never]]), (n) => records.get(n))).toEqual(new Set(["a"]));
    expect(changedChecks(new Map([["b", checks]]), (n) => records.get(n))).toEqual(new Set(["b"]));
    expect(sameJson({ a: 1, b: undefined }, { a: 1 })).toBe(true);
    expect(sameJson([1, { x: [2] }], [1, { x: [2] }])).toBe(true);
    expect(sameJson([1, 2], { 0: 1, 1: 2 })).toBe(false);
    expect(sameJson({ a: null }, { a: undefined })).toBe(false);
  });

  it("reads a stored observation again only when its text differs from the fresh checks (an idle daemon keeps no parsed copies)", () => {
    const checks = { company: { state: "found", company: { id: 1, identifier: "A", name: "A" } }, mappings: [] } as unknown as CustomerChecks;
    const row = (name: string, observed: string) => ({
      name, file: `customers/${name}.yaml`, applied_revision: "r1", attempted_revision: "r1", config: null, config_hash: null, first_applied_at: null,
      removed_at: null, status: JSON.stringify({ state: "ready", reason: "ok", message: "", since: "" }), observed, observed_at: null, last_error: null,
    });
    const texts = new Map([
      ["same", JSON.stringify(checks)],
      // the same JSON, its keys in another order (written by another version): not a change
      ["reordered", JSON.stringify({ mappings: [], company: { company: { name: "A", identifier: "A", id: 1 }, state: "found" } })],
      ["changed", JSON.stringify({ ...checks, mappings: [{ product: "x" }] })],
    ]);
    const reads: string[] = [];
    const reread = (name: string) => {
      reads.push(name);
      return texts.get(name) ?? null;
    };
    const records = new Map([...texts].map(([name, text]) => [name, rowToCustomer(row(name, text), reread)]));
    const fresh = new Map([...texts.keys()].map((name) => [name, checks]));
    expect(changedChecks(fresh, (n) => records.get(n))).toEqual(new Set(["changed"]));
    expect(reads.sort()).toEqual(["changed", "reordered"]);
  });

  it("spreads customers over the verification slices, each always in the same one", () => {
    const names = Array.from({ length: 5000 }, (_, i) => `bulk-${i}`);
    const sizes = Array.from({ length: 10 }, () => 0);
    for (const n of names) sizes[sliceOf(n, 10)]++;
    expect(Math.min(...sizes)).toBeGreaterThan(400);
    expect(Math.max(...sizes)).toBeLessThan(600);
    expect(sliceOf("acme-corp", 10)).toBe(sliceOf("acme-corp", 10));
  });
});
