import { describe, expect, it } from "vitest";
import { ExitError, UsageError } from "../../errors.ts";
import { sandboxFaultsFromEnv } from "./sandbox-faults-env.ts";

const VALID = ["cw-html200", "lmpi-used-null", "echo-auth"];

describe("sandboxFaultsFromEnv", () => {
  it("absent or empty: no faults", () => {
    expect(sandboxFaultsFromEnv({}, VALID)).toEqual([]);
    expect(sandboxFaultsFromEnv({ CWSYNC_SANDBOX_FAULTS: " , " }, VALID)).toEqual([]);
  });

  it("comma-separated names, trimmed, each once, then the --fault flags", () => {
    expect(sandboxFaultsFromEnv({ CWSYNC_SANDBOX_FAULTS: " lmpi-used-null,cw-html200 ,lmpi-used-null" }, VALID, ["echo-auth", "cw-html200"]))
      .toEqual(["lmpi-used-null", "cw-html200", "echo-auth"]);
  });

  it("an unknown name is a usage error naming it, where it came from, and the valid names", () => {
    for (const [env, flags, where] of [[{ CWSYNC_SANDBOX_FAULTS: "cw-html200,cw-htm200" }, [], "CWSYNC_SANDBOX_FAULTS"], [{}, ["cw-htm200"], "--fault"]] as const) {
      let error: unknown;
      try {
        sandboxFaultsFromEnv(env, VALID, flags);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(UsageError);
      expect((error as ExitError).code).toBe(64);
      expect((error as Error).message).toContain(`${where}: unknown sandbox fault \`cw-htm200\``);
      expect((error as Error).message).toContain("cw-html200, lmpi-used-null, echo-auth");
    }
  });
});
