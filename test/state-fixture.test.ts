import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runCli } from "./helpers/run-cli.ts";

// A state directory written by cwsync 0.1.0 (better-sqlite3 12 on Node 20): two sandbox reconciles
// of this repository's customers/ at 2026-11-03T12:00Z and 2026-12-04T12:00Z. status.json and
// history-acme-corp.json are what that release printed for it.
const FIXTURE = resolve(import.meta.dirname, "fixtures/state-0.1.0");
const ROOT = resolve(import.meta.dirname, "..");
const AT = "2026-12-04T12:00:00Z";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function stateCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), "cwsync-state-fixture-"));
  dirs.push(dir);
  cpSync(join(FIXTURE, "state.db"), join(dir, "state.db"));
  return dir;
}

describe("a state directory written by cwsync 0.1.0", () => {
  it("opens unchanged: status and history print what the release that wrote it printed", async () => {
    const env = { CWSYNC_STATE_DIR: stateCopy() };
    const status = await runCli(["status", "--at", AT, "--format", "json"], { cwd: ROOT, env });
    expect(status.stderr).toBe("");
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toEqual((await import(join(FIXTURE, "status.json"), { with: { type: "json" } })).default);

    const history = await runCli(["history", "acme-corp", "--format", "json"], { cwd: ROOT, env });
    expect(history.code).toBe(0);
    expect(JSON.parse(history.stdout)).toEqual((await import(join(FIXTURE, "history-acme-corp.json"), { with: { type: "json" } })).default);
  });

  it("goes on from it: a reconcile at the same instant sends nothing again, a later one sends what fell due since", async () => {
    const env = { CWSYNC_STATE_DIR: stateCopy() };
    const again = await runCli(["reconcile", "--sandbox", "--at", AT, "--format", "json"], { cwd: ROOT, env });
    expect(again.code, again.stderr).toBe(0);
    const sentAgain = JSON.parse(again.stdout).outcomes.filter((o: { result: string }) => o.result === "done");
    expect(sentAgain).toEqual([]);

    const next = await runCli(["reconcile", "--sandbox", "--at", "2026-12-05T12:00:00Z", "--format", "json"], { cwd: ROOT, env });
    expect(next.code, next.stderr).toBe(0);
    const sent = JSON.parse(next.stdout).outcomes.filter((o: { result: string }) => o.result === "done").map((o: { key: string }) => o.key);
    expect(sent.length).toBeGreaterThan(0);
    const history = await runCli(["history", "acme-corp", "--format", "json"], { cwd: ROOT, env });
    const keys = JSON.parse(history.stdout).sends.map((s: { key: string }) => s.key);
    expect(new Set(keys).size).toBe(keys.length);
  });
});

describe("the state store on this Node.js", () => {
  it("prints no experimental-feature warning: a user sees only cwsync's own output on stderr", () => {
    const env = { ...process.env, CWSYNC_STATE_DIR: stateCopy(), NODE_OPTIONS: "" };
    const r = spawnSync(process.execPath, [join(ROOT, "dist/cli/main.js"), "history", "acme-corp", "--limit", "1"], { cwd: ROOT, env, encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("cws-3e63449c2e");
  });
});
