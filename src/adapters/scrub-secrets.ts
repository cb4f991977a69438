/**
 * Cuts secret values out of text a remote service sent back (an error body echoing our
 * Authorization header, a proxy page quoting the request): each secret as is, URL-encoded, and
 * inside any Basic-auth value built from it. Every adapter scrubs with this before an error
 * message can reach output, state or logs.
 */
export function scrubSecrets(text: string, secrets: readonly (string | undefined)[], basicPairs: readonly string[] = []): string {
  const values = new Set<string>();
  for (const s of secrets) {
    if (!s || s.length < 4) continue;
    values.add(s);
    values.add(encodeURIComponent(s));
  }
  // `user:password` pairs as they travel in `Authorization: Basic …`
  for (const pair of basicPairs) {
    if (pair.length < 4) continue;
    const b64 = Buffer.from(pair).toString("base64");
    values.add(b64);
    values.add(b64.replace(/=+$/, ""));
    values.add(pair);
  }
  let out = text;
  // longest first, so a secret that contains another is cut whole
  for (const v of [...values].sort((a, b) => b.length - a.length)) if (v.length >= 4) out = out.split(v).join("[redacted]");
  return out;
}
