import { it } from "vitest";
import { reconcileWorld } from "./helpers/reconcile-world.ts";

it("explore", async () => {
  const w = await reconcileWorld();
  const a = await w.run("reconcile", "--at", "2026-11-30T12:00:00Z", "--format", "json");
  const j = JSON.parse(a.stdout);
  console.log(a.code, a.stderr, JSON.stringify(j.customers, null, 1));
  const b = await w.run("reconcile", "--at", "2026-12-01T12:00:00Z", "--format", "json");
  const k = JSON.parse(b.stdout);
  console.log(b.code, b.stderr, JSON.stringify(k.customers.map((c: any) => [c.name, c.state, c.reason, c.message])), JSON.stringify(k.actions.map((x: any) => [x.kind, x.customer, x.report, x.periodKey, x.reason, x.lines?.map((l: any) => [l.product, l.op, l.reason, l.previous, l.quantity])]), null, 1));
  console.log(JSON.stringify(k.outcomes));
  const s = await w.run("status");
  console.log(s.stdout);
  const s2 = await w.run("status", "bluewater-dental");
  console.log(s2.stdout);
  const h = await w.run("history", "bluewater-dental");
  console.log(h.stdout);
  const t = await w.run("reconcile", "--at", "2026-12-01T12:00:00Z");
  console.log(t.stdout);
});
