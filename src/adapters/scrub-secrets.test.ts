import { describe, expect, it } from "vitest";
import { scrubSecrets } from "./scrub-secrets.ts";

describe("scrubSecrets", () => {
  const pair = "msp+PUBKEY1234567890:PRIVKEY0987654321";
  const basic = Buffer.from(pair).toString("base64");

  it("cuts the secret values, their URL encodings and the Basic encoding of the pair", () => {
    const text = `auth Basic ${basic} for ${pair}; key=${encodeURIComponent("a/b+c=secret")} and PRIVKEY0987654321`;
    const out = scrubSecrets(text, ["PRIVKEY0987654321", "a/b+c=secret"], [pair]);
    for (const s of ["PRIVKEY0987654321", basic, pair, encodeURIComponent("a/b+c=secret")]) expect(out).not.toContain(s);
    expect(out).toBe("auth Basic [redacted] for [redacted]; key=[redacted] and [redacted]");
  });

  it("leaves text alone when no secret is in it, and ignores values too short to be secrets", () => {
    expect(scrubSecrets("nothing here", ["abc", undefined, ""], [])).toBe("nothing here");
  });
});
