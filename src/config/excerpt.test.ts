import { describe, expect, it } from "vitest";
import { excerpt, withExcerpts } from "./excerpt.ts";

describe("excerpt", () => {
  it("keeps a short one-line value, cuts a long one and keeps only the first line of several", () => {
    expect(excerpt("acme-corp")).toBe("acme-corp");
    expect(excerpt("x".repeat(500))).toBe(`${"x".repeat(80)}…`);
    expect(excerpt("PATH=/bin\nCW_PRIVATE_KEY=secret")).toBe("PATH=/bin…");
  });

  it("cuts every quoted value of a diagnostic, message and hint", () => {
    const d = withExcerpts({ message: "found `first\nsecond`", hint: `quote it: \`${"y".repeat(200)}\`` });
    expect(d.message).toBe("found `first…`");
    expect(d.hint).toBe(`quote it: \`${"y".repeat(80)}…\``);
  });
});
