import { describe, expect, it } from "vitest";
import type { Diagnostic } from "../config/diagnostic.ts";
import { annotation, formatAnnotations } from "./annotations.ts";

const diag = (over: Partial<Diagnostic> = {}): Diagnostic => ({
  severity: "error",
  code: "schema.required",
  file: "customers/acme.yaml",
  line: 8,
  col: 5,
  path: "/connectwise",
  message: "missing companyId",
  ...over,
});

const linesOf = (out: string) => out.split("\n").filter((l) => l !== "");

describe("annotation", () => {
  it("writes the location properties GitHub reads, with hint after the message", () => {
    expect(annotation(diag({ endLine: 8, endCol: 9, hint: "add `companyId: AcmeCorp`" }))).toBe(
      "::error file=customers/acme.yaml,line=8,col=5,endLine=8,endColumn=9,title=schema.required::missing companyId — add `companyId: AcmeCorp`",
    );
  });

  it("leaves out unknown positions", () => {
    expect(annotation(diag({ line: undefined, col: undefined, severity: "warning" }))).toBe(
      "::warning file=customers/acme.yaml,title=schema.required::missing companyId",
    );
  });

  it("escapes %, CR and LF in the message, and also : and , in file and title", () => {
    const out = annotation(
      diag({ file: "customers/a:b,c%.yaml", code: "rule.x:y,z", message: "100% sure\r\nsecond line: a, b" }),
    );
    expect(out).toBe(
      "::error file=customers/a%3Ab%2Cc%25.yaml,line=8,col=5,title=rule.x%3Ay%2Cz::100%25 sure%0D%0Asecond line: a, b",
    );
    expect(out.split("\n")).toHaveLength(1);
  });
});

describe("formatAnnotations", () => {
  it("annotates at most 10 errors, lists all 25 in a group, and says how many were cut", () => {
    const diags = Array.from({ length: 25 }, (_, i) => diag({ line: i + 1, message: `problem ${i + 1}` }));
    const lines = linesOf(formatAnnotations(diags));
    expect(lines.filter((l) => l.startsWith("::error "))).toHaveLength(10);
    expect(lines).toContain("::group::All 25 diagnostics");
    const group = lines.slice(lines.indexOf("::group::All 25 diagnostics") + 1, lines.indexOf("::endgroup::"));
    expect(group).toHaveLength(25);
    expect(group[24]).toBe("customers/acme.yaml:25:5 error schema.required problem 25");
    const notices = lines.filter((l) => l.startsWith("::notice::"));
    expect(notices).toHaveLength(1);
    expect(notices[0]).toContain("15 more errors");
    expect(notices[0]).toContain("job summary");
  });

  it("counts warnings separately from errors", () => {
    const diags = [
      ...Array.from({ length: 12 }, (_, i) => diag({ severity: "warning", line: i + 1 })),
      ...Array.from({ length: 3 }, (_, i) => diag({ line: 100 + i })),
    ];
    const lines = linesOf(formatAnnotations(diags));
    expect(lines.filter((l) => l.startsWith("::warning "))).toHaveLength(10);
    expect(lines.filter((l) => l.startsWith("::error "))).toHaveLength(3);
    const notice = lines.find((l) => l.startsWith("::notice::"));
    expect(notice).toContain("2 more warnings");
    expect(notice).not.toMatch(/more errors?/);
  });

  it("adds no notice when nothing was cut, and prints nothing for no diagnostics", () => {
    const lines = linesOf(formatAnnotations([diag(), diag({ severity: "warning" })]));
    expect(lines.some((l) => l.startsWith("::notice::"))).toBe(false);
    expect(formatAnnotations([])).toBe("");
  });

  it("honours a custom limit", () => {
    const lines = linesOf(formatAnnotations([diag(), diag(), diag()], 1));
    expect(lines.filter((l) => l.startsWith("::error "))).toHaveLength(1);
    expect(lines.find((l) => l.startsWith("::notice::"))).toContain("2 more errors");
  });

  it("keeps each listed diagnostic on one log line", () => {
    const lines = linesOf(formatAnnotations([diag({ message: "first\nsecond", hint: "quote it" })]));
    const group = lines.slice(lines.indexOf("::group::All 1 diagnostic") + 1, lines.indexOf("::endgroup::"));
    expect(group).toEqual(["customers/acme.yaml:8:5 error schema.required first ⏎ second — quote it"]);
  });
});
