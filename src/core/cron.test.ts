import { describe, expect, it } from "vitest";
import { checkCron, cronFires } from "./cron.ts";

const ROME = "Europe/Rome";

function firstFires(expression: string, tz: string, from: string, count: number): string[] {
  const out: string[] = [];
  for (const fire of cronFires(expression, tz, new Date(from))) {
    out.push(fire.instant.toISOString());
    if (out.length === count) break;
  }
  return out;
}

describe("checkCron: valid expressions", () => {
  it.each([
    "0 8 * * 1-5",
    "30 6 1 * *",
    "@daily",
    "@weekly",
    "@hourly",
    "0 * * * *",
    "0 8 * * mon-fri",
    "0 8 * * THU",
    "0 8 L * *",
    "0 0 29 2 *",
    "0 8 31 * *",
    "0 8 30 1-3 *",
    "0 9 * * 1#1",
    "0 0 8 * * 1-5",
    "  0 8 * * 1-5  ",
  ])("accepts %j", (expression) => {
    expect(checkCron(expression, ROME)).toBeUndefined();
  });
});

describe("checkCron: rule.cron-invalid", () => {
  it("rejects a wrong number of fields", () => {
    expect(checkCron("0 8 * *", ROME)).toMatchObject({
      code: "rule.cron-invalid",
      message: expect.stringContaining("found 4"),
    });
    const seven = checkCron("0 0 8 * * 1 2027", ROME);
    expect(seven).toMatchObject({ code: "rule.cron-invalid", offset: 12 });
  });

  it("rejects an empty expression instead of letting cron-parser default to every minute", () => {
    expect(checkCron("", ROME)?.code).toBe("rule.cron-invalid");
    expect(checkCron("   ", ROME)?.code).toBe("rule.cron-invalid");
  });

  it("names the out-of-range field and points at it", () => {
    expect(checkCron("0 25 * * *", ROME)).toEqual({
      code: "rule.cron-invalid",
      message: 'hour field "25" is invalid: got value 25, expected range 0-23',
      hint: expect.stringContaining("0-23"),
      offset: 2,
    });
    expect(checkCron("0 8 * 13 *", ROME)).toMatchObject({ code: "rule.cron-invalid", offset: 6 });
    expect(checkCron("0 8 * * 8", ROME)).toMatchObject({ code: "rule.cron-invalid", offset: 8 });
  });

  it("offsets count from the start of the expression, seconds field included", () => {
    expect(checkCron("0 61 8 * * *", ROME)).toMatchObject({
      code: "rule.cron-invalid",
      message: expect.stringContaining('minute field "61"'),
      offset: 2,
    });
    expect(checkCron("75 0 8 * * *", ROME)).toMatchObject({
      code: "rule.cron-invalid",
      message: expect.stringContaining('second field "75"'),
      offset: 0,
    });
  });

  it("rejects unknown names and characters", () => {
    expect(checkCron("0 8 * * mon-fry", ROME)).toMatchObject({
      code: "rule.cron-invalid",
      message: expect.stringContaining('day-of-week field "mon-fry"'),
      offset: 8,
    });
    expect(checkCron("0 8 * * x", ROME)).toMatchObject({ code: "rule.cron-invalid", offset: 8 });
    expect(checkCron("@fortnightly", ROME)).toMatchObject({
      code: "rule.cron-invalid",
      message: 'unknown macro "@fortnightly"',
    });
  });

  it("rejects hashed values, which cron-parser would pick at random on every start", () => {
    expect(checkCron("H 8 * * *", ROME)).toMatchObject({ code: "rule.cron-invalid", offset: 0 });
  });
});

describe("checkCron: rule.cron-never-fires", () => {
  it("reports February 30, which cron-parser rejects while parsing", () => {
    expect(checkCron("0 0 30 2 *", ROME)).toEqual({
      code: "rule.cron-never-fires",
      message: 'never fires: day-of-month "30" does not exist in month "2"',
      hint: expect.stringContaining("`L`"),
      offset: 4,
    });
    expect(checkCron("0 8 31 4,6,9,11 *", ROME)?.code).toBe("rule.cron-never-fires");
    expect(checkCron("0 0 8 31 feb *", ROME)).toMatchObject({ code: "rule.cron-never-fires", offset: 6 });
  });

  it("reports a fifth Monday in February, which parses but has no match for years", () => {
    expect(checkCron("0 8 * 2 1#5", ROME)).toMatchObject({
      code: "rule.cron-never-fires",
      message: expect.stringContaining("within 5 years"),
      offset: 8,
    });
    // A fifth Friday in March-May exists every year.
    expect(checkCron("0 8 * 3-5 5#5", ROME)).toBeUndefined();
  });
});

describe("checkCron: rule.cron-too-frequent", () => {
  it("rejects more than one minute per hour, pointing at the minute field", () => {
    expect(checkCron("*/15 8 * * *", ROME)).toEqual({
      code: "rule.cron-too-frequent",
      message: 'fires up to 4 times an hour (minute field "*/15"); a schedule may fire at most hourly',
      hint: "use a single minute, e.g. `0 8 * * 1-5` (08:00 Monday to Friday)",
      offset: 0,
    });
    expect(checkCron("0,30 * * * *", ROME)?.code).toBe("rule.cron-too-frequent");
    expect(checkCron("@minutely", ROME)?.code).toBe("rule.cron-too-frequent");
  });

  it("rejects several seconds per minute in a 6-field expression", () => {
    expect(checkCron("*/10 0 8 * * *", ROME)).toMatchObject({
      code: "rule.cron-too-frequent",
      message: expect.stringContaining('second field "*/10"'),
      offset: 0,
    });
    expect(checkCron("0 */10 8 * * *", ROME)).toMatchObject({ code: "rule.cron-too-frequent", offset: 2 });
  });

  it("allows hourly, and many hours with one minute", () => {
    expect(checkCron("0 * * * *", ROME)).toBeUndefined();
    expect(checkCron("15 8-18 * * 1-5", ROME)).toBeUndefined();
  });
});

describe("cronFires", () => {
  it("includes a fire exactly at `from` and gives each fire its predecessor", () => {
    const [first] = cronFires("0 7 * * 1", ROME, new Date("2027-01-04T06:00:00Z"));
    expect(first.instant.toISOString()).toBe("2027-01-04T06:00:00.000Z");
    expect(first.previous?.toISOString()).toBe("2026-12-28T06:00:00.000Z");
  });

  it("fires a daily time skipped by DST at the transition, where cron-parser fires an hour late", () => {
    expect(firstFires("30 2 * * *", ROME, "2027-03-27T00:00:00Z", 3)).toEqual([
      "2027-03-27T01:30:00.000Z",
      "2027-03-28T01:00:00.000Z", // 03:00 CEST, cron-parser alone says 03:30 CEST
      "2027-03-29T00:30:00.000Z",
    ]);
  });

  it("fires a skipped time once when a real fire follows in the same hour", () => {
    expect(firstFires("30 2,3 * * *", ROME, "2027-03-28T00:00:00Z", 3)).toEqual([
      "2027-03-28T01:00:00.000Z", // 02:30 → 03:00 CEST
      "2027-03-28T01:30:00.000Z", // 03:30 CEST
      "2027-03-29T00:30:00.000Z",
    ]);
  });

  it("fires an hourly schedule once in the repeated hour, where cron-parser fires twice", () => {
    expect(firstFires("0 * * * *", ROME, "2027-10-30T23:00:00Z", 4)).toEqual([
      "2027-10-30T23:00:00.000Z", // 01:00 CEST
      "2027-10-31T00:00:00.000Z", // 02:00 CEST; 02:00 CET (01:00Z) is dropped
      "2027-10-31T02:00:00.000Z", // 03:00 CET
      "2027-10-31T03:00:00.000Z",
    ]);
  });

  it("fires a time skipped by a half-hour jump, which cron-parser skips entirely", () => {
    // Lord Howe Island 2027-10-03: 02:00 +10:30 jumps to 02:30 +11:00 at 15:30Z the day before.
    expect(firstFires("0 2 * * *", "Australia/Lord_Howe", "2027-10-01T12:00:00Z", 3)).toEqual([
      "2027-10-01T15:30:00.000Z",
      "2027-10-02T15:30:00.000Z",
      "2027-10-03T15:00:00.000Z",
    ]);
  });
});
