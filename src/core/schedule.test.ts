import { describe, expect, it } from "vitest";
import { nextSends, sendsBetween } from "./schedule.ts";
import type { ReportSchedule, ScheduleSpec, Send } from "./schedule.ts";

const ROME = "Europe/Rome";
const NEW_YORK = "America/New_York";

const utc = (iso: string): Date => new Date(iso);

function billing(dayOfMonth: number, timezone = ROME, at = "08:00"): ReportSchedule {
  return { report: "billing", timezone, at, spec: { kind: "monthly-day", dayOfMonth } };
}

function detections(every: "day" | "week" | "month", timezone = ROME, at = "07:00"): ReportSchedule {
  return { report: "emailSecurity", timezone, at, spec: { kind: "every", every } };
}

function custom(expression: string, timezone = ROME): ReportSchedule {
  const spec: ScheduleSpec = { kind: "cron", expression };
  return { report: "hostedEmailSecurity", timezone, at: "12:34", spec };
}

/** A send as plain strings, so a failure shows what a user would see. */
function view(s: Send): { due: string; key: string; period: string; note?: string } {
  return {
    due: s.due.toISOString(),
    key: s.periodKey,
    period: `${s.period.start.toISOString()} → ${s.period.end.toISOString()}`,
    ...(s.note === undefined ? {} : { note: s.note }),
  };
}

describe("billing: day X of every month", () => {
  it("falls back from day 31 to the last day of shorter months, and says so", () => {
    const sends = nextSends(billing(31), utc("2027-01-01T00:00:00Z"), 12);
    expect(sends.map((s) => [s.periodKey, s.due.toISOString(), s.note])).toEqual([
      ["2027-01", "2027-01-31T07:00:00.000Z", undefined],
      ["2027-02", "2027-02-28T07:00:00.000Z", "day 31 falls back to 28 (February 2027 has 28 days)"],
      ["2027-03", "2027-03-31T06:00:00.000Z", undefined],
      ["2027-04", "2027-04-30T06:00:00.000Z", "day 31 falls back to 30 (April 2027 has 30 days)"],
      ["2027-05", "2027-05-31T06:00:00.000Z", undefined],
      ["2027-06", "2027-06-30T06:00:00.000Z", "day 31 falls back to 30 (June 2027 has 30 days)"],
      ["2027-07", "2027-07-31T06:00:00.000Z", undefined],
      ["2027-08", "2027-08-31T06:00:00.000Z", undefined],
      ["2027-09", "2027-09-30T06:00:00.000Z", "day 31 falls back to 30 (September 2027 has 30 days)"],
      ["2027-10", "2027-10-31T07:00:00.000Z", undefined],
      ["2027-11", "2027-11-30T07:00:00.000Z", "day 31 falls back to 30 (November 2027 has 30 days)"],
      ["2027-12", "2027-12-31T07:00:00.000Z", undefined],
    ]);
  });

  it("sends day 31 on February 29 in leap year 2028", () => {
    const [feb] = nextSends(billing(31), utc("2028-02-01T00:00:00Z"), 1);
    expect(view(feb)).toMatchObject({
      due: "2028-02-29T07:00:00.000Z",
      key: "2028-02",
      note: "day 31 falls back to 29 (February 2028 has 29 days)",
    });
  });

  it("sends day 29 on February 28 in 2027 and on February 29 in 2028", () => {
    const [feb2027] = nextSends(billing(29), utc("2027-02-01T00:00:00Z"), 1);
    expect(view(feb2027)).toMatchObject({
      due: "2027-02-28T07:00:00.000Z",
      note: "day 29 falls back to 28 (February 2027 has 28 days)",
    });
    const [feb2028] = nextSends(billing(29), utc("2028-02-01T00:00:00Z"), 1);
    expect(view(feb2028)).toEqual({
      due: "2028-02-29T07:00:00.000Z",
      key: "2028-02",
      period: "2028-01-31T23:00:00.000Z → 2028-02-29T23:00:00.000Z",
    });
  });

  it("sends day 30 on the last day of February, then on the 30th again in March", () => {
    const sends = nextSends(billing(30), utc("2027-02-01T00:00:00Z"), 2);
    expect(sends.map((s) => [s.due.toISOString(), s.note])).toEqual([
      ["2027-02-28T07:00:00.000Z", "day 30 falls back to 28 (February 2027 has 28 days)"],
      ["2027-03-30T06:00:00.000Z", undefined],
    ]);
  });

  it("covers the local calendar month, from local midnight to local midnight", () => {
    const [march] = nextSends(billing(5), utc("2027-03-01T00:00:00Z"), 1);
    // March in Rome starts at CET midnight (23:00Z) and ends at CEST midnight (22:00Z).
    expect(march.period).toEqual({ start: utc("2027-02-28T23:00:00Z"), end: utc("2027-03-31T22:00:00Z") });
    const [newYork] = nextSends(billing(5, NEW_YORK), utc("2027-03-01T00:00:00Z"), 1);
    expect(newYork.period).toEqual({ start: utc("2027-03-01T05:00:00Z"), end: utc("2027-04-01T04:00:00Z") });
  });

  it("sends a billing time skipped by DST at the transition (Rome, 02:30 on 2027-03-28)", () => {
    const [send] = nextSends(billing(28, ROME, "02:30"), utc("2027-03-01T00:00:00Z"), 1);
    expect(view(send)).toEqual({
      due: "2027-03-28T01:00:00.000Z",
      key: "2027-03",
      period: "2027-02-28T23:00:00.000Z → 2027-03-31T22:00:00.000Z",
      note: "02:30 does not exist on 2027-03-28 (DST skips 02:00–03:00), sent at 03:00 CEST",
    });
  });

  it("sends a billing time skipped by DST at the transition (New York, 02:30 on 2027-03-14)", () => {
    const [send] = nextSends(billing(14, NEW_YORK, "02:30"), utc("2027-03-01T00:00:00Z"), 1);
    expect(send.due).toEqual(utc("2027-03-14T07:00:00Z"));
    expect(send.note).toBe("02:30 does not exist on 2027-03-14 (DST skips 02:00–03:00), sent at 03:00 EDT");
  });

  it("sends a repeated billing time once, at the first occurrence (New York, 01:30 on 2027-11-07)", () => {
    const sends = sendsBetween(billing(7, NEW_YORK, "01:30"), utc("2027-11-01T00:00:00Z"), utc("2027-12-01T00:00:00Z"));
    expect(sends.map(view)).toEqual([
      {
        due: "2027-11-07T05:30:00.000Z",
        key: "2027-11",
        period: "2027-11-01T04:00:00.000Z → 2027-12-01T05:00:00.000Z",
        note: "01:30 occurs twice on 2027-11-07 (DST ends), sent once, at the first (01:30 EDT)",
      },
    ]);
  });

  it("sends every missed billing month once, oldest first, after three months of downtime", () => {
    // Last run on 2027-01-20; the daemon comes back on 2027-04-20 at 12:00 Rome time.
    const missed = sendsBetween(billing(5), utc("2027-01-20T00:00:00Z"), utc("2027-04-20T10:00:00Z"));
    expect(missed.map((s) => [s.periodKey, s.due.toISOString()])).toEqual([
      ["2027-02", "2027-02-05T07:00:00.000Z"],
      ["2027-03", "2027-03-05T07:00:00.000Z"],
      ["2027-04", "2027-04-05T06:00:00.000Z"],
    ]);
  });
});

describe("every day", () => {
  it("reports yesterday, keyed by yesterday's date, across the year end", () => {
    const sends = nextSends(detections("day"), utc("2026-12-31T00:00:00Z"), 2);
    expect(sends.map(view)).toEqual([
      {
        due: "2026-12-31T06:00:00.000Z",
        key: "2026-12-30",
        period: "2026-12-29T23:00:00.000Z → 2026-12-30T23:00:00.000Z",
      },
      {
        due: "2027-01-01T06:00:00.000Z",
        key: "2026-12-31",
        period: "2026-12-30T23:00:00.000Z → 2026-12-31T23:00:00.000Z",
      },
    ]);
  });

  it("fires a time in the gap at the transition, and the short day's period is 23 hours", () => {
    const sends = nextSends(detections("day", ROME, "02:30"), utc("2027-03-27T00:00:00Z"), 3);
    expect(sends.map(view)).toEqual([
      { due: "2027-03-27T01:30:00.000Z", key: "2027-03-26", period: "2027-03-25T23:00:00.000Z → 2027-03-26T23:00:00.000Z" },
      {
        due: "2027-03-28T01:00:00.000Z",
        key: "2027-03-27",
        period: "2027-03-26T23:00:00.000Z → 2027-03-27T23:00:00.000Z",
        note: "02:30 does not exist on 2027-03-28 (DST skips 02:00–03:00), sent at 03:00 CEST",
      },
      { due: "2027-03-29T00:30:00.000Z", key: "2027-03-28", period: "2027-03-27T23:00:00.000Z → 2027-03-28T22:00:00.000Z" },
    ]);
  });

  it("fires once in the repeated hour (Rome 02:30 on 2027-10-31)", () => {
    const sends = sendsBetween(detections("day", ROME, "02:30"), utc("2027-10-30T12:00:00Z"), utc("2027-11-01T12:00:00Z"));
    expect(sends.map((s) => s.due.toISOString())).toEqual(["2027-10-31T00:30:00.000Z", "2027-11-01T01:30:00.000Z"]);
    // The fall-back day lasts 25 hours.
    expect(sends[1].period).toEqual({ start: utc("2027-10-30T22:00:00Z"), end: utc("2027-10-31T23:00:00Z") });
  });

  it("fires New York's gap and repeated times once each", () => {
    const spring = sendsBetween(detections("day", NEW_YORK, "02:30"), utc("2027-03-14T00:00:00Z"), utc("2027-03-15T00:00:00Z"));
    expect(spring.map((s) => s.due.toISOString())).toEqual(["2027-03-14T07:00:00.000Z"]);
    const fall = sendsBetween(detections("day", NEW_YORK, "01:30"), utc("2027-11-07T00:00:00Z"), utc("2027-11-08T00:00:00Z"));
    expect(fall.map((s) => s.due.toISOString())).toEqual(["2027-11-07T05:30:00.000Z"]);
  });
});

describe("every week", () => {
  it("sends on Mondays for the previous ISO week, through week 53 and into week 1", () => {
    const sends = nextSends(detections("week"), utc("2026-12-21T06:00:00.001Z"), 3);
    expect(sends.map(view)).toEqual([
      { due: "2026-12-28T06:00:00.000Z", key: "2026-W52", period: "2026-12-20T23:00:00.000Z → 2026-12-27T23:00:00.000Z" },
      { due: "2027-01-04T06:00:00.000Z", key: "2026-W53", period: "2026-12-27T23:00:00.000Z → 2027-01-03T23:00:00.000Z" },
      { due: "2027-01-11T06:00:00.000Z", key: "2027-W01", period: "2027-01-03T23:00:00.000Z → 2027-01-10T23:00:00.000Z" },
    ]);
  });

  it("keys a week 1 that starts in the previous calendar year by its ISO year", () => {
    // 2025-W01 runs from Monday 2024-12-30; its report goes out on Monday 2025-01-06.
    const [send] = nextSends(detections("week"), utc("2024-12-31T12:00:00Z"), 1);
    expect(view(send)).toEqual({
      due: "2025-01-06T06:00:00.000Z",
      key: "2025-W01",
      period: "2024-12-29T23:00:00.000Z → 2025-01-05T23:00:00.000Z",
    });
  });

  it("covers 167 hours in the week DST starts", () => {
    const [send] = nextSends(detections("week"), utc("2027-03-29T00:00:00Z"), 1);
    expect(send.periodKey).toBe("2027-W12");
    expect(send.period.end.getTime() - send.period.start.getTime()).toBe(167 * 3_600_000);
  });
});

describe("every month", () => {
  it("sends on the 1st for last month; January's send covers December of last year", () => {
    const [january] = nextSends(detections("month"), utc("2027-01-01T00:00:00Z"), 1);
    expect(view(january)).toEqual({
      due: "2027-01-01T06:00:00.000Z",
      key: "2026-12",
      period: "2026-11-30T23:00:00.000Z → 2026-12-31T23:00:00.000Z",
    });
  });

  it("sends once a month, oldest first", () => {
    const sends = sendsBetween(detections("month"), utc("2027-01-01T00:00:00Z"), utc("2027-04-01T00:00:00Z"));
    expect(sends.map((s) => s.periodKey)).toEqual(["2026-12", "2027-01", "2027-02"]);
  });
});

describe("custom cron schedule", () => {
  it("fires in the customer's zone and keys each period by the fire instant in UTC", () => {
    const sends = nextSends(custom("0 7 * * 1"), utc("2026-12-29T00:00:00Z"), 2);
    expect(sends.map(view)).toEqual([
      { due: "2027-01-04T06:00:00.000Z", key: "2027-01-04T06:00Z", period: "2026-12-28T06:00:00.000Z → 2027-01-04T06:00:00.000Z" },
      { due: "2027-01-11T06:00:00.000Z", key: "2027-01-11T06:00Z", period: "2027-01-04T06:00:00.000Z → 2027-01-11T06:00:00.000Z" },
    ]);
  });

  it("keeps 07:00 local across DST in New York, so the UTC key moves", () => {
    const sends = sendsBetween(custom("0 7 * * *", NEW_YORK), utc("2027-03-13T00:00:00Z"), utc("2027-03-15T00:00:00Z"));
    expect(sends.map((s) => s.periodKey)).toEqual(["2027-03-13T12:00Z", "2027-03-14T11:00Z"]);
    // The day the clocks jump has 23 hours between fires.
    expect(sends[1].period.start).toEqual(utc("2027-03-13T12:00:00Z"));
  });

  it("fires 02:30 on Rome's spring-forward day at the transition, with a note", () => {
    const sends = sendsBetween(custom("30 2 * * *"), utc("2027-03-27T12:00:00Z"), utc("2027-03-29T12:00:00Z"));
    expect(sends.map(view)).toEqual([
      {
        due: "2027-03-28T01:00:00.000Z",
        key: "2027-03-28T01:00Z",
        period: "2027-03-27T01:30:00.000Z → 2027-03-28T01:00:00.000Z",
        note: "02:30 does not exist on 2027-03-28 (DST skips 02:00–03:00), sent at 03:00 CEST",
      },
      { due: "2027-03-29T00:30:00.000Z", key: "2027-03-29T00:30Z", period: "2027-03-28T01:00:00.000Z → 2027-03-29T00:30:00.000Z" },
    ]);
  });

  it("fires 02:30 on New York's spring-forward day at 03:00 EDT", () => {
    const [send] = nextSends(custom("30 2 * * *", NEW_YORK), utc("2027-03-14T00:00:00Z"), 1);
    expect(send.due).toEqual(utc("2027-03-14T07:00:00Z"));
    expect(send.note).toContain("sent at 03:00 EDT");
  });

  it("fires a repeated time once, at the first occurrence (Rome 02:30, New York 01:30)", () => {
    const rome = sendsBetween(custom("30 2 * * *"), utc("2027-10-30T12:00:00Z"), utc("2027-10-31T12:00:00Z"));
    expect(rome.map((s) => s.periodKey)).toEqual(["2027-10-31T00:30Z"]);
    const newYork = sendsBetween(custom("30 1 * * *", NEW_YORK), utc("2027-11-06T12:00:00Z"), utc("2027-11-07T12:00:00Z"));
    expect(newYork.map((s) => s.periodKey)).toEqual(["2027-11-07T05:30Z"]);
    expect(newYork[0].note).toBe("01:30 occurs twice on 2027-11-07 (DST ends), sent once, at the first (01:30 EDT)");
  });

  it("fires an hourly schedule once in New York's repeated hour, so that period lasts two hours", () => {
    const sends = sendsBetween(custom("30 * * * *", NEW_YORK), utc("2027-11-07T05:00:00Z"), utc("2027-11-07T08:00:00Z"));
    expect(sends.map((s) => s.periodKey)).toEqual(["2027-11-07T05:30Z", "2027-11-07T07:30Z"]);
    expect(sends[1].period).toEqual({ start: utc("2027-11-07T05:30:00Z"), end: utc("2027-11-07T07:30:00Z") });
  });

  it("ignores `at`", () => {
    const [send] = nextSends(custom("0 9 1 * *"), utc("2027-01-01T00:00:00Z"), 1);
    expect(send.due).toEqual(utc("2027-01-01T08:00:00Z"));
  });
});

describe("nextSends and sendsBetween", () => {
  it("returns exactly `count` sends, and none for count 0", () => {
    expect(nextSends(detections("day"), utc("2027-01-01T00:00:00Z"), 5)).toHaveLength(5);
    expect(nextSends(custom("0 7 * * *"), utc("2027-01-01T00:00:00Z"), 5)).toHaveLength(5);
    expect(nextSends(detections("day"), utc("2027-01-01T00:00:00Z"), 0)).toEqual([]);
  });

  it("includes a send due exactly at `from` and excludes one a millisecond earlier", () => {
    const due = utc("2027-01-05T06:00:00Z");
    expect(nextSends(detections("day"), due, 1)[0].due).toEqual(due);
    expect(nextSends(detections("day"), new Date(due.getTime() + 1), 1)[0].due).toEqual(utc("2027-01-06T06:00:00Z"));
    expect(nextSends(custom("0 7 * * *"), due, 1)[0].due).toEqual(due);
    expect(nextSends(billing(5, ROME, "07:00"), due, 1)[0].due).toEqual(due);
  });

  it("treats `to` as exclusive and stops at `limit`", () => {
    const s = detections("day");
    expect(sendsBetween(s, utc("2027-01-05T06:00:00Z"), utc("2027-01-07T06:00:00Z")).map((x) => x.periodKey)).toEqual([
      "2027-01-04",
      "2027-01-05",
    ]);
    expect(sendsBetween(s, utc("2027-01-01T00:00:00Z"), utc("2028-01-01T00:00:00Z"), 10)).toHaveLength(10);
    expect(sendsBetween(s, utc("2027-01-01T00:00:00Z"), utc("2028-01-01T00:00:00Z"))).toHaveLength(365);
  });

  it("rejects a malformed `at`, which validation should have caught", () => {
    expect(() => nextSends(detections("day", ROME, "7:00"), utc("2027-01-01T00:00:00Z"), 1)).toThrow(/HH:MM/);
  });
});
