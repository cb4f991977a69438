import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { tempRepo } from "./helpers/git-repo.ts";

const hasTmux = spawnSync("tmux", ["-V"]).status === 0;
const CLI = join(import.meta.dirname, "..", "dist", "cli", "main.js");
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `cwsync run` in a real terminal (a tmux pane), driven by key presses as a person would. */
describe.skipIf(!hasTmux)("cwsync run with its dashboard in a terminal (tmux)", () => {
  it("shows the customers, moves the selection, opens a detail, goes back and quits with exit 0", async () => {
    const repo = tempRepo();
    const dir = mkdtempSync(join(tmpdir(), "cwsync-tui-"));
    const session = `cwsync-${process.pid}-${Date.now()}`;
    const tmux = (...args: string[]) => execFileSync("tmux", ["-L", session, ...args], { encoding: "utf8" });
    onTestFinished(() => {
      spawnSync("tmux", ["-L", session, "kill-server"]);
      rmSync(dir, { recursive: true, force: true });
    });
    const exitFile = join(dir, "exit");
    const command = `CWSYNC_STATE_DIR=${dir}/state node ${CLI} run --sandbox --interval 1h --listen 127.0.0.1:0; echo $? > ${exitFile}; sleep 60`;
    tmux("new-session", "-d", "-s", "t", "-x", "160", "-y", "40", "-c", repo.dir, "env", "-u", "CI", "-u", "CONTINUOUS_INTEGRATION", "sh", "-c", command);
    const screen = () => tmux("capture-pane", "-p", "-t", "t");
    const until = async (what: (s: string) => boolean, label: string) => {
      for (let i = 0; i < 300; i++) {
        const s = screen();
        if (what(s)) return s;
        await wait(200);
      }
      throw new Error(`the terminal never showed ${label}:\n${screen()}`);
    };

    const table = await until((s) => s.includes("CUSTOMER") && s.includes("sakura-trading"), "the customer table");
    expect(table).toMatch(/^› acme-corp +ready/m);
    expect(table).toMatch(/^ {2}fabrikam-retail +degraded/m);
    expect(table).toContain("q quit");

    tmux("send-keys", "-t", "t", "j");
    await until((s) => /^› bluewater-dental/m.test(s), "the selection on the second customer");
    tmux("send-keys", "-t", "t", "Enter");
    const detail = await until((s) => s.includes("bluewater-dental (customers/bluewater-dental.yaml)"), "the detail view");
    expect(detail).toContain("company     BluewaterDental: found (Bluewater Dental Group, #251)");
    tmux("send-keys", "-t", "t", "Escape");
    await until((s) => s.includes("CUSTOMER") && /^› bluewater-dental/m.test(s), "the table again");

    tmux("send-keys", "-t", "t", "q");
    for (let i = 0; i < 150 && !existsSync(exitFile); i++) await wait(200);
    expect(readFileSync(exitFile, "utf8").trim()).toBe("0");
    // the JSON log went to a file, not over the dashboard
    expect(readFileSync(join(dir, "state", "cwsync.log"), "utf8")).toContain('"msg":"daemon started"');
  }, 120_000);
});
