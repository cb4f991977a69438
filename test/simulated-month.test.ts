import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { seedLmpiFromCustomers } from "../src/sandbox/lmpi-seed.ts";
import { loadSandboxCustomers } from "../src/sandbox/seed.ts";
import { tempRepo } from "./helpers/git-repo.ts";
import { reconcileWorld, type ReconcileWorld } from "./helpers/reconcile-world.ts";

const HOUR = 3600_000;

/** One customer of the simulated MSP: billing on `day` at `at` local time in `tz`. */
interface Spec {
  name: string;
  tz: string;
  at: string;
  day: number;
  products: string[];
  /** `notifications: global` (the copied _global.yaml bills on day 1 at 06:00 UTC). */
  global?: boolean;
}

// Times are chosen so that the local day and the UTC day differ: 00:30 in Rome is 23:30 or
// 22:30 UTC of the day before, 22:00 in New York is 02:00 or 03:00 UTC of the day after.
const SPECS: Spec[] = [
  { name: "utc-day29", tz: "UTC", at: "06:00", day: 29, products: ["wfbs-svc", "cloud-edge"] },
  { name: "ny-day29", tz: "America/New_York", at: "22:00", day: 29, products: ["wfbs-svc", "cas"] },
  { name: "rome-day30", tz: "Europe/Rome", at: "00:30", day: 30, products: ["wfbs-adv"] },
  { name: "utc-day30", tz: "UTC", at: "12:00", day: 30, products: ["wfbs-svc"] },
  { name: "ny-day31", tz: "America/New_York", at: "22:00", day: 31, products: ["wfbs-svc", "hes"] },
  { name: "rome-day31", tz: "Europe/Rome", at: "00:30", day: 31, products: ["wfbs-svc", "cas"] },
  { name: "utc-day31", tz: "UTC", at: "23:30", day: 31, products: ["wfbs-adv"] },
  { name: "global-day1", tz: "UTC", at: "06:00", day: 1, products: ["wfbs-svc", "hes"], global: true },
  { name: "rome-day1", tz: "Europe/Rome", at: "00:30", day: 1, products: ["wfbs-svc"] },
  { name: "ny-day1", tz: "America/New_York", at: "22:00", day: 1, products: ["cas", "cloud-edge"] },
  { name: "utc-day15", tz: "UTC", at: "06:00", day: 15, products: ["wfbs-svc"] },
  { name: "rome-day15", tz: "Europe/Rome", at: "07:00", day: 15, products: ["wfbs-svc", "hes"] },
  { name: "ny-day15", tz: "America/New_York", at: "08:30", day: 15, products: ["wfbs-adv"] },
];

/** Catalogue item (from the copied _global.yaml) → product key. */
const PRODUCT_OF_ITEM = new Map([["TM-WFBSS", "wfbs-svc"], ["TM-WFSA", "wfbs-adv"], ["TM-CAS", "cas"], ["TM-HES", "hes"], ["TM-CLOUDEDGE", "cloud-edge"]]);

const companyOf = (s: Spec) => s.name.replace(/-/g, "").toUpperCase();
const lmpNameOf = (s: Spec) => `Sim ${s.name} Ltd`;

function customerYaml(s: Spec): string {
  const head = [
    "apiVersion: cwsync/v1", "kind: Customer", `name: ${s.name}`,
    "trendMicro:", `  customer: ${lmpNameOf(s)}`,
    "connectwise:", "  enabled: true", `  companyId: ${companyOf(s)}`,
    "agreements:", ...s.products.map((p) => `  ${p}: default`),
  ];
  const notifications = s.global
    ? ["notifications: global"]
    : ["notifications:", `  timezone: ${s.tz}`, `  at: "${s.at}"`, "  billing:", `    products: [${s.products.join(", ")}]`, `    dayOfMonth: ${s.day}`];
  return [...head, ...notifications, ""].join("\n");
}

/** A customers/ folder: the project's _global.yaml (with the chosen decrease policy) and the customers above. */
function customersFolder(decreases: "apply" | "hold"): string {
  const dir = mkdtempSync(join(tmpdir(), "cwsync-sim-"));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const global = readFileSync(join(import.meta.dirname, "../customers/_global.yaml"), "utf8");
  const replaced = global.replace(/^( {2}decreases: )\w+/m, `$1${decreases}`);
  expect(replaced).toContain(`decreases: ${decreases}`);
  writeFileSync(join(dir, "_global.yaml"), replaced);
  for (const s of SPECS) writeFileSync(join(dir, `${s.name}.yaml`), customerYaml(s));
  return dir;
}

/** Independent of src/core: the UTC instant of a local wall time (no DST gap at the times used here). */
function zoned(year: number, month: number, day: number, at: string, tz: string): Date {
  const [hh, mm] = at.split(":").map(Number);
  const wall = Date.UTC(year, month - 1, day, hh, mm);
  const offsetAt = (t: number) => {
    const p = Object.fromEntries(new Intl.DateTimeFormat("en-US", {
      timeZone: tz, hourCycle: "h23", year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric",
    }).formatToParts(new Date(t)).map((x) => [x.type, Number(x.value)]));
    return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute) - t;
  };
  let t = wall - offsetAt(wall);
  t = wall - offsetAt(t);
  return new Date(t);
}

const localDate = (d: Date, tz: string) => new Intl.DateTimeFormat("en-CA", { timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit" }).format(d);
const lastDay = (year: number, month: number) => new Date(Date.UTC(year, month, 0)).getUTCDate();
const monthKey = (year: number, month: number) => `${year}-${String(month).padStart(2, "0")}`;

interface Due {
  spec: Spec;
  periodKey: string;
  year: number;
  month: number;
  localDay: string;
  at: Date;
}

/** Every billing send of the simulated customers due in [from, to]: the expected tickets. */
function expectedDues(year: number, from: Date, to: Date): Due[] {
  const out: Due[] = [];
  for (const spec of SPECS) {
    for (let month = 1; month <= 4; month++) {
      const day = Math.min(spec.day, lastDay(year, month));
      const at = zoned(year, month, day, spec.at, spec.tz);
      if (at >= from && at <= to) out.push({ spec, periodKey: monthKey(year, month), year, month, localDay: `${monthKey(year, month)}-${String(day).padStart(2, "0")}`, at });
    }
  }
  return out;
}

/**
 * Every 6 hours on each UTC day a send falls due, at noon every other day between them, and for
 * each due instant the instant itself and the hour before: the run that must send and the last
 * run that must not. (Every 6 hours all through would take minutes: each run is a whole CLI run.)
 */
function runInstants(dues: readonly Due[], from: Date, to: Date): Date[] {
  const DAY = 24 * HOUR;
  const busy = new Set(dues.map((d) => Math.floor(d.at.getTime() / DAY)));
  const set = new Set<number>();
  for (let t = from.getTime(); t <= to.getTime(); t += 6 * HOUR) {
    const day = Math.floor(t / DAY);
    if (busy.has(day) || (t % DAY === 12 * HOUR && day % 2 === 0)) set.add(t);
  }
  for (const d of dues) for (const t of [d.at.getTime() - HOUR, d.at.getTime()]) set.add(t);
  return [...set].filter((t) => t >= from.getTime() && t <= to.getTime()).sort((a, b) => a - b).map((t) => new Date(t));
}

interface Line { product: string; op: string; quantity?: number; previous?: number }
interface CycleJson {
  customers: { name: string; state: string; reason: string }[];
  actions: { kind: string; customer: string; report: string; periodKey: string; lines?: Line[] }[];
  outcomes: { customer: string; result: string; periodKey: string; lines?: Line[] }[];
}

interface Created {
  run: Date;
  customer: string;
  periodKey: string;
  summary: string;
}

interface AdditionWrite {
  run: Date;
  customer: string;
  product: string;
  method: string;
  quantity: number;
}

/** Runs the whole simulation and records which run created each ticket and each addition write. */
async function simulate(w: ReconcileWorld, runs: readonly Date[]) {
  const specByCompany = new Map(SPECS.map((s) => [companyOf(s), s]));
  const customerOfAgreement = (id: number) => specByCompany.get(w.cw.state.agreements.find((a) => a.id === id)!.company.identifier)!.name;
  const tickets: Created[] = [];
  const writes: AdditionWrite[] = [];
  const outputs = new Map<number, CycleJson>();
  for (const run of runs) {
    const seenTickets = w.cw.state.tickets.length;
    const seenRequests = w.cw.requests.length;
    const r = await w.run("reconcile", "--at", run.toISOString(), "--format", "json");
    if (r.code !== 0) throw new Error(`reconcile --at ${run.toISOString()} exited ${r.code}: ${r.stderr}`);
    const out = JSON.parse(r.stdout) as CycleJson;
    outputs.set(run.getTime(), out);
    for (const t of w.cw.state.tickets.slice(seenTickets)) {
      const spec = specByCompany.get(t.company.identifier)!;
      tickets.push({ run, customer: spec.name, periodKey: /^Billing (\d{4}-\d{2}) /.exec(t.summary)?.[1] ?? t.summary, summary: t.summary });
    }
    for (const q of w.cw.requests.slice(seenRequests)) {
      const m = /^\/finance\/agreements\/(\d+)\/additions(?:\/(\d+))?$/.exec(q.path);
      if (!m || q.method === "GET") continue;
      const agreementId = Number(m[1]);
      if (q.method === "POST") {
        const body = q.body as { product: { id: number }; quantity: number };
        const item = w.cw.state.catalog.find((c) => c.id === body.product.id)!.identifier;
        writes.push({ run, customer: customerOfAgreement(agreementId), product: PRODUCT_OF_ITEM.get(item)!, method: "POST", quantity: body.quantity });
      } else {
        const addition = w.cw.state.additions.find((a) => a.id === Number(m[2]))!;
        const ops = q.body as { op: string; path: string; value: number }[];
        const value = ops.find((o) => o.path.replace(/^\//, "") === "quantity")!.value;
        writes.push({ run, customer: customerOfAgreement(agreementId), product: PRODUCT_OF_ITEM.get(addition.product.identifier)!, method: q.method, quantity: value });
      }
    }
  }
  return { tickets, writes, outputs };
}

/** The live addition quantity of each customer's product in the fake ConnectWise. */
function additionQuantities(w: ReconcileWorld): Map<string, number> {
  const specByCompany = new Map(SPECS.map((s) => [companyOf(s), s]));
  const out = new Map<string, number>();
  const items = new Map(w.cw.state.catalog.map((c) => [c.id, c.identifier]));
  for (const a of w.cw.state.additions) {
    if (a.cancelledDate !== null) continue;
    const agreement = w.cw.state.agreements.find((x) => x.id === a.agreementId)!;
    const spec = specByCompany.get(agreement.company.identifier);
    if (spec) out.set(`${spec.name}/${PRODUCT_OF_ITEM.get(items.get(a.product.id)!)}`, a.quantity);
  }
  return out;
}

// Hand-computed: these are the points a naive implementation gets wrong (UTC day instead of local
// day, no fall-back, February 28 in a leap year, DST). Instant of the run that must create the ticket.
const SPOT_CHECKS: Record<number, [string, string, string][]> = {
  2027: [
    ["utc-day29", "2027-02", "2027-02-28T06:00:00.000Z"],
    ["utc-day29", "2027-03", "2027-03-29T06:00:00.000Z"],
    ["ny-day29", "2027-02", "2027-03-01T03:00:00.000Z"], // Feb 28 22:00 EST
    ["ny-day29", "2027-03", "2027-03-30T02:00:00.000Z"], // Mar 29 22:00 EDT (DST since Mar 14)
    ["rome-day30", "2027-02", "2027-02-27T23:30:00.000Z"], // Feb 28 00:30 CET
    ["rome-day31", "2027-03", "2027-03-30T22:30:00.000Z"], // Mar 31 00:30 CEST (DST since Mar 28)
    ["ny-day31", "2027-01", "2027-02-01T03:00:00.000Z"], // Jan 31 22:00 EST, after the first run
    ["ny-day31", "2027-03", "2027-04-01T02:00:00.000Z"],
    ["utc-day31", "2027-03", "2027-03-31T23:30:00.000Z"],
    ["rome-day1", "2027-03", "2027-02-28T23:30:00.000Z"], // Mar 1 00:30 CET
    ["rome-day1", "2027-04", "2027-03-31T22:30:00.000Z"],
    ["global-day1", "2027-02", "2027-02-01T06:00:00.000Z"],
    ["ny-day15", "2027-03", "2027-03-15T12:30:00.000Z"], // 08:30 EDT
  ],
  2028: [
    ["utc-day29", "2028-02", "2028-02-29T06:00:00.000Z"],
    ["utc-day30", "2028-02", "2028-02-29T12:00:00.000Z"],
    ["utc-day31", "2028-02", "2028-02-29T23:30:00.000Z"],
    ["ny-day29", "2028-02", "2028-03-01T03:00:00.000Z"], // Feb 29 22:00 EST
    ["rome-day30", "2028-02", "2028-02-28T23:30:00.000Z"], // Feb 29 00:30 CET
    ["rome-day31", "2028-03", "2028-03-30T22:30:00.000Z"], // Mar 31 00:30 CEST (DST since Mar 26)
    ["rome-day1", "2028-03", "2028-02-29T23:30:00.000Z"],
    ["ny-day15", "2028-03", "2028-03-15T12:30:00.000Z"], // DST since Mar 12
    ["rome-day15", "2028-03", "2028-03-15T06:00:00.000Z"], // still CET
  ],
};

async function simulateYear(year: number, decreases: "apply" | "hold") {
  const repo = tempRepo(customersFolder(decreases));
  const w = await reconcileWorld({ repo });
  const { customers, global } = loadSandboxCustomers(repo.dir);
  expect(customers.map((c) => c.name).sort()).toEqual(SPECS.map((s) => s.name).sort());
  const lmpi = seedLmpiFromCustomers(customers, global);
  const seats = (s: Spec, product: string, y: number, m: number) => {
    const row = lmpi(y, m).find((r) => r.customer === lmpNameOf(s) && r.product_name === global.products[product].lmp.productName)!;
    return global.products[product].quantity === "provisioned" ? row.provisioned : row.used;
  };
  const initial = additionQuantities(w);

  const from = new Date(Date.UTC(year, 0, 31));
  const to = new Date(Date.UTC(year, 3, 2, 6));
  const dues = expectedDues(year, from, to);
  const runs = runInstants(dues, from, to);
  const { tickets, writes, outputs } = await simulate(w, runs);
  const firstRunAtOrAfter = (t: Date) => runs.find((r) => r >= t)!;

  // exactly one ticket per customer and due month, none for months due before the first run
  expect(tickets.map((t) => `${t.customer} ${t.periodKey}`).sort()).toEqual(dues.map((d) => `${d.spec.name} ${d.periodKey}`).sort());

  for (const d of dues) {
    const t = tickets.find((x) => x.customer === d.spec.name && x.periodKey === d.periodKey)!;
    // the first run at or after the due instant creates it, on the right local day; the run an hour before did not
    expect({ key: `${d.spec.name} ${d.periodKey}`, run: t.run.toISOString() }).toEqual({ key: `${d.spec.name} ${d.periodKey}`, run: d.at.toISOString() });
    expect(localDate(t.run, d.spec.tz)).toBe(d.localDay);
  }
  for (const [name, period, at] of SPOT_CHECKS[year]) {
    expect(tickets.find((t) => t.customer === name && t.periodKey === period)?.run.toISOString(), `${name} ${period}`).toBe(at);
  }

  // the LMPI rows differ between a local billing month and the UTC month of its due instant, so the
  // quantities below tell the two apart (Feb 28 22:00 in New York is March 1 in UTC)
  const utcMonth = (d: Due) => ({ y: d.at.getUTCFullYear(), m: d.at.getUTCMonth() + 1 });
  const straddling = dues.filter((d) => utcMonth(d).m !== d.month && d.spec.products.some((p) => seats(d.spec, p, d.year, d.month) !== seats(d.spec, p, utcMonth(d).y, utcMonth(d).m)));
  expect(straddling.length).toBeGreaterThan(3);

  // seats: the month's LMPI count, per product; additions are written only by the run that bills, and only as the model says
  const model = new Map(initial);
  const ops: string[] = [];
  for (const d of [...dues].sort((a, b) => a.at.getTime() - b.at.getTime())) {
    const out = outputs.get(firstRunAtOrAfter(d.at).getTime())!;
    const outcome = out.outcomes.find((o) => o.customer === d.spec.name && o.periodKey === d.periodKey)!;
    expect(outcome.result).toBe("done");
    const expectedLines = [...d.spec.products].sort().map((product) => {
      const quantity = seats(d.spec, product, d.year, d.month);
      const key = `${d.spec.name}/${product}`;
      const previous = model.get(key);
      const op = previous === undefined ? "create" : previous === quantity ? "unchanged" : quantity < previous && decreases === "hold" ? "held" : "set";
      if (op === "create" || op === "set") model.set(key, quantity);
      return { product, op, quantity };
    });
    const got = outcome.lines!.map((l) => ({ product: l.product, op: l.op, quantity: l.quantity }));
    expect(got.sort((a, b) => a.product.localeCompare(b.product)), `${d.spec.name} ${d.periodKey}`).toEqual(expectedLines);
    ops.push(...expectedLines.map((l) => l.op));
    const written = writes.filter((x) => x.customer === d.spec.name && x.run.getTime() === firstRunAtOrAfter(d.at).getTime());
    expect(written.map((x) => ({ product: x.product, method: x.method, quantity: x.quantity })).sort((a, b) => a.product.localeCompare(b.product))).toEqual(
      expectedLines.filter((l) => l.op === "create" || l.op === "set").map((l) => ({ product: l.product, method: l.op === "create" ? "POST" : "PATCH", quantity: l.quantity })),
    );
  }
  const billingRuns = new Set(dues.map((d) => `${d.spec.name} ${firstRunAtOrAfter(d.at).getTime()}`));
  expect(writes.filter((x) => !billingRuns.has(`${x.customer} ${x.run.getTime()}`))).toEqual([]);
  expect(Object.fromEntries(additionQuantities(w))).toEqual(Object.fromEntries(model));
  return { dues, tickets, runs, ops: new Set(ops) };
}

describe("a simulated February and March: billing days 29/30/31, 1 and 15 in UTC, Rome and New York", () => {
  it("common year 2027 (decreases: hold): day 29-31 fall back to Feb 28, one ticket per customer and month, LMPI seats of that month", async () => {
    const r = await simulateYear(2027, "hold");
    // the seeded data exercises every kind of line: created additions, increases, held decreases
    expect([...r.ops].sort()).toEqual(["create", "held", "set", "unchanged"]);
    // hand-counted: 2 per customer, 3 for day 31 in New York and UTC and for day 1 (Apr 1 is in range;
    // Jan 31 00:30 in Rome is before the first run, Jan 31 22:00 in New York after it)
    expect(r.tickets.length).toBe(31);
    expect(r.tickets.filter((t) => t.periodKey === "2027-02").map((t) => `${t.customer} ${localDate(t.run, SPECS.find((s) => s.name === t.customer)!.tz)}`).sort()).toEqual([
      "global-day1 2027-02-01", "ny-day1 2027-02-01", "ny-day15 2027-02-15", "ny-day29 2027-02-28", "ny-day31 2027-02-28",
      "rome-day1 2027-02-01", "rome-day15 2027-02-15", "rome-day30 2027-02-28", "rome-day31 2027-02-28",
      "utc-day15 2027-02-15", "utc-day29 2027-02-28", "utc-day30 2027-02-28", "utc-day31 2027-02-28",
    ]);
  }, 120_000);

  it("leap year 2028 (decreases: apply): day 29-31 fall back to Feb 29, March 31 stays 31, additions always follow LMPI", async () => {
    const r = await simulateYear(2028, "apply");
    expect(r.tickets.length).toBe(31);
    expect([...r.ops].sort()).toEqual(["create", "set", "unchanged"]);
    expect(r.tickets.filter((t) => t.periodKey === "2028-02").map((t) => `${t.customer} ${localDate(t.run, SPECS.find((s) => s.name === t.customer)!.tz)}`).sort()).toEqual([
      "global-day1 2028-02-01", "ny-day1 2028-02-01", "ny-day15 2028-02-15", "ny-day29 2028-02-29", "ny-day31 2028-02-29",
      "rome-day1 2028-02-01", "rome-day15 2028-02-15", "rome-day30 2028-02-29", "rome-day31 2028-02-29",
      "utc-day15 2028-02-15", "utc-day29 2028-02-29", "utc-day30 2028-02-29", "utc-day31 2028-02-29",
    ]);
    expect(r.tickets.filter((t) => t.periodKey === "2028-03").map((t) => `${t.customer} ${localDate(t.run, SPECS.find((s) => s.name === t.customer)!.tz)}`).sort()).toEqual([
      "global-day1 2028-03-01", "ny-day1 2028-03-01", "ny-day15 2028-03-15", "ny-day29 2028-03-29", "ny-day31 2028-03-31",
      "rome-day1 2028-03-01", "rome-day15 2028-03-15", "rome-day30 2028-03-30", "rome-day31 2028-03-31",
      "utc-day15 2028-03-15", "utc-day29 2028-03-29", "utc-day30 2028-03-30", "utc-day31 2028-03-31",
    ]);
  }, 120_000);
});
