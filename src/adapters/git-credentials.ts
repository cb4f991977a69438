import { UsageError } from "../errors.ts";

/**
 * Environment variables passed to git when set, and only these: the ssh agent, a credential
 * prompt program and proxies. Every other variable (any ambient `GIT_*` among them) is left out.
 * Prefer a credential helper (`git config --global credential.helper …`, read from `HOME`) or
 * `GIT_ASKPASS` over credentials in the URL.
 */
export const GIT_PASSTHROUGH = ["SSH_AUTH_SOCK", "GIT_ASKPASS", "GIT_SSH_COMMAND", "GIT_SSL_CAINFO", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"] as const;

/** A URL (`scheme://…`) or scp-like `user@host:path`, as opposed to a path on this machine. */
export const isGitUrl = (s: string) => /^[a-z][a-z0-9+.-]*:\/\//i.test(s) || /^[^/\\]+@[^:]+:/.test(s);

/** An HTTP header git sends to one origin (`http.<scope>.extraHeader`). */
export interface GitHeader {
  scope: string;
  value: string;
}

/** The source without credentials, and the secrets taken out of it (for the log scrubber). */
export function splitCredentials(source: string): { url: string; header?: GitHeader; secrets: string[] } {
  if (!/^https?:\/\//i.test(source)) {
    if (/^[a-z][a-z0-9+.-]*:\/\/[^/@]*:[^/@]*@/i.test(source)) {
      throw new UsageError(`--repo: put no password in a ${source.split(":")[0]} URL; use an ssh agent (SSH_AUTH_SOCK) or a credential helper`);
    }
    return { url: source, secrets: [] };
  }
  const u = new URL(source);
  if (!u.username && !u.password) return { url: source, secrets: [] };
  const encoded = u.password;
  const user = decodeURIComponent(u.username);
  const pass = decodeURIComponent(u.password);
  u.username = "";
  u.password = "";
  const basic = Buffer.from(`${user}:${pass}`).toString("base64");
  // sent per call through the environment, scoped to this origin: never in .git/config, never in argv
  return { url: u.toString(), header: { scope: `${u.origin}/`, value: `Authorization: Basic ${basic}` }, secrets: [pass, encoded, basic, `${user}:${pass}`].filter((s) => s.length >= 4) };
}

/** Removes `user:pass@` from every URL in a text, and the given secret values. */
export function redactCredentials(text: string, secrets: readonly string[] = []): string {
  let out = text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/gi, "$1***@");
  for (const s of secrets) if (s) out = out.replaceAll(s, "***");
  return out;
}
