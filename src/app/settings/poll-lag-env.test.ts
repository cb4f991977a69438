import { describe, expect, it } from "vitest";
import { UsageError } from "../../errors.ts";
import { pollLagMsFromEnv } from "./poll-lag-env.ts";

describe("CWSYNC_POLL_LAG", () => {
  it("is a duration in s, m or h; 0 turns it off; unset leaves the 10-minute default", () => {
    expect(pollLagMsFromEnv({})).toBeUndefined();
    expect(pollLagMsFromEnv({ CWSYNC_POLL_LAG: " " })).toBeUndefined();
    expect(pollLagMsFromEnv({ CWSYNC_POLL_LAG: "0" })).toBe(0);
    expect(pollLagMsFromEnv({ CWSYNC_POLL_LAG: "90s" })).toBe(90_000);
    expect(pollLagMsFromEnv({ CWSYNC_POLL_LAG: "15m" })).toBe(900_000);
    expect(pollLagMsFromEnv({ CWSYNC_POLL_LAG: "3h" })).toBe(10_800_000);
  });

  it("refuses anything else with a usage error that shows the form", () => {
    for (const bad of ["10", "-5m", "1.5h", "25h", "ten minutes"]) {
      expect(() => pollLagMsFromEnv({ CWSYNC_POLL_LAG: bad }), bad).toThrow(UsageError);
    }
    expect(() => pollLagMsFromEnv({ CWSYNC_POLL_LAG: "10" })).toThrow("CWSYNC_POLL_LAG: `10` is not a duration such as 90s, 10m or 1h (0 turns it off; at most 24h; default 10m)");
  });
});
