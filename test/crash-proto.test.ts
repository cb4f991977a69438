import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { it } from "vitest";
import { writeBulkCustomers } from "../src/sandbox/bulk-customers.ts";
import { tempRepo } from "./helpers/git-repo.ts";
import { reconcileWorld } from "./helpers/reconcile-world.ts";

const CLI = resolve(import.meta.dirname, "../dist/cli/main.js");
it("proto", async () => {
  const dir = mkdtempSync(join(tmpdir(), "bulk-"));
  writeBulkCustomers(dir, 200, { dayOfMonth: 1 });
  const repo = tempRepo(join(dir, "customers"));
  const w = await reconcileWorld({ repo });
  const run = (at: string) => new Promise<{ code: number | null; ms: number; err: string }>((res) => {
    const t = Date.now();
    const c = spawn(process.execPath, [CLI, "reconcile", "--at", at, "--format", "json"], { cwd: repo.dir, env: { ...process.env, ...w.env }, stdio: ["ignore", "pipe", "pipe"] });
    let err = "";
    c.stderr.on("data", (d) => (err += d));
    c.stdout.resume();
    c.on("exit", (code) => res({ code, ms: Date.now() - t, err }));
  });
  console.log(await run("2027-01-31T12:00:00Z"), w.cw.requests.length);
  console.log(await run("2027-02-01T07:00:00Z"), w.cw.requests.length, w.cw.state.tickets.length);
  const t0 = w.cw.requests.find((r) => r.method !== "GET")!.at;
  console.log("first write offset", t0 - w.cw.requests[0].at);
}, 120_000);
