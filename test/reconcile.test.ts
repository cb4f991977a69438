import { describe, expect, it } from "vitest";
import { reconcileWorld } from "./helpers/reconcile-world.ts";

const json = (stdout: string) => JSON.parse(stdout) as {
  customers: { name: string; state: string; reason: string; location?: string }[];
  actions: { kind: string; customer: string; report: string; periodKey: string; lines?: { product: string; op: string; quantity?: number; previous?: number }[] }[];
  outcomes: { customer: string; result: string; ticketId?: number }[];
};

describe("cwsync reconcile against the fakes", () => {
  it("starts history at the first reconcile, sends each due billing month once, and a second run at the same instant writes nothing", async () => {
    const w = await reconcileWorld();
    const first = await w.run("reconcile", "--at", "2026-11-30T12:00:00Z", "--format", "json");
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    // nothing was due after the first reconcile: no back-fill of earlier periods
    expect(w.writes()).toEqual([]);

    const second = await w.run("reconcile", "--at", "2026-12-01T12:00:00Z", "--format", "json");
    expect(second.code).toBe(0);
    const r = json(second.stdout);
    const billed = r.actions.filter((a) => a.kind === "billing").map((a) => `${a.customer} ${a.periodKey}`).sort();
    // the global block bills on day 1 at 06:00 UTC; outback-mining and northwind bill at month end in their own blocks
    expect(billed).toContain("bluewater-dental 2026-12");
    expect(billed).not.toContain("contoso-legal 2026-12"); // suspended
    const tickets = w.cw.state.tickets.filter((t) => t.summary.startsWith("Billing"));
    expect(tickets.length).toBe(billed.length);
    for (const t of tickets) expect(t.summary).toMatch(/ cws-[0-9a-f]{10}$/);

    const before = w.writes().length;
    const third = await w.run("reconcile", "--at", "2026-12-01T12:00:00Z", "--format", "json");
    expect(third.code).toBe(0);
    const again = json(third.stdout);
    expect(again.actions.filter((a) => a.kind !== "wait")).toEqual([]);
    expect(w.writes().length).toBe(before);
  });

  it("sets the addition to the LMP seat count of the billing month and posts one summary ticket with previous → new", async () => {
    const w = await reconcileWorld();
    await w.run("reconcile", "--at", "2026-11-30T12:00:00Z");
    const res = await w.run("reconcile", "--at", "2026-12-01T12:00:00Z", "--format", "json");
    const r = json(res.stdout);
    const bw = r.actions.find((a) => a.kind === "billing" && a.customer === "bluewater-dental")!;
    const patches = w.writes().filter((q) => q.method === "PATCH");
    for (const line of bw.lines!.filter((l) => l.op === "set")) {
      expect(patches.some((p) => JSON.stringify(p.body).includes(`"value":${line.quantity}`))).toBe(true);
    }
    const ticket = w.cw.state.tickets.find((t) => t.summary.includes("Bluewater"))!;
    expect(ticket).toBeDefined();
    const set = bw.lines!.find((l) => l.op === "set" || l.op === "held");
    const note = w.cw.state.notes.find((n) => n.ticketId === ticket.id)!;
    expect(note.text).toContain("Bluewater");
    expect(set).toBeDefined();
    if (set) expect(note.text).toContain(`${set.previous} → ${set.quantity}`);
  });
});
