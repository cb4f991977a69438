import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { tempRepo } from "./helpers/git-repo.ts";

const hasTmux = spawnSync("tmux", ["-V"]).status === 0;
const ROOT = join(import.meta.dirname, "..");
const CLI = join(ROOT, "dist", "cli", "main.js");
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** How long one wait for the screen or the exit may take: sized for a loaded machine. */
const POLL_MS = 30_000;

/** A tmux pane of `columns`×`rows` running `command` (CI unset, so the dashboard shows); removed when the test ends. */
function terminal(columns: number, rows: number, cwd: string, command: string) {
  const dir = mkdtempSync(join(tmpdir(), "cwsync-tui-"));
  const session = `cwsync-${process.pid}-${Date.now()}`;
  const tmux = (...args: string[]) => execFileSync("tmux", ["-L", session, ...args], { encoding: "utf8" });
  onTestFinished(() => {
    spawnSync("tmux", ["-L", session, "kill-server"]);
    rmSync(dir, { recursive: true, force: true });
  });
  const exitFile = join(dir, "exit");
  const script = command.replaceAll("$DIR", dir);
  tmux("new-session", "-d", "-s", "t", "-x", String(columns), "-y", String(rows), "-c", cwd, "env", "-u", "CI", "-u", "CONTINUOUS_INTEGRATION", "sh", "-c", `${script}; echo $? > ${exitFile}; sleep 60`);
  // -J joins lines the terminal wrapped, so a long path reads as one
  const screen = () => tmux("capture-pane", "-p", "-J", "-t", "t");
  return {
    dir,
    screen,
    keys: (...keys: string[]) => void tmux("send-keys", "-t", "t", ...keys),
    /** Polls the screen every 200 ms, up to `timeoutMs` (sized for a loaded machine). */
    async until(what: (s: string) => boolean, label: string, timeoutMs = POLL_MS): Promise<string> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const s = screen();
        if (what(s)) return s;
        if (Date.now() > deadline) throw new Error(`the terminal never showed ${label} within ${timeoutMs / 1000} s:\n${s}`);
        await wait(200);
      }
    },
    async exitCode(timeoutMs = POLL_MS): Promise<string> {
      const deadline = Date.now() + timeoutMs;
      while (!existsSync(exitFile)) {
        if (Date.now() > deadline) throw new Error(`the command did not exit within ${timeoutMs / 1000} s:\n${screen()}`);
        await wait(200);
      }
      return readFileSync(exitFile, "utf8").trim();
    },
  };
}

/** `cwsync run` in a real terminal (a tmux pane), driven by key presses as a person would. */
describe.skipIf(!hasTmux)("cwsync run with its dashboard in a terminal (tmux)", () => {
  it("shows the customers, moves the selection, opens a detail, goes back and quits with exit 0", async () => {
    const repo = tempRepo();
    const t = terminal(160, 40, repo.dir, `CWSYNC_STATE_DIR=$DIR/state node ${CLI} run --sandbox --interval 1h --listen 127.0.0.1:0`);

    const table = await t.until((s) => s.includes("CUSTOMER") && s.includes("sakura-trading"), "the customer table");
    expect(table).toMatch(/^› acme-corp +ready/m);
    expect(table).toMatch(/^ {2}fabrikam-retail +degraded/m);
    expect(table).toContain("q quit");

    t.keys("j");
    await t.until((s) => /^› bluewater-dental/m.test(s), "the selection on the second customer");
    t.keys("Enter");
    const detail = await t.until((s) => s.includes("bluewater-dental (customers/bluewater-dental.yaml)"), "the detail view");
    expect(detail).toContain("company     BluewaterDental: found (Bluewater Dental Group, #251)");
    t.keys("Escape");
    await t.until((s) => s.includes("CUSTOMER") && /^› bluewater-dental/m.test(s), "the table again");

    t.keys("q");
    expect(await t.exitCode()).toBe("0");
    // the JSON log went to a file, not over the dashboard
    expect(readFileSync(join(t.dir, "state", "cwsync.log"), "utf8")).toContain('"msg":"daemon started"');
  }, 120_000);

  it("npm start on an 80×24 terminal: a readable dashboard, every result of a send of all reports, and a log that is still there", async () => {
    const t = terminal(80, 24, ROOT, `CWSYNC_DEMO_STATE_DIR=$DIR/state node scripts/demo.mjs`);
    const table = await t.until((s) => s.includes("LAST ERROR") && s.includes("sakura-trading"), "the dashboard");
    const lines = table.trimEnd().split("\n");
    expect(lines.at(-1)).toContain("q quit");
    expect(table).toMatch(/^ {2}fabrikam-retail +degraded +\S+ \d\d-\d\d \d\d:\d\dZ +agreement\.ambiguous: .*…$/m);

    // acme-corp (selected) has three reports; Tab past each to "all reports"
    t.keys("s");
    await t.until((s) => /Send \w+ for acme-corp now\?/.test(s), "the send prompt");
    // one key per write: keys batched into one read are a known, separate problem
    for (let i = 0; i < 3; i++) {
      const before = t.screen();
      t.keys("Tab");
      await t.until((s) => s !== before, "the next report in the prompt");
    }
    await t.until((s) => s.includes("Send all reports for acme-corp now?"), "the prompt for all reports");
    t.keys("y");
    const sent = await t.until((s) => /^ {2}emailSecurity /m.test(s), "the result of each send");
    expect(sent).toMatch(/^send all reports for acme-corp:$/m);
    expect(sent).toMatch(/^ {2}billing \d{4}-\d\d: sent, ticket #\d+/m);
    expect(sent).toMatch(/^ {2}hostedEmailSecurity \S+: sent, ticket #\d+/m);
    expect(sent).toMatch(/^ {2}emailSecurity \S+: sent, ticket #\d+/m);

    t.keys("q");
    expect(await t.exitCode()).toBe("0");
    const end = t.screen();
    const log = /the log is in (\S+)/.exec(end)?.[1];
    expect(log, end).toBe(join(t.dir, "state", "cwsync.log"));
    expect(readFileSync(log!, "utf8")).toContain('"msg":"send-now finished"');
    expect(end).toContain(`The state is kept in ${join(t.dir, "state")}/ (state.db; the daemon's log: ${log})`);
  }, 120_000);
});
