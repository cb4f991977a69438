import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { FAULT_PRESET_NAMES } from "../src/sandbox/fault-presets.ts";
import { tempRepo, type TempRepo } from "./helpers/git-repo.ts";

// The built CLI as users run it (npm test builds first: see `pretest`), with faults switched on by
// the environment as `npm start -- --fault …` does.
const ROOT = join(import.meta.dirname, "..");
const BIN = join(ROOT, "dist/cli/main.js");
const T0 = "2026-11-30T12:00:00Z";
/** Bluewater, Fabrikam and Sakura bill on the 1st. */
const T1 = "2026-12-01T12:00:00Z";
const BILLED_ON_THE_1ST = ["bluewater-dental", "fabrikam-retail", "sakura-trading"];

interface CycleJson {
  customers: { name: string; state: string; reason: string; message: string }[];
  outcomes: { customer: string; report: string; key: string; result: string }[];
}

interface World {
  repo: TempRepo;
  reconcile(at: string, faults?: string): Promise<{ code: number | null; stdout: string; stderr: string; json?: CycleJson }>;
}

function world(): World {
  const repo = tempRepo();
  const stateDir = mkdtempSync(join(tmpdir(), "cwsync-state-"));
  onTestFinished(() => rmSync(stateDir, { recursive: true, force: true }));
  return {
    repo,
    reconcile: (at, faults) => new Promise((resolve, reject) => {
      const env: NodeJS.ProcessEnv = { ...process.env, CWSYNC_STATE_DIR: stateDir, CWSYNC_SETTLE_SECONDS: "0", GITHUB_ACTIONS: "", CWSYNC_SANDBOX_FAULTS: faults };
      if (faults === undefined) delete env.CWSYNC_SANDBOX_FAULTS;
      const child = spawn(process.execPath, [BIN, "reconcile", "--sandbox", "--at", at, "--format", "json"], { cwd: repo.dir, env });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d: Buffer) => void (stdout += d.toString("utf8")));
      child.stderr.on("data", (d: Buffer) => void (stderr += d.toString("utf8")));
      child.on("error", reject);
      child.on("close", (code) => resolve({ code, stdout, stderr, json: stdout.trim() ? (JSON.parse(stdout) as CycleJson) : undefined }));
    }),
  };
}

const stateOf = (j: CycleJson | undefined, name: string) => {
  const c = j?.customers.find((x) => x.name === name);
  return c && `${c.state} ${c.reason}`;
};
const billed = (j: CycleJson | undefined) => (j?.outcomes ?? []).filter((o) => o.report === "billing" && o.result === "done");

describe("CWSYNC_SANDBOX_FAULTS on the built CLI", () => {
  it("lmpi-used-null: seat products are billed at provisioned, and the user sees seats.used-unreported", async () => {
    const w = world();
    expect((await w.reconcile(T0, "lmpi-used-null")).code).toBe(0);
    const r = await w.reconcile(T1, "lmpi-used-null");
    expect(r.code).toBe(0);
    expect(stateOf(r.json, "bluewater-dental")).toBe("ready seats.used-unreported");
    expect(r.json!.customers.find((c) => c.name === "bluewater-dental")!.message).toMatch(/no used units for “Cloud App Security”.*billed at provisioned/);
    expect(billed(r.json).map((o) => o.customer).sort()).toEqual(BILLED_ON_THE_1ST);
  });

  it("cw-html200: the customers due fail with connectwise.unreadable; the next run without it bills each once, and a third bills nothing", async () => {
    const w = world();
    expect((await w.reconcile(T0)).code).toBe(0);
    const faulty = await w.reconcile(T1, "cw-html200");
    expect(faulty.code).toBe(1);
    for (const name of BILLED_ON_THE_1ST) {
      expect(stateOf(faulty.json, name)).toBe("failing connectwise.unreadable");
      expect(faulty.json!.customers.find((c) => c.name === name)!.message).toMatch(/finance\/agreements\/\d+\/additions answered 200/);
    }
    // the others go on: the run does not die
    expect(stateOf(faulty.json, "acme-corp")).toBe("ready ok");
    expect(faulty.json!.outcomes.some((o) => o.result === "done")).toBe(true);
    expect(billed(faulty.json)).toEqual([]);

    const up = await w.reconcile(T1, "");
    expect(up.code).toBe(0);
    for (const name of BILLED_ON_THE_1ST) expect(stateOf(up.json, name)).not.toMatch(/^failing/);
    const keys = billed(up.json).map((o) => o.key);
    expect(billed(up.json).map((o) => o.customer).sort()).toEqual(BILLED_ON_THE_1ST);
    expect(new Set(keys).size).toBe(keys.length);

    const again = await w.reconcile(T1);
    expect(again.code).toBe(0);
    expect(billed(again.json)).toEqual([]);
  });

  it("an unknown name is a usage error (exit 64) naming it and listing the valid ones, before anything is started", async () => {
    const w = world();
    const r = await w.reconcile(T1, "lmpi-used-null,cw-htm1200");
    expect(r.code).toBe(64);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("CWSYNC_SANDBOX_FAULTS: unknown sandbox fault `cw-htm1200`");
    expect(r.stderr).toContain(`the faults are ${FAULT_PRESET_NAMES.join(", ")}`);
  });
});

describe("npm start -- --fault", () => {
  it("names the faults and what to expect first, and the commands it runs meet them", () => {
    const dir = mkdtempSync(join(tmpdir(), "cwsync-demo-test-"));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const env = { ...process.env, CI: "1", CWSYNC_DEMO_STATE_DIR: join(dir, "state"), CWSYNC_SANDBOX_FAULTS: "" };
    const r = spawnSync(process.execPath, [join(ROOT, "scripts", "demo.mjs"), "--fault", "lmpi-empty-summary"], { cwd: ROOT, env, encoding: "utf8", timeout: 120_000 });
    expect(r.stdout.split("\n")[0]).toMatch(/^Faults on \(CWSYNC_SANDBOX_FAULTS=lmpi-empty-summary\), expect: lmpi-empty-summary: customers due for billing wait, failing with lmpi\.empty-report/);
    expect(r.stdout).toMatch(/^ {2}bluewater-dental +failing +lmpi\.empty-report$/m);

    const unknown = spawnSync(process.execPath, [join(ROOT, "scripts", "demo.mjs"), "--fault", "lmpi-nope"], { cwd: ROOT, env, encoding: "utf8" });
    expect(unknown.status).toBe(64);
    expect(unknown.stderr).toContain(`unknown sandbox fault \`lmpi-nope\`; the faults are ${FAULT_PRESET_NAMES.join(", ")}`);
  }, 120_000);
});
