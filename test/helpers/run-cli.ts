import { main } from "../../src/cli/cli-main.ts";
import type { Clock } from "../../src/ports/clock.ts";

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real CLI in-process (argv as a user types it after `cwsync`), on the system clock or the one given. */
export async function runCli(argv: string[], opts: { cwd: string; env?: Record<string, string | undefined>; clock?: Clock }): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  const code = await main(argv, {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    env: opts.env ?? {},
    cwd: opts.cwd,
    ...(opts.clock ? { clock: opts.clock } : {}),
  });
  return { code, stdout, stderr };
}
