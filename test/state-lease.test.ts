import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { openStateStore } from "../src/adapters/state-sqlite/open-state-store.ts";
import type { StateStore } from "../src/ports/state-store.ts";
import { reconcileWorld, type ReconcileWorld } from "./helpers/reconcile-world.ts";
import { runCli } from "./helpers/run-cli.ts";

const T0 = "2026-11-30T12:00:00Z";
const T1 = "2026-12-01T12:00:00Z";

function openStore(w: ReconcileWorld): StateStore {
  const store = openStateStore(w.stateDir);
  onTestFinished(() => store.close());
  return store;
}

/** Holds the single-writer lease as another cwsync would, and returns its fencing token. */
function holdLease(store: StateStore, holder: string, now = Date.now()): number {
  const got = store.acquireLease(holder, 60_000, now);
  if (!got.ok) throw new Error(`lease held by ${got.holder}`);
  return got.token;
}

/** The cells of the `status` table row of a customer (columns are separated by two or more spaces). */
const row = (table: string, name: string) => table.split("\n").find((l) => l.startsWith(`${name} `))?.split(/ {2,}/);

describe("one writer at a time", () => {
  it("refuses reconcile and send-now while another cwsync holds the lease, naming it; both work after it is released", async () => {
    const w = await reconcileWorld();
    expect((await w.run("reconcile", "--at", T0)).code).toBe(0);
    const store = openStore(w);
    const now = Date.now();
    const token = holdLease(store, "999999@otherhost", now);
    const held = `cwsync: another cwsync is writing to the state in ${w.stateDir} (999999@otherhost, since ${new Date(now).toISOString()}, lease until ${new Date(now + 60_000).toISOString()}); wait for it to finish, or stop it — its lease expires by itself if it died\n`;

    const reconcile = await w.run("reconcile", "--at", T1);
    expect(reconcile.code).toBe(1);
    expect(reconcile.stderr).toBe(held);
    const sendNow = await w.run("send-now", "bluewater-dental", "billing", "--at", T1);
    expect(sendNow.code).toBe(1);
    expect(sendNow.stderr).toBe(held);
    expect(w.writes()).toEqual([]);
    // readers are not writers: status still answers
    expect((await w.run("status")).code).toBe(0);

    store.releaseLease(token);
    expect((await w.run("reconcile", "--at", T1)).code).toBe(0);
    expect(w.cw.state.tickets.map((t) => t.summary)).toContain("Billing 2026-12 Bluewater Dental Group cws-82c6c8de51");
    expect((await w.run("send-now", "bluewater-dental", "billing", "--at", "2026-12-01T13:00:00Z")).code).toBe(0);
  });

  it("takes over the lease of a cwsync that died on this host, without waiting for it to expire", async () => {
    const w = await reconcileWorld();
    const dead = spawnSync(process.execPath, ["-e", ""]).pid;
    const store = openStore(w);
    holdLease(store, `${dead}@${hostname()}`);
    const r = await w.run("reconcile", "--at", T0);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    // and released it when done: another writer gets it at once
    expect(store.acquireLease("999999@otherhost", 60_000, Date.now()).ok).toBe(true);
  });
});

describe("the lease's abort signal", () => {
  it("is shared by every request of a busy run without Node's listener-leak warning on stderr", async () => {
    const warnings: string[] = [];
    const onWarning = (e: Error) => void warnings.push(`${e.name}: ${e.message}`);
    process.on("warning", onWarning);
    onTestFinished(() => void process.off("warning", onWarning));
    const w = await reconcileWorld();
    expect((await w.run("reconcile", "--at", T0)).code).toBe(0);
    // a month later every billed customer is due at once: many agreements read concurrently
    expect((await w.run("reconcile", "--at", "2027-01-01T12:00:00Z")).code).toBe(0);
    await new Promise((resolve) => setImmediate(resolve));
    expect(warnings).toEqual([]);
  });
});

describe("which ConnectWise a state directory belongs to", () => {
  it("refuses --sandbox on a state directory used with the environment's ConnectWise, suggesting another CWSYNC_STATE_DIR", async () => {
    const w = await reconcileWorld();
    expect((await w.run("reconcile", "--at", T0)).code).toBe(0);
    const refused = `cwsync: the state in ${w.stateDir} belongs to ConnectWise ${new URL(w.cw.url).host} company sandbox, not the embedded sandbox: its ledger would skip or repeat sends there. Use another CWSYNC_STATE_DIR (e.g. CWSYNC_STATE_DIR=.cwsync-sandbox)\n`;
    const reconcile = await w.run("reconcile", "--at", T1, "--sandbox");
    expect(reconcile.code).toBe(64);
    expect(reconcile.stderr).toBe(refused);
    const sendNow = await w.run("send-now", "bluewater-dental", "billing", "--at", T1, "--sandbox");
    expect(sendNow.code).toBe(64);
    expect(sendNow.stderr).toBe(refused);
  });

  it("refuses the environment's ConnectWise on a state directory used with --sandbox", async () => {
    const w = await reconcileWorld();
    expect((await w.run("reconcile", "--at", T0, "--sandbox")).code).toBe(0);
    const r = await w.run("reconcile", "--at", T1);
    expect(r.code).toBe(64);
    expect(r.stderr).toBe(`cwsync: the state in ${w.stateDir} belongs to the embedded sandbox, not ConnectWise ${new URL(w.cw.url).host} company sandbox: its ledger would skip or repeat sends there. Use another CWSYNC_STATE_DIR (e.g. CWSYNC_STATE_DIR=.cwsync-sandbox)\n`);
    expect(w.writes()).toEqual([]);
  });

  it("without the environment and without --sandbox: a usage error naming every variable and the flag, before anything is written", async () => {
    const w = await reconcileWorld();
    const parent = mkdtempSync(join(tmpdir(), "cwsync-none-"));
    onTestFinished(() => rmSync(parent, { recursive: true, force: true }));
    const stateDir = join(parent, "state");
    const none = await runCli(["reconcile"], { cwd: w.repo.dir, env: { CWSYNC_STATE_DIR: stateDir } });
    expect(none.code).toBe(64);
    expect(none.stderr).toBe(
      "cwsync: ConnectWise, the Licensing Management Platform, Trend Micro Email Security and Hosted Email Security are not configured: set CW_URL, CW_COMPANY, CW_PUBLIC_KEY, CW_PRIVATE_KEY, CW_CLIENT_ID, LMPI_URL, LMPI_ACCESS_TOKEN, LMPI_SECRET_KEY, TMES_URL, TMES_ACCOUNT, TMES_API_KEY, HES_URL, HES_ACCOUNT, HES_API_KEY (see the README), or pass --sandbox to use the embedded fakes\n"
      + "  the Licensing Management Platform is used by the billing of 6 customers: acme-corp, bluewater-dental, fabrikam-retail and 3 more\n"
      + "  Trend Micro Email Security is used by the emailSecurity reports of 3 customers: acme-corp, northwind-logistics and sakura-trading\n"
      + "  Hosted Email Security is used by the hostedEmailSecurity reports of 5 customers: acme-corp, bluewater-dental, fabrikam-retail and 2 more\n",
    );
    expect(existsSync(stateDir)).toBe(false);
    const { LMPI_URL: _url, LMPI_ACCESS_TOKEN: _token, LMPI_SECRET_KEY: _key, ...cwOnly } = w.env;
    const noLmpi = await runCli(["send-now", "bluewater-dental"], { cwd: w.repo.dir, env: cwOnly });
    expect(noLmpi.code).toBe(64);
    expect(noLmpi.stderr).toBe("cwsync: the Licensing Management Platform is not configured: set LMPI_URL, LMPI_ACCESS_TOKEN, LMPI_SECRET_KEY (see the README), or pass --sandbox to use the embedded fakes\n");
  });
});

describe("status and history read the state directory", () => {
  /** Bluewater fails once on LMPI, then bills; Northwind is left unreconciled until its billing day. */
  async function eventful(): Promise<ReconcileWorld> {
    const w = await reconcileWorld();
    expect((await w.run("reconcile", "--at", T0)).code).toBe(0);
    w.lmpi.faults.push({ kind: "status", status: 500 });
    expect((await w.run("reconcile", "--at", T1)).code).toBe(1);
    expect((await w.run("reconcile", "--at", "2026-12-01T12:30:00Z")).code).toBe(0);
    return w;
  }

  it("status shows state, reason, company, agreements, next due per report, last send with its ticket and last error", async () => {
    const w = await eventful();
    const head = w.repo.git("rev-parse", "HEAD").trim();
    const ticket = w.cw.state.tickets.find((t) => t.summary === "Billing 2026-12 Bluewater Dental Group cws-82c6c8de51")!.id;
    const lmpiError = "the LMP report for 2026-12 could not be read: LMPI POST /LMPI/v3/reports/summary answered 500 — 500 Internal Server Error";
    const agreement = "“Bluewater Dental Group - Managed Services” (#802, TMRM Management Solution)";

    const json = JSON.parse((await w.run("status", "bluewater-dental", "--format", "json", "--at", "2026-12-01T12:30:00Z")).stdout) as unknown;
    expect(json).toMatchObject({
      name: "bluewater-dental",
      file: "customers/bluewater-dental.yaml",
      status: { state: "pending", reason: "decrease.held", message: "Hosted Email Security: 61 → 54 seats is a decrease; held for a human (decreases: hold)", since: "2026-12-01T12:30:00.000Z" },
      appliedRevision: head,
      attemptedRevision: head,
      company: { identifier: "BluewaterDental", state: "found", id: 251, name: "Bluewater Dental Group" },
      agreements: ["wfbs-adv", "cas", "hes"].map((product) => ({ product, state: "resolved", agreement: "Bluewater Dental Group - Managed Services", message: agreement })),
      nextDue: [
        { report: "billing", periodKey: "2027-01", due: "2027-01-01T06:00:00.000Z", overdue: false },
        { report: "hostedEmailSecurity", periodKey: "2026-W49", due: "2026-12-07T06:00:00.000Z", overdue: false },
      ],
      lastSend: { report: "billing", periodKey: "2026-12", key: "cws-82c6c8de51", ticketId: ticket },
      lastError: { at: "2026-12-01T12:00:00.000Z", message: lmpiError },
      unfinished: [],
    });

    const text = (await w.run("status", "bluewater-dental", "--at", "2026-12-01T12:30:00Z")).stdout.split("\n");
    expect(text).toEqual(expect.arrayContaining([
      "bluewater-dental (customers/bluewater-dental.yaml)",
      "  state       pending — decrease.held (since 2026-12-01 12:30Z)",
      "  company     BluewaterDental: found (Bluewater Dental Group, #251)",
      `  agreement   cas: ${agreement}`,
      "  next        billing 2027-01 due 2027-01-01 06:00Z",
      "  next        hostedEmailSecurity 2026-W49 due 2026-12-07 06:00Z",
      `  last error  2026-12-01 12:00Z ${lmpiError}`,
    ]));
    expect(text.find((l) => l.startsWith("  last send"))).toMatch(new RegExp(`^  last send   billing 2026-12 at \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\dZ, ticket #${ticket}$`));

    const table = (await w.run("status", "--at", "2026-12-01T12:30:00Z")).stdout;
    expect(table.split("\n")[0]).toBe(`revision ${head.slice(0, 12)}`);
    expect(row(table, "bluewater-dental")).toEqual(["bluewater-dental", "pending", "decrease.held", "BluewaterDental", "hostedEmailSecurity 2026-12-07 06:00Z", "billing 2026-12"]);
    // acme-corp's daily Email Security report of 2026-11-30 went out at its due time
    expect(row(table, "acme-corp")).toEqual(["acme-corp", "ready", "ok", "AcmeCorp", "emailSecurity 2026-12-02 06:00Z", "emailSecurity 2026-11-30"]);
    const all = JSON.parse((await w.run("status", "--format", "json")).stdout) as { revision: string; customers: { name: string }[] };
    expect(all.revision).toBe(head);
    expect(all.customers.map((c) => c.name)).toEqual([
      "acme-corp", "bluewater-dental", "contoso-legal", "fabrikam-retail", "fabrikam-retail-legacy", "northwind-logistics", "outback-mining", "sakura-trading",
    ]);
  });

  it("history lists the ledger (done, missed, skipped) and the journal of a customer, newest first", async () => {
    const w = await eventful();
    // Northwind bills on the 29th; its daily detection reports older than the 7-day catch-up are missed
    expect((await w.run("reconcile", "--at", "2026-12-29T14:00:00Z")).code).toBe(0);
    const northwindTicket = w.cw.state.tickets.find((t) => t.summary.startsWith("Billing") && t.summary.includes("Northwind"))!.id;

    const northwind = (await w.run("history", "northwind-logistics")).stdout.split("\n");
    expect(northwind[0]).toBe("northwind-logistics: sends");
    expect(northwind).toContain(`  2026-12-29T13:30Z  billing             2026-12            done    ticket #${northwindTicket}   cws-2707c282a2`);
    expect(northwind).toContain("  2026-12-22T13:30Z  hostedEmailSecurity 2026-12-21         missed  catch-up.expired  cws-22329d42dd");
    expect(northwind).toContain("  2026-12-01T13:30Z  emailSecurity       2026-11            missed  catch-up.expired  cws-b88018a86f");

    const contoso = (await w.run("history", "contoso-legal")).stdout.split("\n");
    expect(contoso).toContain("  2026-12-01T06:00Z  billing             2026-12            skipped suspended  cws-c5b9bc5b3a");
    expect(contoso).toContain("  2026-12-28T06:00Z  hostedEmailSecurity 2026-W52           skipped suspended  cws-0e60531a6a");

    const bluewater = (await w.run("history", "bluewater-dental")).stdout;
    expect(bluewater).toMatch(/^ {2}\S+Z {2}state {2}state changed {2}from=ready to=failing reason=license\.unavailable detail=the LMP report for 2026-12 could not be read: /m);
    expect(bluewater).toMatch(/^ {2}\S+Z {2}send {3}send done {2}key=cws-82c6c8de51 report=billing periodKey=2026-12 ticketId=\d+$/m);
    const json = JSON.parse((await w.run("history", "bluewater-dental", "--format", "json")).stdout) as {
      sends: { key: string; report: string; periodKey: string; state: string; trigger: string; attempts: number }[];
      journal: { kind: string; message: string; data: { to?: string; reason?: string } }[];
    };
    // the weekly report of 2026-W52 is within its catch-up window: sent; older weeks were missed
    expect(json.sends.map((s) => `${s.report} ${s.periodKey} ${s.trigger} ${s.state} ${s.attempts}`)).toEqual([
      "hostedEmailSecurity 2026-W52 schedule done 1",
      "hostedEmailSecurity 2026-W51 schedule missed 0",
      "hostedEmailSecurity 2026-W50 schedule missed 0",
      "hostedEmailSecurity 2026-W49 schedule missed 0",
      "billing 2026-12 schedule done 1",
    ]);
    // the held decrease keeps bluewater pending until someone releases it (`cwsync release`)
    expect(json.journal.filter((j) => j.kind === "state").map((j) => `${j.data.to} ${j.data.reason}`)).toEqual([
      "pending decrease.held", "failing license.unavailable", "ready ok",
    ]);

    const unknown = await w.run("history", "initech");
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe(`cwsync: no customer \`initech\` in ${w.stateDir}: it has not been reconciled yet\n`);
  });
});
