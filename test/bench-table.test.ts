import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";

// bench/*.mjs are plain scripts without declarations: imported by URL, typed here
interface Row {
  figure: string;
  command: string;
  settings: string;
  value: string;
  reference?: string;
  ratio?: number | string;
  target?: string;
  met?: boolean;
}
interface Machine { cores: number; model: string; ramGiB: number; node: string; loadavg: number[]; date: string; commit?: string }
interface TableModule {
  SHIPPED: string;
  COLUMNS: string[];
  median(xs: number[]): number;
  settings(d: (string | undefined)[]): string;
  shrunk(n: number, full: number, what: string): string | undefined;
  command(script: string, env?: Record<string, string | number | undefined>): string;
  ratio(a: number, b: number): number | undefined;
  formatRatio(r: number | string | undefined): string;
  machine(now?: Date): Machine;
  machineLine(m: Machine): string;
  renderTable(rows: Row[], m?: Machine): string;
  printTable(rows: Row[], m: Machine, file: string): string;
}
const load = async <T>(path: string): Promise<T> => (await import(new URL(path, import.meta.url).href)) as T;
const table = () => load<TableModule>("../bench/table.mjs");

const MACHINE: Machine = { cores: 2, model: "AMD EPYC", ramGiB: 24, node: "v24.21.0", loadavg: [0.5, 0.25, 0.125], date: "2026-12-06T07:00:00Z", commit: "abc1234" };
const ROW: Row = {
  figure: "fenced ledger writes", command: "`node bench/state-writes.mjs`", settings: "shipped defaults",
  value: "2,000 writes/s", reference: "plain node:sqlite: 2,100/s", ratio: 1.05, target: "—", met: undefined,
};

describe("bench/table.mjs", () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it("takes the median (the lower middle of an even count) without reordering its input", async () => {
    const t = await table();
    const xs = [5, 1, 3];
    expect(t.median(xs)).toBe(3);
    expect(xs).toEqual([5, 1, 3]);
    expect(t.median([4, 1, 3, 2])).toBe(2);
    expect(t.median([])).toBeNaN();
  });

  it("says shipped defaults when nothing differs, and exactly what differs otherwise", async () => {
    const t = await table();
    expect(t.settings([])).toBe(t.SHIPPED);
    expect(t.settings([undefined, t.shrunk(5000, 5000, "customers")])).toBe("shipped defaults");
    expect(t.settings(["--interval 2s (shipped: 60s)", t.shrunk(500, 5000, "customers")])).toBe("--interval 2s (shipped: 60s); shrunken: 500 of 5,000 customers");
  });

  it("writes a command with the env knobs that were set, and nothing for the unset ones", async () => {
    const t = await table();
    expect(t.command("bench/daemon.mjs")).toBe("`node bench/daemon.mjs`");
    expect(t.command("bench/daemon.mjs", { BENCH_DAEMON_CUSTOMERS: 200, BENCH_DAEMON_INTERVAL: undefined, X: "" })).toBe("`BENCH_DAEMON_CUSTOMERS=200 node bench/daemon.mjs`");
  });

  it("gives no ratio against a zero or missing reference", async () => {
    const t = await table();
    expect(t.ratio(3, 2)).toBe(1.5);
    expect(t.ratio(3, 0)).toBeUndefined();
    expect(t.ratio(3, Number.NaN)).toBeUndefined();
    expect(t.formatRatio(undefined)).toBe("—");
    expect(t.formatRatio(1.0449)).toBe("1.04");
    expect(t.formatRatio(12.34)).toBe("12.3");
    expect(t.formatRatio(250.4)).toBe("250");
    expect(t.formatRatio("— (reference 0 ms)")).toBe("— (reference 0 ms)");
  });

  it("renders one markdown table: the machine line, the eight columns, one line a row", async () => {
    const t = await table();
    const text = t.renderTable([ROW, { ...ROW, figure: "RSS | after the last cycle", ratio: 2.5, target: "≤ 200 MB", met: false }, { ...ROW, met: true, reference: undefined, ratio: undefined }], MACHINE);
    const lines = text.trimEnd().split("\n");
    expect(lines[0]).toBe(t.machineLine(MACHINE));
    expect(lines[0]).toContain("2 cores (AMD EPYC), 24 GiB RAM, Node v24.21.0, load average at start 0.50 / 0.25 / 0.13");
    expect(lines[0]).toContain("2026-12-06T07:00:00Z");
    expect(lines[1]).toBe("");
    expect(lines[2]).toBe("| figure | command | settings | value | reference (same run) | ratio | target | met? |");
    expect(lines[3]).toBe("| --- | --- | --- | --- | --- | --- | --- | --- |");
    expect(lines).toHaveLength(7);
    expect(lines[4]).toBe("| fenced ledger writes | `node bench/state-writes.mjs` | shipped defaults | 2,000 writes/s | plain node:sqlite: 2,100/s | 1.05 | — | — |");
    // a `|` in a cell is escaped, so every line keeps its eight cells
    expect(lines[5]).toContain("RSS \\| after the last cycle");
    expect(lines[5]).toMatch(/\| 2\.50 \| ≤ 200 MB \| \*\*no\*\* \|$/);
    expect(lines[6]).toMatch(/\| — \| — \| — \| yes \|$/);
    for (const line of lines.slice(2)) expect(line.replace(/\\\|/g, "").split("|")).toHaveLength(10);
  });

  it("refuses a row without a figure, command, settings or value", async () => {
    const t = await table();
    expect(() => t.renderTable([{ ...ROW, settings: "" }])).toThrow(/settings/);
    expect(() => t.renderTable([{ ...ROW, command: undefined as unknown as string }])).toThrow(/command/);
  });

  it("describes this machine, and prints and writes the table", async () => {
    const t = await table();
    const m = t.machine(new Date("2026-12-06T07:00:00.123Z"));
    expect(m.cores).toBeGreaterThan(0);
    expect(m.model.length).toBeGreaterThan(0);
    expect(m.node).toBe(process.version);
    expect(m.loadavg).toHaveLength(3);
    expect(m.date).toBe("2026-12-06T07:00:00Z");
    dir = mkdtempSync(join(tmpdir(), "cwsync-bench-table-"));
    const file = join(dir, "out", "summary.md");
    const log = vi.spyOn(console, "log").mockImplementation(() => undefined);
    const text = t.printTable([ROW], m, file);
    expect(readFileSync(file, "utf8")).toBe(text);
    expect(log).toHaveBeenCalledWith(`\n${text}`);
  });
});

describe("the benches' rows", () => {
  it("label a daemon run at another interval, shrunk, and compare with the idle Node process", async () => {
    const { daemonRows } = await load<{ daemonRows(r: unknown, o?: { fullCycles?: number }): Row[] }>("../bench/daemon.mjs");
    const run = (interval: string, n: number, cycles: number) => ({
      n, cycles, interval, tuning: {},
      reference: { what: "node -e \"setInterval(()=>{}, 60000)\"", idleMeanMs: 2, idleMaxMs: 10, rssAfterLastMiB: 40, total: 90 },
      rss: { afterHour: 150, peak: 300 },
      cpu: { allMeanMs: 40, allMedianMs: 40, allMaxMs: 60, series: [30, 40, 50] },
      audit: { endedAfterCycle: 6, series: [1500, 1200, 900, 1000, 1100], meanMs: 1140, maxMs: 1500 },
    });
    const [cpu, rss, audit] = daemonRows(run("60s", 5000, 10));
    // the cycles the day's billing audit ran beside are a row of their own, not idle ones
    expect(cpu.figure).toMatch(/^CPU per idle cycle after the day's billing audit/);
    expect(audit.figure).toContain("the audit runs beside cycles 2 to 7");
    expect(audit.value).toBe("1140.0 ms mean (max 1500; 5 cycles: 1500 1200 900 1000 1100)");
    expect(audit.met).toBeUndefined();
    expect(cpu.settings).toBe("CWSYNC_LOG_LEVEL=debug (the bench reads each cycle's end from a debug line)");
    expect(cpu.command).toBe("`BENCH_DAEMON_FAST_CYCLES=0 node bench/daemon.mjs`");
    expect(cpu.ratio).toBe(20);
    expect(cpu.met).toBe(true);
    expect(rss.ratio).toBe(150 / 40);
    expect(rss.met).toBe(true);
    const [fast] = daemonRows(run("2s", 500, 3), { fullCycles: 60 });
    expect(fast.settings).toContain("--interval 2s (shipped: 60s)");
    expect(fast.settings).toContain("shrunken: 500 of 5,000 customers");
    expect(fast.settings).toContain("shrunken: 3 of 60 cycles");
    expect(fast.command).toBe("`BENCH_DAEMON_CUSTOMERS=500 BENCH_DAEMON_INTERVAL=2s BENCH_DAEMON_CYCLES=3 BENCH_DAEMON_FAST_CYCLES=0 node bench/daemon.mjs`");
  });

  it("compare ConnectWise verification with the limiter's computed bound, and say when a limiter is not shipped", async () => {
    const { connectWiseRows } = await load<{ connectWiseRows(r: unknown[]): Row[] }>("../bench/connectwise.mjs");
    const defaults = { ratePerSecond: 16, burst: 30, concurrency: 8 };
    const base = { count: 5000, runs: 3, faultRate: 0, ms: 3600, requests: 82, failed: 0, resolved: 5000, boundMs: 3250, limiterMs: 3250, latencyMs: 220, defaults, limiter: defaults };
    const [row] = connectWiseRows([base]);
    expect(row.settings).toBe("shipped defaults");
    expect(row.reference).toContain("computed (not measured): the larger of (82 − 30 burst) ÷ 16/s = 3.25 s and ⌈82 ÷ 8 at once⌉ × 20 ms = 0.22 s");
    expect(row.ratio).toBeCloseTo(3600 / 3250);
    expect(row.met).toBe(true);
    const [other] = connectWiseRows([{ ...base, limiter: { ratePerSecond: 500, burst: 500, concurrency: 16 }, ms: 6000 }]);
    expect(other.settings).toBe("limiter 500/s after 500, 16 at once");
    expect(other.met).toBe(false);
  });

  it("turn month-end's result into its four rows against the throttle's computed bound", async () => {
    const { monthEndRows } = await load<{ monthEndRows(r: unknown): Row[] }>("../bench/run.mjs");
    const billing = { ms: 1_516_700, requests: 24_193, throttled: 0, throttledShare: 0, boundMs: 1_451_580, ratio: 1.045, busiestMinute: 990, peakMiB: 369, outcomes: { done: 5000 } };
    const rows = monthEndRows({ n: 5000, latencyMs: [50, 150], throttlePerMinute: 1000, limits: {}, apply: { peakMiB: 257 }, billing, tickets: { total: 5000, companies: 5000, exactlyOne: true, most: 1 } });
    expect(rows.map((r) => r.settings)).toEqual(Array(4).fill("shipped defaults"));
    expect(rows.map((r) => r.met)).toEqual([true, true, true, false]);
    expect(rows[0].ratio).toBe(1.045);
    expect(rows[0].reference).toContain("computed (not measured)");
    expect(rows[3].target).toBe("≤ 200 MB");
    const [raised] = monthEndRows({ n: 1000, latencyMs: [50, 150], throttlePerMinute: 1000, limits: { CWSYNC_CW_RATE: "25" }, apply: { peakMiB: 150 }, billing: { ...billing, ratio: 1.2 }, tickets: { total: 1000, companies: 1000, exactlyOne: true, most: 1 } });
    expect(raised.settings).toBe("shrunken: 1,000 of 5,000 customers; limiter CWSYNC_CW_RATE=25");
    expect(raised.command).toBe("`BENCH_MONTH_END_CUSTOMERS=1000 BENCH_CW_RATE=25 node bench/month-end.mjs`");
    expect(raised.met).toBe(false);
  });

  it("take reconcile's no-op at the shipped limiter as the main row, and label the raised billing run", async () => {
    const { reconcileRows } = await load<{ reconcileRows(r: unknown, lim: unknown): Row[] }>("../bench/run.mjs");
    const lim = { rate: 16, burst: 30, concurrency: 8 };
    const tuning = { CWSYNC_CW_RATE: "500", CWSYNC_CW_BURST: "500", CWSYNC_CW_CONCURRENCY: "16" };
    const runs = [{ peakMiB: 200 }, { ms: 40_000, requests: 14_637, outcomes: { done: 5000 }, peakMiB: 470 }, { ms: 2000, requests: 82, methods: { GET: 82 }, peakMiB: 300 }];
    const noopDefault = { medianMs: 2500, medianPeakMiB: 300, requests: 62, remoteWrites: 0, recordRows: 0, targetMs: 3000, runs: [{}, {}, {}, {}, {}] };
    const [noop, rss, billing] = reconcileRows({ n: 5000, latencyMs: 20, tuning, runs, noopDefault }, lim);
    expect(noop.settings).toBe("shipped defaults");
    expect(noop.reference).toContain("the larger of (62 − 30 burst) ÷ 16/s = 2.00 s and ⌈62 ÷ 8 at once⌉ × 20 ms = 0.16 s");
    expect(noop.ratio).toBe(1.25);
    expect(noop.met).toBe(true);
    expect(rss.ratio).toBe(1.5);
    expect(billing.settings).toContain("not the shipped defaults");
    // a bench that gives its own rows is taken as it is
    expect(reconcileRows({ rows: [ROW] }, lim)).toEqual([ROW]);
  });

  it("map validate's result: the parse floor and cold-start references with their paired ratios, and the older shape", async () => {
    const { validateRows } = await load<{ validateRows(v: unknown, mod: unknown): Row[] }>("../bench/run.mjs");
    const m = (medianMs: number) => ({ label: "x", medianMs, minMs: medianMs, maxMs: medianMs, peakMiB: 150, walls: [medianMs] });
    const older = validateRows({ count: 10_000, ours: m(1300), ajv: m(1100), ratio: 1.18 }, {});
    expect(older).toHaveLength(2);
    expect(older[0].reference).toContain("no parse-floor reference");
    expect(older[1].ratio).toBeCloseTo(1300 / 1100);
    const now = validateRows({
      count: 10_000, runs: 5, ours: m(1300), floor: m(1100), ajv: m(1100), floorRatio: 1.2, ajvRatio: 1.15, ratio: 1.18,
      cold: { ours: m(200), node: m(50), ratio: 3.9, noCache: m(300), noCacheRatio: 6 },
    }, {});
    expect(now.map((r) => [r.ratio, r.target, r.met])).toEqual([
      [1.2, "ratio ≤ 1.3", true], [3.9, "ratio ≤ 2.5", false], [6, "— (the ≤ 2.5 target is on the default)", undefined], [1.15, "— (a comparison)", undefined],
    ]);
    expect(now[0].settings).toBe("shipped defaults");
    expect(now[0].command).toBe("`node bench/validate.mjs`");
    expect(now[2].settings).toContain("NODE_DISABLE_COMPILE_CACHE=1: not the default");
    expect(validateRows({ rows: [ROW] }, {})).toEqual([ROW]);
  });
});
