import { main } from "../../src/cli/cli-main.ts";

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real CLI in-process (argv as a user types it after `cwsync`). */
export async function runCli(argv: string[], opts: { cwd: string; env?: Record<string, string | undefined> }): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  const code = await main(argv, {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    env: opts.env ?? {},
    cwd: opts.cwd,
  });
  return { code, stdout, stderr };
}
