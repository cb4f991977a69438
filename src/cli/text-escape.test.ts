import { describe, expect, it } from "vitest";
import { escapeControls } from "./text-escape.ts";

describe("escapeControls", () => {
  it("shows line breaks, C0 and C1 controls, DEL and bidirectional controls as escapes", () => {
    expect(escapeControls("a\nb\r\tc")).toBe("a\\nb\\r\\tc");
    expect(escapeControls("invoice\u202efdp.yaml")).toBe("invoice\\u202efdp.yaml");
    expect(escapeControls("\u0000\u001b[31m\u007f\u0085\u009b")).toBe("\\u0000\\u001b[31m\\u007f\\u0085\\u009b");
    expect(escapeControls("\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069\u2028\u2029")).toBe(
      "\\u200e\\u200f\\u061c\\u202a\\u202b\\u202c\\u202d\\u2066\\u2067\\u2068\\u2069\\u2028\\u2029",
    );
  });

  it("leaves everything else as it is, and is idempotent", () => {
    const s = "Café Zürich — 東京 ✔ ü \\n";
    expect(escapeControls(s)).toBe(s);
    expect(escapeControls(escapeControls("a\n\u202eb"))).toBe("a\\n\\u202eb");
  });
});
