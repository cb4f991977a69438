#!/usr/bin/env node
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ApiError, ConfigError, ExitError, InternalError } from "../errors.ts";
import { LeaseLostError } from "../ports/state-store.ts";
import { processIO, type CommandIO } from "./io.ts";
import { runProgram } from "./program.ts";

/** The composition root: the only place that turns errors into exit codes. */
export async function main(argv: readonly string[], io: CommandIO): Promise<number> {
  try {
    return await runProgram(argv, io);
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

const invokedDirectly = (): boolean => {
  try {
    return realpathSync(process.argv[1] ?? "") === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
};

if (invokedDirectly()) {
  // the dashboard's React: the production build unless asked otherwise (the development one re-checks every prop)
  process.env.NODE_ENV ??= "production";
  main(process.argv.slice(2), processIO()).then((code) => {
    process.exitCode = code;
  });
}
