import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkCron, checkFields } from "./cron.ts";
import { isPlainSchedule } from "./cron-plain.ts";

// `isPlainSchedule` lets `checkCron` answer "usable" without loading cron-parser: that answer must
// be cron-parser's (`checkFields`) on every expression it accepts, whatever the time zone.

const root = new URL("../..", import.meta.url).pathname;

/** Every quoted `schedule:` of the repository's YAML (customers, examples, test fixtures, docs). */
function corpus(): string[] {
  const found = new Set<string>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.(ya?ml|md)$/.test(name)) {
        for (const m of readFileSync(p, "utf8").matchAll(/schedule:\s*["']([^"'\n]*)["']/g)) found.add(m[1]);
      }
    }
  };
  for (const dir of ["customers", "examples", "test/fixtures", "docs"]) walk(join(root, dir));
  return [...found];
}

/** A small deterministic generator (mulberry32). */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function generated(): string[] {
  const next = rng(16);
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
  const list = (lo: number, hi: number, star = 0.3): string => {
    if (next() < star) return "*";
    const parts: string[] = [];
    for (let n = int(1, 3); n > 0; n--) {
      const a = int(lo, hi);
      const r = next();
      // mostly ascending ranges, sometimes descending or degenerate ones, which are not plain
      parts.push(r < 0.5 ? String(a) : r < 0.85 ? `${a}-${int(a, hi)}` : `${a}-${int(lo, hi)}`);
    }
    return parts.join(",");
  };
  const out: string[] = [];
  for (let i = 0; i < 2000; i++) {
    const five = `${int(0, 59)} ${list(0, 23)} ${list(1, 31)} ${next() < 0.85 ? "*" : list(1, 12)} ${list(0, 7)}`;
    out.push(next() < 0.3 ? `${int(0, 59)} ${five}` : five);
  }
  // the edges of every range, and just past them (not plain: cron-parser's verdict stands)
  for (const h of ["0", "23", "24", "0-23", "23-0", "00", "08"]) out.push(`0 ${h} * * *`);
  for (const d of ["1", "28", "29", "30", "31", "32", "0", "1-31", "31-1", "L", "1,31"]) out.push(`0 8 ${d} * *`);
  for (const w of ["0", "6", "7", "8", "0-7", "7-0", "5-7", "1,1", "1-1", "1#5", "1L", "mon-fri"]) out.push(`0 8 * * ${w}`);
  for (const s of ["0 0 8 * * *", "59 59 23 * * *", "60 0 8 * * *", "0 60 8 * * *", "*/5 0 8 * * *", "0 */5 8 * * *", "0,30 8 * * *"]) out.push(s);
  out.push("0 8 31 2 *", "0 8 30 1-3 *", "0 8 29 2 *", "@daily", "@hourly", "@minutely", "@weekly");
  return out;
}

const fieldsOf = (expression: string) => {
  // as cron.ts splits them: each field with where it starts
  const tokens = [...expression.matchAll(/\S+/g)].map((m) => ({ text: m[0], offset: m.index }));
  return tokens.length === 5 ? [{ text: "0" }, ...tokens] : tokens;
};

describe("isPlainSchedule", () => {
  const expressions = [...corpus(), ...generated()];

  it("answers as cron-parser does on every expression it calls plain", () => {
    let plain = 0;
    for (const e of expressions) {
      if (e.startsWith("@")) continue;
      const fields = fieldsOf(e);
      if (!isPlainSchedule(fields)) continue;
      plain++;
      for (const tz of ["UTC", "Europe/Rome", "America/New_York", "Australia/Lord_Howe"]) {
        expect(checkFields(fields, tz), `${e} in ${tz}`).toBeUndefined();
      }
    }
    // not a vacuous check: most generated expressions are plain
    expect(plain).toBeGreaterThan(600);
  });

  it("leaves checkCron's verdict unchanged on every expression", () => {
    for (const e of expressions) {
      const fields = fieldsOf(e);
      const direct = e.startsWith("@") || (fields.length !== 6) ? undefined : checkFields(fields, "Europe/Rome");
      const verdict = checkCron(e, "Europe/Rome");
      if (!e.startsWith("@") && fields.length === 6) expect(verdict, e).toEqual(direct);
    }
  });

  it("takes the repository's own schedules, and refuses what only cron-parser can judge", () => {
    expect(isPlainSchedule(fieldsOf("0 9 1,15 * *"))).toBe(true);
    expect(isPlainSchedule(fieldsOf("0 8 * * 1-5"))).toBe(true);
    for (const e of ["0 8 * * mon-fri", "0 8 L * *", "0 8 * * 1#5", "*/30 * * * *", "0 8 31 2 *", "0 24 * * *", "0 8 * * 5-1", "08 8 * * *", "0 8 * * 8"]) {
      expect(isPlainSchedule(fieldsOf(e)), e).toBe(false);
    }
  });
});
