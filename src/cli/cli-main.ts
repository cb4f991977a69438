import { ApiError, ConfigError, ExitError, InternalError } from "../errors.ts";
import { LeaseLostError } from "../ports/state-store.ts";
import { createDeps } from "../app/deps.ts";
import type { CommandIO } from "../app/io.ts";
import type { Clock } from "../ports/clock.ts";
import { runProgram } from "./program.ts";

/**
 * Builds the dependencies once (the composition root) and runs the command on them; the only place
 * that turns errors into exit codes. `main.ts` runs it once the runtime is known to fit; tests pass
 * their own environment and, to pass time without sleeping, a clock.
 */
export async function main(argv: readonly string[], io: CommandIO & { clock?: Clock }): Promise<number> {
  try {
    return await runProgram(argv, createDeps(io));
  } catch (e) {
    if (e instanceof ExitError) {
      if (e.message) io.stderr(`cwsync: ${e.message}\n`);
      return e.code;
    }
    if (e instanceof ApiError) {
      io.stderr(`cwsync: ${e.message}\n`);
      return 1;
    }
    if (e instanceof ConfigError || e instanceof LeaseLostError) {
      io.stderr(`cwsync: ${e.message}\n`);
      return 1;
    }
    const detail = e instanceof InternalError || e instanceof Error ? (e.stack ?? e.message) : String(e);
    io.stderr(`cwsync: internal error — please report it with this output:\n${detail}\n`);
    return 70;
  }
}
