import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { isAbsolute, join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";

// `npm start` as a newcomer runs it (after the build `pretest` does), piped as under CI: no dashboard.
const ROOT = join(import.meta.dirname, "..");
const CLI = join(ROOT, "dist", "cli", "main.js");

describe("npm start (scripts/demo.mjs) without a terminal", () => {
  it("showcases a detection report with real counts, keeps its state where it says, and writes no ANSI escapes", () => {
    const dir = mkdtempSync(join(tmpdir(), "cwsync-demo-test-"));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const stateDir = join(dir, "state");
    const env = { ...process.env, CI: "1", CWSYNC_DEMO_STATE_DIR: stateDir, NO_COLOR: "" };
    const r = spawnSync(process.execPath, [join(ROOT, "scripts", "demo.mjs")], { cwd: ROOT, env, encoding: "utf8", timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).not.toContain("\u001b[");

    // the showcased report: its ticket body, up to the next heading
    const section = r.stdout.split("\n== a detection report ticket: ")[1]?.split("\n== ")[0] ?? "";
    const body = section.split("\n").filter((l) => l.startsWith("  │"));
    expect(body.length).toBeGreaterThan(5);
    expect(body.join("\n")).not.toContain("Data incomplete");
    const total = body.find((l) => /^ {2}│ total\s/.test(l));
    expect(Number(total?.trim().split(/\s+/).at(-1))).toBeGreaterThan(0);
    expect(section).toMatch(/\d+ detection reports sent, [1-9]\d* with every event counted/);

    // the state directory it names is still there and readable
    const named = /The state is kept in (\S+)\/ \(state\.db/.exec(r.stdout)?.[1];
    expect(named).toBeDefined();
    const kept = isAbsolute(named!) ? named! : join(ROOT, named!);
    expect(kept).toBe(stateDir);
    expect(existsSync(join(kept, "state.db"))).toBe(true);
    const status = spawnSync(process.execPath, [CLI, "status"], { cwd: ROOT, env: { ...process.env, CWSYNC_STATE_DIR: kept }, encoding: "utf8" });
    expect(status.status).toBe(0);
    expect(status.stdout).toMatch(/^acme-corp\s+\w+/m);
  }, 120_000);
});
