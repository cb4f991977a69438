// The one summary table of `npm run bench` (issue 16: "benchmarks that tell the truth"). Every
// benchmark contributes rows of the same shape, and the table is printed as markdown that can go
// into docs/benchmarks.md as it is, under a header line naming the machine and the date:
//
//   { figure, command, settings, value, reference, ratio, target, met }
//
// - figure: what is measured ("CPU per idle cycle, 5,000 customers").
// - command: a command anyone can run that measures it (after `npm run build`), e.g.
//   "node bench/state-writes.mjs"; with the env knobs of a shrunken run in it.
// - settings: SHIPPED ("shipped defaults") or exactly what differs from them ("--interval 2s";
//   "shrunken: 500 of 5,000 customers").
// - value: the figure, a string; "median of N" in it where the bench runs it several times.
// - reference: what was measured (or computed: it says so) in the same run to compare it with,
//   and its value, a string; or why there is none.
// - ratio: value ÷ reference, a number (or a string such as "—" when it has no meaning).
// - target: the target, a string ("≤ 50 ms"), or "—".
// - met: true, false, or undefined (no target).
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, join } from "node:path";

const root = new URL("..", import.meta.url).pathname;

export const SHIPPED = "shipped defaults";
export const COLUMNS = ["figure", "command", "settings", "value", "reference (same run)", "ratio", "target", "met?"];

/** The median (the lower middle of an even count), of numbers. */
export function median(xs) {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)];
}

/** "shipped defaults" when nothing differs, else what differs, joined with "; ". */
export function settings(differences) {
  const d = differences.filter(Boolean);
  return d.length ? d.join("; ") : SHIPPED;
}

/** The "shrunken" part of settings, when a run measured fewer than the full size. */
export function shrunk(n, full, what) {
  return n < full ? `shrunken: ${n.toLocaleString("en-US")} of ${full.toLocaleString("en-US")} ${what}` : undefined;
}

/** A command line: env assignments (those with a value) and then the script, in backticks. */
export function command(script, env = {}) {
  const vars = Object.entries(env).filter(([, v]) => v !== undefined && v !== "").map(([k, v]) => `${k}=${v}`);
  return `\`${[...vars, `node ${script}`].join(" ")}\``;
}

/** value ÷ reference, or undefined when either is not a finite number or the reference is 0. */
export function ratio(value, reference) {
  return Number.isFinite(value) && Number.isFinite(reference) && reference !== 0 ? value / reference : undefined;
}

/** The machine and the moment, for the header line. */
export function machine(now = new Date()) {
  const cpus = os.cpus();
  let commit;
  try {
    commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    commit = undefined;
  }
  return {
    cores: cpus.length,
    model: cpus[0]?.model?.trim() ?? "unknown CPU",
    ramGiB: os.totalmem() / 2 ** 30,
    node: process.version,
    loadavg: os.loadavg(),
    date: now.toISOString().replace(/\.\d{3}Z$/, "Z"),
    commit,
  };
}

export function machineLine(m) {
  const load = m.loadavg.map((x) => x.toFixed(2)).join(" / ");
  return `Measured ${m.date} on ${m.cores} cores (${m.model}), ${m.ramGiB.toFixed(0)} GiB RAM, Node ${m.node}, load average at start ${load} (1 / 5 / 15 min)${m.commit ? `, commit ${m.commit} (with the working tree of that moment)` : ""}.`;
}

/** A cell: `|` escaped, newlines folded, undefined as "—". */
function cell(x) {
  if (x === undefined || x === null || x === "") return "—";
  return String(x).replace(/\r?\n/g, " ").replace(/\|/g, "\\|");
}

export function formatRatio(r) {
  if (typeof r === "string") return r;
  if (r === undefined || !Number.isFinite(r)) return "—";
  return r >= 100 ? r.toFixed(0) : r >= 10 ? r.toFixed(1) : r.toFixed(2);
}

function formatMet(met) {
  if (met === true) return "yes";
  if (met === false) return "**no**";
  return met === undefined ? "—" : String(met);
}

/** Checks a row has what the table needs; throws naming the field. */
export function checkRow(r) {
  for (const k of ["figure", "command", "settings", "value"]) {
    if (typeof r[k] !== "string" || !r[k]) throw new Error(`bench row without ${k}: ${JSON.stringify(r)}`);
  }
  return r;
}

/** The markdown table (with the machine line above it when given), one row per row. */
export function renderTable(rows, m) {
  const lines = [];
  if (m) lines.push(machineLine(m), "");
  lines.push(`| ${COLUMNS.join(" | ")} |`, `| ${COLUMNS.map(() => "---").join(" | ")} |`);
  for (const r of rows) {
    checkRow(r);
    lines.push(`| ${[r.figure, r.command, r.settings, r.value, r.reference, formatRatio(r.ratio), r.target, formatMet(r.met)].map(cell).join(" | ")} |`);
  }
  return `${lines.join("\n")}\n`;
}

/** Prints the table and writes it to `file` (default bench/out/summary.md); returns the text. */
export function printTable(rows, m, file = join(root, "bench/out/summary.md")) {
  const text = renderTable(rows, m);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
  console.log(`\n${text}`);
  return text;
}

// formatting helpers the benches share
export const ms = (x, d = 0) => `${x.toFixed(d)} ms`;
export const sec = (x, d = 2) => `${(x / 1000).toFixed(d)} s`;
export const mib = (x) => `${x.toFixed(0)} MiB`;
export const int = (x) => Math.round(x).toLocaleString("en-US");
