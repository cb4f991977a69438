import { it } from "vitest";
import { reconcileWorld } from "./helpers/reconcile-world.ts";
it("scratch", async () => {
  const w = await reconcileWorld();
  let r = await w.run("reconcile", "--at", "2026-11-30T12:00:00Z", "--format", "json");
  console.log(r.code, JSON.stringify(JSON.parse(r.stdout).customers.map((c: any) => `${c.name} ${c.state} ${c.reason} ${c.message}`), null, 1));
  for (const rep of ["emailSecurity", "hostedEmailSecurity"]) {
    r = await w.run("send-now", "acme-corp", rep, "--at", "2026-11-30T13:00:00Z");
    console.log(r.code, r.stdout, r.stderr);
  }
  console.log(w.cw.state.tickets.map((t) => t.summary));
  console.log(w.cw.state.notes.map((n) => n.text).join("\n-----\n"));
});
