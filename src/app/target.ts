/** Which ConnectWise a state directory belongs to: the sandbox, or the API host and company. Never credentials. */
export function targetOf(sandbox: boolean, env: Readonly<Record<string, string | undefined>>): string {
  if (sandbox) return "the embedded sandbox";
  let host = env.CW_URL ?? "";
  try {
    host = new URL(host).host;
  } catch {
    // the sources session reports a bad CW_URL as a usage error
  }
  return `ConnectWise ${host} company ${env.CW_COMPANY?.trim() ?? ""}`;
}
