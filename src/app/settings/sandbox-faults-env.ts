import { UsageError } from "../../errors.ts";

export const SANDBOX_FAULTS_VAR = "CWSYNC_SANDBOX_FAULTS";

const names = (values: readonly string[]) => values.map((n) => n.trim()).filter((n) => n !== "");

/**
 * The fault presets `CWSYNC_SANDBOX_FAULTS` names (comma-separated; empty or absent: none), then
 * `flags` (`cwsync sandbox --fault`), each once. `valid` is the catalogue's names, passed in so that
 * a production run never loads the fakes; an unknown name is a usage error that lists them.
 */
export function sandboxFaultsFromEnv(env: Readonly<Record<string, string | undefined>>, valid: readonly string[], flags: readonly string[] = []): string[] {
  const sources = [
    { where: SANDBOX_FAULTS_VAR, given: names((env[SANDBOX_FAULTS_VAR] ?? "").split(",")) },
    { where: "--fault", given: names(flags) },
  ];
  for (const { where, given } of sources) {
    const unknown = [...new Set(given.filter((n) => !valid.includes(n)))];
    if (unknown.length > 0) {
      throw new UsageError(
        `${where}: unknown sandbox fault ${unknown.map((n) => `\`${n}\``).join(", ")}; the faults are ${valid.join(", ")} (\`cwsync sandbox --fault list\` describes them)`,
      );
    }
  }
  return [...new Set(sources.flatMap((s) => s.given))];
}
