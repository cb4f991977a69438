import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";

const ROOT = join(import.meta.dirname, "..");
const npm = process.platform === "win32" ? "npm.cmd" : "npm";

describe("the packed tool", () => {
  it("installs from `npm pack`'s tarball with `npm install -g` into a clean prefix, and runs", () => {
    const dir = mkdtempSync(join(tmpdir(), "cwsync-pack-"));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    // `npm test` has just built dist/; --ignore-scripts keeps pack from building it again
    const packed = JSON.parse(execFileSync(npm, ["pack", "--ignore-scripts", "--json", "--pack-destination", dir], { cwd: ROOT, encoding: "utf8" })) as {
      filename: string;
      files: { path: string }[];
    }[];
    const files = packed[0]!.files.map((f) => f.path);
    expect(files).toContain("dist/cli/main.js");
    expect(files).toContain("schemas/customer.schema.json");
    expect(files).toContain("LICENSE");
    expect(files.filter((f) => f.startsWith("src/") || f.startsWith("test/") || f.includes(".test."))).toEqual([]);

    const prefix = join(dir, "prefix");
    execFileSync(npm, ["install", "-g", "--prefix", prefix, "--no-audit", "--no-fund", "--loglevel", "error", join(dir, packed[0]!.filename)], {
      cwd: dir,
      encoding: "utf8",
      stdio: "pipe",
    });
    expect(readdirSync(join(prefix, "lib", "node_modules", "cwsync", "node_modules"))).not.toContain("node");

    // the installed bin, found on PATH with this test's Node first, as a user's shell would run it
    const env = { ...process.env, PATH: [join(prefix, "bin"), dirname(process.execPath), process.env.PATH].join(delimiter), GITHUB_ACTIONS: "" };
    const version = spawnSync("cwsync", ["--version"], { cwd: dir, env, encoding: "utf8" });
    expect(version.stdout).toBe(`${JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version}\n`);
    expect(version.status).toBe(0);
    const validate = spawnSync("cwsync", ["validate", join(ROOT, "customers")], { cwd: dir, env, encoding: "utf8" });
    expect(validate.stdout).toBe("✔ 9 files valid\n");
    expect(validate.status).toBe(0);
  }, 300_000);
});
