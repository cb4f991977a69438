import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { escapeMarkdown } from "../src/cli/markdown-escape.ts";
import { loadSandboxCustomers } from "../src/sandbox/seed.ts";
import { seedLmpiFromCustomers } from "../src/sandbox/lmpi-seed.ts";
import { startDaemon } from "./helpers/daemon.ts";
import { tempRepo } from "./helpers/git-repo.ts";
import { reconcileWorld, type ReconcileWorld } from "./helpers/reconcile-world.ts";
import { waitFor } from "./helpers/wait-for.ts";

interface AuditJson {
  month: string;
  lines: { lmpCustomer: string; customer?: string; product?: string; additionId?: number; quantity?: number; lastSet?: number; status: string; unitPrice?: number }[];
  unbilled: { lmpCustomer: string; productName: string; product?: string; why: string; used?: number; provisioned?: number; seats?: number; unitPrice?: number; monthlyValue?: number }[];
  drift: { customer: string; additionId: number; quantity: number; lastSet: number; difference: number; unitPrice?: number; monthlyValue?: number }[];
  unmanaged: { agreementId: number; additionId: number; catalogItem: string; quantity: number; companyName?: string; unitPrice?: number; monthlyValue?: number }[];
  held: { customer: string; additionId: number; quantity: number; heldQuantity: number; monthlyValue?: number }[];
  totals: { unbilledSeats: number };
  notes: string[];
}

// a name that breaks a CSV row and a Markdown table, and would mention a team on GitHub
const STRANGER = "Globex, *Holdings* | @team";

/** The project's customers, the LMP report they seed plus a customer no file claims (30 of 32 Cloud App Security seats used). */
async function world(): Promise<ReconcileWorld> {
  const repo = tempRepo();
  const { customers, global } = loadSandboxCustomers(repo.dir);
  const seeded = seedLmpiFromCustomers(customers, global);
  return reconcileWorld({
    repo,
    rows: (y, m) => [...seeded(y, m), {
      customer: STRANGER, city: "", state: "", owned_by_vendor: "Sandbox MSP", created_by_vendor: "Sandbox MSP",
      product_name: "Cloud App Security", service_plan: "Cloud App Security (Full)", provisioned: 32, used: 30, unit: "Seats",
    }],
  });
}

const AT = ["--month", "2026-12", "--at", "2026-12-02T09:00:00Z"];

/** A minimal RFC 4180 reader: quoted cells with commas, doubled quotes, CRLF. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i++; } else if (c === '"') quoted = false; else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") { row.push(cell); cell = ""; } else if (c === "\r") continue;
    else if (c === "\n") { row.push(cell); rows.push(row); row = []; cell = ""; } else cell += c;
  }
  return rows;
}

describe("cwsync audit against the fakes", () => {
  it("shows drift (an addition edited by hand after cwsync set it) and a held decrease with their quantities and money, writing nothing", async () => {
    const w = await world();
    await w.run("reconcile", "--at", "2026-11-30T12:00:00Z");
    // someone raises Bluewater's first addition by 50 seats before the December billing: the billing holds the decrease
    const bluewater = w.cw.state.agreements.filter((a) => a.company.identifier === "BluewaterDental").map((a) => a.id);
    const raised = w.cw.state.additions.find((a) => bluewater.includes(a.agreementId) && !a.cancelledDate)!;
    raised.quantity += 50;
    const billing = await w.run("reconcile", "--at", "2026-12-01T12:00:00Z");
    expect(billing.code).toBe(0);

    const before = await w.run("audit", ...AT, "--format", "json");
    expect(before.stderr).toBe("");
    expect(before.code).toBe(0);
    const clean = JSON.parse(before.stdout) as AuditJson;
    expect(clean.drift).toEqual([]);
    const held = clean.held.find((h) => h.additionId === raised.id)!;
    expect(held).toMatchObject({ customer: "bluewater-dental", quantity: raised.quantity });
    expect(held.heldQuantity).toBeLessThan(raised.quantity);
    expect(held.monthlyValue).toBeCloseTo((raised.quantity - held.heldQuantity) * raised.unitPrice, 2);

    // a billed addition cwsync set (or found right) this month, then edited by hand in ConnectWise
    const line = clean.lines.find((l) => l.customer === "bluewater-dental" && l.lastSet !== undefined && l.additionId !== raised.id)!;
    expect(line.quantity).toBe(line.lastSet);
    const edited = w.cw.state.additions.find((a) => a.id === line.additionId)!;
    edited.quantity = line.lastSet! + 7;
    const writes = w.writes().length;

    const res = await w.run("audit", ...AT, "--format", "json");
    expect(res.code).toBe(0);
    const audit = JSON.parse(res.stdout) as AuditJson;
    expect(audit.drift).toEqual([expect.objectContaining({
      customer: "bluewater-dental", additionId: edited.id, quantity: line.lastSet! + 7, lastSet: line.lastSet, difference: 7, unitPrice: edited.unitPrice,
    })]);
    expect(audit.drift[0].monthlyValue).toBeCloseTo(7 * edited.unitPrice, 2);

    const text = await w.run("audit", ...AT, "--fail-on", "drift");
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/Drift: 1 addition changed in ConnectWise since cwsync set them/);
    expect(text.stdout).toContain(`#${edited.id}`);
    expect(text.stderr).toContain("drift (1)");
    // read-only: the audits changed nothing in ConnectWise
    expect(w.writes().length).toBe(writes);
  });

  it("lists seats no customer file bills and additions on agreements no file maps, priced; --fail-on unbilled exits 1; CSV and Markdown hold a hostile name", async () => {
    const w = await world();
    const status = w.cw.state.companyStatuses.find((s) => !s.inactiveFlag)!;
    const type = w.cw.state.agreementTypes[0];
    const cas = w.cw.state.catalog.find((c) => c.identifier === "TM-CAS")!;
    // records a ConnectWise user made (the sandbox fills `_info` only when serving one by id)
    const _info = { lastUpdated: "2026-11-20T10:00:00Z", updatedBy: "jdoe" };
    w.cw.state.companies.push({ _info, id: 4242, identifier: "Globex", name: "Globex Holdings", status: { id: status.id, name: status.name }, deletedFlag: false });
    w.cw.state.agreements.push({ _info, id: 4343, name: "Globex - Hand billed", type: { id: type.id, name: type.name }, company: { id: 4242, identifier: "Globex", name: "Globex Holdings" }, agreementStatus: "Active", cancelledFlag: false });
    w.cw.state.additions.push({
      id: 4444, agreementId: 4343, product: { id: cas.id, identifier: cas.identifier }, quantity: 12, lessIncluded: 0, unitPrice: 6.25, unitCost: 4,
      billCustomer: "Billable", effectiveDate: "2026-01-01T00:00:00Z", cancelledDate: null, agreementStatus: "Active",
    });
    // the price of unbilled Cloud App Security seats: the most common unit price of its additions
    const prices = w.cw.state.additions.filter((a) => a.product.identifier === "TM-CAS").map((a) => a.unitPrice);
    const common = [...new Set(prices)].sort((x, y) => prices.filter((p) => p === y).length - prices.filter((p) => p === x).length || x - y)[0];

    const res = await w.run("audit", ...AT, "--format", "json", "--fail-on", "unbilled");
    expect(res.code).toBe(1);
    const audit = JSON.parse(res.stdout) as AuditJson;
    expect(audit.unbilled.find((u) => u.lmpCustomer === STRANGER)).toEqual({
      lmpCustomer: STRANGER, productName: "Cloud App Security", product: "cas", why: "no-customer-file", used: 30, provisioned: 32, seats: 30,
      unitPrice: common, monthlyValue: Math.round(30 * common * 100) / 100,
    });
    // the project's own customers: a disabled file's seats, and a mapped product the customer's billing leaves out
    expect(audit.unbilled.map((u) => `${u.lmpCustomer}/${u.product}: ${u.why}`).sort()).toEqual([
      "Fabrikam Retail Ltd (old)/wfbs-svc: customer-disabled", `${STRANGER}/cas: no-customer-file`, "Outback Mining Pty Ltd/iwsaas: product-not-billed",
    ].sort());
    expect(audit.totals.unbilledSeats).toBe(audit.unbilled.reduce((n, u) => n + u.seats!, 0));
    expect(audit.unmanaged).toEqual([expect.objectContaining({ agreementId: 4343, additionId: 4444, catalogItem: "TM-CAS", quantity: 12, companyName: "Globex Holdings", unitPrice: 6.25, monthlyValue: 75 })]);
    // no state yet: said, not guessed
    expect(audit.notes.join("\n")).toMatch(/no state to read/);
    expect((await w.run("audit", ...AT, "--fail-on", "drift,held")).code).toBe(0);

    const csv = await w.run("audit", ...AT, "--format", "csv");
    expect(csv.code).toBe(0);
    const rows = parseCsv(csv.stdout);
    const head = rows[0];
    const unbilled = rows.filter((r) => r[head.indexOf("category")] === "unbilled");
    expect(unbilled).toHaveLength(3);
    const stranger = unbilled.find((r) => r[head.indexOf("lmpCustomer")] === STRANGER)!;
    expect(stranger[head.indexOf("seats")]).toBe("30");
    expect(rows.every((r) => r.length === head.length)).toBe(true);
    expect(rows.find((r) => r[head.indexOf("category")] === "unmanaged")![head.indexOf("monthlyValue")]).toBe("75");

    const md = await w.run("audit", ...AT, "--format", "markdown");
    expect(md.stdout).toContain(escapeMarkdown(STRANGER));
    expect(md.stdout).not.toContain("*Holdings*");
    expect(md.stdout).not.toContain("@team");

    const text = await w.run("audit", ...AT);
    expect(text.stdout).toMatch(new RegExp(`Unbilled seats: 3 \\(${audit.totals.unbilledSeats} seats`));
    expect(text.stdout).toMatch(/Globex, \*Holdings\* \| @team +Cloud App Security +30 +32 +30 .* no customer file/);
    expect(w.writes()).toEqual([]);
  });

  it("refuses a bad --fail-on or --month with exit 64", async () => {
    const w = await world();
    const bad = await w.run("audit", "--fail-on", "unbiled");
    expect(bad.code).toBe(64);
    expect(bad.stderr).toContain("unbilled, drift, unmanaged, held");
    expect((await w.run("audit", "--month", "2026-13")).code).toBe(64);
    expect((await w.run("audit", "--format", "xml")).code).toBe(64);
  });
});

describe("the daemon's billing audit", () => {
  it("serves the audit at /api/audit, exports the two gauges and puts the counts in the status, computed once per full verification interval", { timeout: 60_000 }, async () => {
    const w = await world();
    const child = spawn(process.execPath, [resolve(import.meta.dirname, "../dist/cli/main.js"), "run", "--no-tui", "--listen", "127.0.0.1:0", "--repo", ".", "--interval", "1h"], {
      cwd: w.repo.dir, env: { ...process.env, ...w.env }, stdio: ["ignore", "ignore", "pipe"],
    });
    onTestFinished(() => void (child.exitCode === null && child.kill("SIGKILL")));
    let stderr = "";
    child.stderr!.setEncoding("utf8").on("data", (t: string) => void (stderr += t));
    const logs = () => stderr.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as { msg: string; url?: string });
    const url = await waitFor("the daemon started", () => logs().find((l) => l.msg === "daemon started")?.url);
    const audit = await waitFor("the first audit", async () => {
      const r = await fetch(`${url}/api/audit`);
      return r.status === 200 ? ((await r.json()) as AuditJson & { at: string }) : undefined;
    });
    expect(audit.unbilled.map((u) => u.lmpCustomer)).toContain(STRANGER);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toContain(`cwsync_unbilled_seats ${audit.totals.unbilledSeats}`);
    expect(metrics).toMatch(/^cwsync_drifted_additions 0$/m);
    const status = (await (await fetch(`${url}/api/status`)).json()) as { audit?: { unbilledSeats: number; drift: number } };
    expect(status.audit).toMatchObject({ unbilledSeats: audit.totals.unbilledSeats, drift: 0 });
    // another reconcile within the interval: the same audit, not a new one
    const again = await fetch(`${url}/api/reconcile?wait=1`, { method: "POST" });
    expect(again.status).toBe(200);
    expect(((await (await fetch(`${url}/api/audit`)).json()) as { at: string }).at).toBe(audit.at);
    expect(logs().filter((l) => l.msg === "billing audit computed")).toHaveLength(1);
    expect(w.writes()).toEqual([]);
    child.kill("SIGTERM");
  });
});

describe("the daemon's billing audit beside the cycles", () => {
  it("runs beside the cycles: while its reads of every agreement's additions are slow, cycles go on, and a stop does not wait for it", { timeout: 90_000 }, async () => {
    const w = await world();
    // every additions read takes 20 s: the audit (which reads them all) takes at least that long
    w.cw.faults.add({ kind: "latency", ms: 20_000, method: "GET", path: /^\/finance\/agreements\/\d+\/additions$/, times: Infinity });
    const d = await startDaemon(w.repo.dir, w.env, ["--repo", ".", "--interval", "1s"]);
    await waitFor("the audit running", async () => ((await (await fetch(`${d.url}/api/audit`)).json()) as { running: boolean }).running || undefined, 30_000);
    const seen = new Set<string>();
    await waitFor("three cycles while the audit runs", async () => {
      const s = await d.status();
      if (s.lastReconcile?.at) seen.add(s.lastReconcile.at);
      const audit = (await (await fetch(`${d.url}/api/audit`)).json()) as { running: boolean };
      expect(audit.running).toBe(true);
      return seen.size >= 3 || undefined;
    }, 15_000);
    const stopped = Date.now();
    d.child.kill("SIGTERM");
    expect(await d.exited).toBe(0);
    expect(Date.now() - stopped).toBeLessThan(10_000);
    expect(w.writes()).toEqual([]);
  });
});
