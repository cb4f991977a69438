const SECRET_ENV = [
  "CW_PUBLIC_KEY", "CW_PRIVATE_KEY", "LMPI_SECRET_KEY", "LMPI_ACCESS_TOKEN", "TMES_API_KEY", "HES_API_KEY",
  "CWSYNC_WEBHOOK_SECRET", "CWSYNC_API_TOKEN",
] as const;

/**
 * Every secret value the environment holds, for the scrubber: the keys and tokens themselves and
 * the Basic credentials built from them (ConnectWise `company+public:private`, TMES/HES
 * `account:apiKey`), as the adapters send them (trimmed).
 */
export function secretsFromEnv(env: Readonly<Record<string, string | undefined>>): string[] {
  const v = (k: string) => env[k]?.trim() || undefined;
  const out: string[] = [];
  for (const k of SECRET_ENV) {
    const raw = env[k];
    if (raw?.trim()) out.push(raw.trim());
  }
  const basic = (user: string | undefined, password: string | undefined) =>
    user && password ? out.push(Buffer.from(`${user}:${password}`, "utf8").toString("base64")) : 0;
  const company = v("CW_COMPANY");
  if (company && v("CW_PUBLIC_KEY")) basic(`${company}+${v("CW_PUBLIC_KEY")}`, v("CW_PRIVATE_KEY"));
  basic(v("TMES_ACCOUNT"), v("TMES_API_KEY"));
  basic(v("HES_ACCOUNT"), v("HES_API_KEY"));
  return [...new Set(out)];
}
