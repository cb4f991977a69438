import { describe, expect, it } from "vitest";
import {
  daysInMonth,
  describeDstAdjustment,
  dstGapsBetween,
  formatLocal,
  isoWeek,
  isValidTimeZone,
  localParts,
  zonedToUtc,
} from "./zoned-time.ts";

const utc = (iso: string): Date => new Date(iso);

describe("localParts", () => {
  it("gives the wall clock and ISO weekday in the zone, not in UTC", () => {
    // 23:30Z on Sunday 2027-01-03 is already Monday 00:30 in Rome.
    expect(localParts(utc("2027-01-03T23:30:00Z"), "Europe/Rome")).toEqual({
      year: 2027, month: 1, day: 4, hour: 0, minute: 30, second: 0, weekday: 1,
    });
    expect(localParts(utc("2027-01-03T23:30:00Z"), "America/New_York")).toMatchObject({
      day: 3, hour: 18, weekday: 7,
    });
  });

  it("reports midnight as hour 0, not 24", () => {
    expect(localParts(utc("2027-06-30T22:00:00Z"), "Europe/Rome")).toMatchObject({ month: 7, day: 1, hour: 0 });
  });
});

describe("zonedToUtc", () => {
  it("converts an ordinary local time with the offset in force that day", () => {
    expect(zonedToUtc({ year: 2027, month: 1, day: 15, hour: 8, minute: 0 }, "Europe/Rome")).toEqual({
      instant: utc("2027-01-15T07:00:00Z"),
    });
    expect(zonedToUtc({ year: 2027, month: 7, day: 15, hour: 8, minute: 0 }, "Europe/Rome")).toEqual({
      instant: utc("2027-07-15T06:00:00Z"),
    });
  });

  it("maps a time inside the spring-forward gap to the transition instant", () => {
    // Rome 2027-03-28: 02:00 CET jumps to 03:00 CEST at 01:00Z.
    expect(zonedToUtc({ year: 2027, month: 3, day: 28, hour: 2, minute: 30 }, "Europe/Rome")).toEqual({
      instant: utc("2027-03-28T01:00:00Z"),
      adjusted: "gap",
    });
    // New York 2027-03-14: 02:00 EST jumps to 03:00 EDT at 07:00Z.
    expect(zonedToUtc({ year: 2027, month: 3, day: 14, hour: 2, minute: 30 }, "America/New_York")).toEqual({
      instant: utc("2027-03-14T07:00:00Z"),
      adjusted: "gap",
    });
  });

  it("maps a time that occurs twice to the earlier instant", () => {
    // Rome 2027-10-31: 02:30 happens at 00:30Z (CEST) and again at 01:30Z (CET).
    expect(zonedToUtc({ year: 2027, month: 10, day: 31, hour: 2, minute: 30 }, "Europe/Rome")).toEqual({
      instant: utc("2027-10-31T00:30:00Z"),
      adjusted: "overlap",
    });
    // New York 2027-11-07: 01:30 EDT (05:30Z) and 01:30 EST (06:30Z).
    expect(zonedToUtc({ year: 2027, month: 11, day: 7, hour: 1, minute: 30 }, "America/New_York")).toEqual({
      instant: utc("2027-11-07T05:30:00Z"),
      adjusted: "overlap",
    });
  });

  it("treats the first minute after the gap as an ordinary time", () => {
    expect(zonedToUtc({ year: 2027, month: 3, day: 28, hour: 3, minute: 0 }, "Europe/Rome")).toEqual({
      instant: utc("2027-03-28T01:00:00Z"),
    });
  });

  it("handles a zone whose clocks skip midnight (America/Havana)", () => {
    expect(zonedToUtc({ year: 2027, month: 3, day: 14, hour: 0, minute: 0 }, "America/Havana")).toEqual({
      instant: utc("2027-03-14T05:00:00Z"),
      adjusted: "gap",
    });
  });
});

describe("dstGapsBetween", () => {
  it("finds the spring-forward jump and its skipped wall times", () => {
    const gaps = dstGapsBetween(utc("2027-01-01T00:00:00Z"), utc("2027-12-31T00:00:00Z"), "Europe/Rome");
    expect(gaps).toEqual([
      {
        at: utc("2027-03-28T01:00:00Z"),
        skippedFrom: { year: 2027, month: 3, day: 28, hour: 2, minute: 0, second: 0 },
        skippedTo: { year: 2027, month: 3, day: 28, hour: 3, minute: 0, second: 0 },
      },
    ]);
  });

  it("finds nothing in a zone without DST", () => {
    expect(dstGapsBetween(utc("2027-01-01T00:00:00Z"), utc("2028-01-01T00:00:00Z"), "Asia/Tokyo")).toEqual([]);
  });
});

describe("formatLocal", () => {
  it("uses the zone's abbreviation where Intl has one", () => {
    expect(formatLocal(utc("2027-03-28T01:00:00Z"), "Europe/Rome")).toBe("2027-03-28 03:00 CEST");
    expect(formatLocal(utc("2027-01-04T06:00:00Z"), "Europe/Rome")).toBe("2027-01-04 07:00 CET");
    expect(formatLocal(utc("2027-11-07T05:30:00Z"), "America/New_York")).toBe("2027-11-07 01:30 EDT");
    expect(formatLocal(utc("2027-11-07T06:30:00Z"), "America/New_York")).toBe("2027-11-07 01:30 EST");
    expect(formatLocal(utc("2027-01-04T06:00:00Z"), "UTC")).toBe("2027-01-04 06:00 UTC");
  });

  it("falls back to a UTC offset when Intl only knows GMT+x", () => {
    expect(formatLocal(utc("2027-01-04T06:00:00Z"), "Asia/Kolkata")).toBe("2027-01-04 11:30 UTC+05:30");
    expect(formatLocal(utc("2027-01-04T06:00:00Z"), "America/Sao_Paulo")).toBe("2027-01-04 03:00 UTC-03:00");
  });
});

describe("describeDstAdjustment", () => {
  it("says which time was skipped and when the send happens instead", () => {
    const local = { year: 2027, month: 3, day: 28, hour: 2, minute: 30 };
    expect(describeDstAdjustment(local, zonedToUtc(local, "Europe/Rome"), "Europe/Rome")).toBe(
      "02:30 does not exist on 2027-03-28 (DST skips 02:00–03:00), sent at 03:00 CEST",
    );
  });

  it("says a repeated time is sent once, at the first occurrence", () => {
    const local = { year: 2027, month: 11, day: 7, hour: 1, minute: 30 };
    expect(describeDstAdjustment(local, zonedToUtc(local, "America/New_York"), "America/New_York")).toBe(
      "01:30 occurs twice on 2027-11-07 (DST ends), sent once, at the first (01:30 EDT)",
    );
  });

  it("says nothing for an ordinary time", () => {
    const local = { year: 2027, month: 3, day: 29, hour: 2, minute: 30 };
    expect(describeDstAdjustment(local, zonedToUtc(local, "Europe/Rome"), "Europe/Rome")).toBeUndefined();
  });
});

describe("isValidTimeZone", () => {
  it("accepts IANA names and rejects others", () => {
    expect(isValidTimeZone("Europe/Rome")).toBe(true);
    expect(isValidTimeZone("UTC")).toBe(true);
    expect(isValidTimeZone("Europe/Atlantis")).toBe(false);
    expect(isValidTimeZone("CEST+2")).toBe(false);
    expect(isValidTimeZone("")).toBe(false);
  });
});

describe("daysInMonth", () => {
  it("knows leap years and 30-day months", () => {
    expect(daysInMonth(2027, 2)).toBe(28);
    expect(daysInMonth(2028, 2)).toBe(29);
    expect(daysInMonth(2100, 2)).toBe(28);
    expect(daysInMonth(2000, 2)).toBe(29);
    expect([4, 6, 9, 11].map((m) => daysInMonth(2027, m))).toEqual([30, 30, 30, 30]);
    expect(daysInMonth(2027, 12)).toBe(31);
  });
});

describe("isoWeek", () => {
  it("puts the last days of December into week 53 or into week 1 of the next year", () => {
    expect(isoWeek(2026, 12, 28)).toEqual({ isoYear: 2026, week: 53 });
    expect(isoWeek(2027, 1, 3)).toEqual({ isoYear: 2026, week: 53 });
    expect(isoWeek(2027, 1, 4)).toEqual({ isoYear: 2027, week: 1 });
    // 2024-12-30 is the Monday of 2025-W01.
    expect(isoWeek(2024, 12, 30)).toEqual({ isoYear: 2025, week: 1 });
    expect(isoWeek(2024, 12, 29)).toEqual({ isoYear: 2024, week: 52 });
  });
});
