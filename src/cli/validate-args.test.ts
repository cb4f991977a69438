import { describe, expect, it } from "vitest";
import type { Deps } from "../app/deps.ts";
import { buildProgram } from "./program.ts";
import { plainValidateOptions } from "./validate-args.ts";

/** What commander hands the `validate` action for these arguments (after `validate`), or "rejected". */
async function commanderReads(args: string[], githubActions: boolean): Promise<unknown> {
  const io = { stdout: () => {}, stderr: () => {}, settings: { githubActions } } as unknown as Deps;
  const program = buildProgram(io, () => {});
  let read: unknown = "no action";
  program.commands.find((c) => c.name() === "validate")!.action((paths: string[], opts: { format: string; strict: boolean }) => {
    read = { paths, format: opts.format, strict: opts.strict };
  });
  try {
    await program.parseAsync(["validate", ...args], { from: "user" });
  } catch {
    return "rejected";
  }
  return read;
}

const PLAIN = [
  [],
  ["customers"],
  ["a.yaml", "b", "customers/"],
  ["--format", "json"],
  ["--format=github", "customers"],
  ["customers", "--strict", "--format", "text", "more"],
  ["--strict", "x", "--format=json"],
  [""],
];

// not read here (commander reads them, or says what is wrong): help, `--`, dashes, unknown or repeated options, bad formats
const OTHERS = [
  ["--help"], ["-h"], ["--", "-x"], ["-"], ["--format"], ["--format", "xml"], ["--format=yaml"], ["--format", "--strict"],
  ["--strict", "--strict"], ["--format", "json", "--format", "text"], ["--strct"], ["--strict=true"], ["-V"], ["--no-strict"],
];

describe("plainValidateOptions: `cwsync validate` without commander", () => {
  it("reads the plain forms exactly as commander does, with and without GitHub Actions' default format", async () => {
    for (const githubActions of [false, true]) {
      for (const args of PLAIN) {
        const plain = plainValidateOptions(args, githubActions);
        expect(plain, args.join(" ")).toBeDefined();
        expect(plain, args.join(" ")).toEqual(await commanderReads(args, githubActions));
      }
    }
  });

  it("leaves everything else to commander", () => {
    for (const args of OTHERS) expect(plainValidateOptions(args, false), args.join(" ")).toBeUndefined();
  });
});
