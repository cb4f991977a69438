import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { reconcileWorld, type ReconcileWorld } from "./helpers/reconcile-world.ts";
import { runCli, type CliResult } from "./helpers/run-cli.ts";

// Credentials are needed only for what the configuration uses (DESIGN §9): per Trend Micro source,
// a configuration that does not use it reconciles with its variables absent, and one that does
// stops with the usage error naming exactly the missing variables and the customers that use it.

/** The first reconcile: every customer's history starts here. */
const BEFORE = "2026-11-30T12:00:00Z";
/** December billing of Bluewater (global block), Fabrikam and Sakura is due; Acme's daily Email Security report of 11-30 too. */
const DUE = "2026-12-01T07:00:00Z";

const TAIL = " (see the README), or pass --sandbox to use the embedded fakes";

/** The world's environment without the named variables (or every variable of a prefix, `HES_`). */
function without(w: ReconcileWorld, ...names: string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(w.env).filter(([k]) => !names.some((n) => (n.endsWith("_") ? k.startsWith(n) : k === n))));
}

/** `cwsync …` in the world's repository with this environment; the email-security fakes serve `--at`. */
function run(w: ReconcileWorld, env: Record<string, string>, ...argv: string[]): Promise<CliResult> {
  const at = argv.indexOf("--at");
  if (at >= 0) w.clock.now = Date.parse(argv[at + 1]);
  return runCli(argv, { cwd: w.repo.dir, env });
}

function edit(w: ReconcileWorld, file: string, change: (text: string) => string): void {
  const path = join("customers", file);
  const text = readFileSync(join(w.repo.dir, path), "utf8");
  const changed = change(text);
  if (changed === text) throw new Error(`${path} did not change`);
  w.repo.write(path, changed);
}

/** Removes a report's block from a custom `notifications` block. */
const dropReport = (report: string) => (text: string) => text.replace(new RegExp(`\\n  ${report}:\\n(?:    .*\\n)+`), "\n");

const billingTickets = (w: ReconcileWorld) => w.cw.state.tickets.map((t) => t.summary).filter((s) => s.startsWith("Billing ")).sort();

/** Reconciles before and at DUE with `env`: both exit 0 and ConnectWise gets the December billing of the customers billed on the 1st. */
async function reconcilesAndBills(w: ReconcileWorld, env: Record<string, string>, billed: string[]): Promise<void> {
  const first = await run(w, env, "reconcile", "--at", BEFORE);
  expect(first.stderr).toBe("");
  expect(first.code).toBe(0);
  const due = await run(w, env, "reconcile", "--at", DUE);
  expect(due.stderr).toBe("");
  expect(due.code).toBe(0);
  expect(billingTickets(w).map((s) => s.replace(/ cws-[0-9a-f]{10}$/, ""))).toEqual(billed);
}

/** A usage error before anything is written: exit 64, this stderr, no state directory, no ConnectWise write. */
async function refused(w: ReconcileWorld, env: Record<string, string>, stderr: string): Promise<void> {
  const parent = mkdtempSync(join(tmpdir(), "cwsync-nostate-"));
  onTestFinished(() => rmSync(parent, { recursive: true, force: true }));
  const stateDir = join(parent, "state");
  const r = await run(w, { ...env, CWSYNC_STATE_DIR: stateDir }, "reconcile", "--at", DUE);
  expect(r.stderr).toBe(stderr);
  expect(r.code).toBe(64);
  expect(existsSync(stateDir)).toBe(false);
  expect(w.writes()).toEqual([]);
}

describe("reconcile needs only the credentials its configuration uses", () => {
  it("Hosted Email Security: used only by a suspended customer, HES_* may be absent; billing goes out and HES is never called", async () => {
    const w = await reconcileWorld();
    // the global block keeps its weekly HES report, but the only customer on it with a domain is contoso-legal, suspended
    edit(w, "bluewater-dental.yaml", (t) => t.replace(/^notifications: global.*$/m, 'notifications:\n  timezone: UTC\n  at: "06:00"\n  billing: { products: [wfbs-adv, cas, hes], dayOfMonth: 1 }'));
    for (const f of ["acme-corp.yaml", "fabrikam-retail.yaml", "northwind-logistics.yaml", "outback-mining.yaml"]) edit(w, f, dropReport("hostedEmailSecurity"));
    w.repo.commit("no active customer reports Hosted Email Security");
    await reconcilesAndBills(w, without(w, "HES_"), [
      "Billing 2026-12 Bluewater Dental Group", "Billing 2026-12 Fabrikam Retail", "Billing 2026-12-01T00:00Z Sakura Trading K.K.",
    ]);
    // Acme's daily Email Security report still went out: TMES is configured and used
    expect(w.cw.state.tickets.map((t) => t.summary)).toContainEqual(expect.stringMatching(/^Email Security daily 2026-11-30 Acme Corporation cws-/));
    expect(w.hes.requests).toEqual([]);
  });

  it("an invalid file does not count: its customer runs on its last valid config (HES included) and is still billed while HES_* are absent", async () => {
    const w = await reconcileWorld();
    expect((await run(w, w.env, "reconcile", "--at", BEFORE)).code).toBe(0);
    // bluewater-dental (global settings: weekly HES) breaks its file; no valid file reports HES any more but contoso-legal's, suspended
    edit(w, "bluewater-dental.yaml", (t) => `${t}colour: blue\n`);
    for (const f of ["acme-corp.yaml", "fabrikam-retail.yaml", "northwind-logistics.yaml", "outback-mining.yaml"]) edit(w, f, dropReport("hostedEmailSecurity"));
    w.repo.commit("bluewater-dental broken; HES reports dropped elsewhere");
    const polled = w.hes.requests.length;
    const due = await run(w, without(w, "HES_"), "reconcile", "--at", DUE, "--format", "json");
    expect(due.stderr).toBe("");
    expect(due.code).toBe(0);
    const customers = (JSON.parse(due.stdout) as { customers: { name: string; state: string }[] }).customers;
    expect(customers.find((c) => c.name === "bluewater-dental")?.state).toBe("invalid");
    expect(billingTickets(w)).toContainEqual(expect.stringMatching(/^Billing 2026-12 Bluewater Dental Group cws-/));
    // without HES_*, nothing reaches HES: bluewater-dental's polling fails underneath its `invalid` state
    expect(w.hes.requests.length).toBe(polled);
  });

  it("Hosted Email Security: used by customers, a missing HES variable is a usage error naming exactly it and those customers", async () => {
    const w = await reconcileWorld();
    await refused(w, without(w, "HES_API_KEY"), [
      `cwsync: Hosted Email Security is not configured: set HES_API_KEY${TAIL}`,
      "  Hosted Email Security is used by the hostedEmailSecurity reports of 5 customers: acme-corp, bluewater-dental, fabrikam-retail and 2 more",
      "",
    ].join("\n"));
  });

  it("Trend Micro Email Security: used only by a disabled customer, TMES_* may be absent; billing goes out and TMES is never called", async () => {
    const w = await reconcileWorld();
    for (const f of ["acme-corp.yaml", "northwind-logistics.yaml"]) edit(w, f, dropReport("emailSecurity"));
    edit(w, "sakura-trading.yaml", (t) => t.replace("enabled: true", "enabled: false"));
    w.repo.commit("no enabled customer reports Email Security");
    await reconcilesAndBills(w, without(w, "TMES_"), ["Billing 2026-12 Bluewater Dental Group", "Billing 2026-12 Fabrikam Retail"]);
    expect(w.tmes.requests).toEqual([]);
  });

  it("Trend Micro Email Security: used by customers, the missing TMES variables are a usage error naming exactly them and those customers", async () => {
    const w = await reconcileWorld();
    await refused(w, without(w, "TMES_"), [
      `cwsync: Trend Micro Email Security is not configured: set TMES_URL, TMES_ACCOUNT, TMES_API_KEY${TAIL}`,
      "  Trend Micro Email Security is used by the emailSecurity reports of 3 customers: acme-corp, northwind-logistics and sakura-trading",
      "",
    ].join("\n"));
  });

  it("Licensing Management Platform: with no billing configured, LMPI_* may be absent; the detection reports go out and LMPI is never called", async () => {
    const w = await reconcileWorld();
    edit(w, "_global.yaml", (t) => t.replace(/^  billing: .*\n/m, ""));
    for (const f of ["acme-corp.yaml", "fabrikam-retail.yaml", "northwind-logistics.yaml", "outback-mining.yaml", "sakura-trading.yaml"]) edit(w, f, dropReport("billing"));
    w.repo.commit("no billing");
    const env = without(w, "LMPI_");
    await reconcilesAndBills(w, env, []);
    expect(w.cw.state.tickets.map((t) => t.summary)).toContainEqual(expect.stringMatching(/^Email Security daily 2026-11-30 Acme Corporation cws-/));
    expect(w.lmpi.requests).toEqual([]);
  });

  it("Licensing Management Platform: with billing configured, the missing LMPI variables are a usage error naming exactly them and the billed customers", async () => {
    const w = await reconcileWorld();
    await refused(w, without(w, "LMPI_URL", "LMPI_SECRET_KEY"), [
      `cwsync: the Licensing Management Platform is not configured: set LMPI_URL, LMPI_SECRET_KEY${TAIL}`,
      "  the Licensing Management Platform is used by the billing of 6 customers: acme-corp, bluewater-dental, fabrikam-retail and 3 more",
      "",
    ].join("\n"));
  });

  it("every missing source in one usage error, one line of customers each; ConnectWise is always needed", async () => {
    const w = await reconcileWorld();
    await refused(w, without(w, "CW_CLIENT_ID", "LMPI_", "TMES_", "HES_"), [
      "cwsync: ConnectWise, the Licensing Management Platform, Trend Micro Email Security and Hosted Email Security are not configured: "
      + `set CW_CLIENT_ID, LMPI_URL, LMPI_ACCESS_TOKEN, LMPI_SECRET_KEY, TMES_URL, TMES_ACCOUNT, TMES_API_KEY, HES_URL, HES_ACCOUNT, HES_API_KEY${TAIL}`,
      "  the Licensing Management Platform is used by the billing of 6 customers: acme-corp, bluewater-dental, fabrikam-retail and 3 more",
      "  Trend Micro Email Security is used by the emailSecurity reports of 3 customers: acme-corp, northwind-logistics and sakura-trading",
      "  Hosted Email Security is used by the hostedEmailSecurity reports of 5 customers: acme-corp, bluewater-dental, fabrikam-retail and 2 more",
      "",
    ].join("\n"));
    // ConnectWise alone missing: it alone is named
    const cw = await run(w, without(w, "CW_"), "reconcile", "--dry-run");
    expect(cw.code).toBe(64);
    expect(cw.stderr).toBe(`cwsync: ConnectWise is not configured: set CW_URL, CW_COMPANY, CW_PUBLIC_KEY, CW_PRIVATE_KEY, CW_CLIENT_ID${TAIL}\n`);
  });
});
