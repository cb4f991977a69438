import { describe, expect, it } from "vitest";
import { isValidTimeZone } from "../core/zoned-time.ts";
import { zoneVerdict } from "./notification-rules.ts";

describe("time zone verdicts", () => {
  it("every zone Intl lists, and UTC, is valid and spelled as DateTimeFormat resolves it (the shortcut that skips DateTimeFormat)", () => {
    const wrong: string[] = [];
    for (const tz of [...Intl.supportedValuesOf("timeZone"), "UTC"]) {
      const resolved = new Intl.DateTimeFormat("en-US", { timeZone: tz }).resolvedOptions().timeZone;
      const caseOnly = resolved !== tz && resolved.toLowerCase() === tz.toLowerCase();
      if (!isValidTimeZone(tz) || caseOnly) wrong.push(`${tz} → ${resolved}`);
      expect(zoneVerdict(tz)).toEqual({ ok: true });
    }
    expect(wrong).toEqual([]);
  });

  it("other names are asked of DateTimeFormat: aliases, other cases, and names that are not zones", () => {
    expect(zoneVerdict("europe/rome")).toEqual({ ok: true, fixed: "Europe/Rome" });
    expect(zoneVerdict("Europe/Roma")).toEqual({ ok: false, fixed: undefined });
    expect(zoneVerdict("")).toEqual({ ok: false, fixed: undefined });
    expect(zoneVerdict("US/Eastern").ok).toBe(isValidTimeZone("US/Eastern"));
  });
});
