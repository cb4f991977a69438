import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { UsageError } from "../../errors.ts";
import { createDeps } from "../../app/deps.ts";
import { sandboxCommand } from "./sandbox.ts";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));

const isFree = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = createServer().once("error", () => resolve(false)).listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
  });

/** A port that was free a moment ago, with the three after it (LMPI, TMES, HES) also free. */
async function freePortRun(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, "127.0.0.1", () => {
        const { port } = s.address() as { port: number };
        s.close(() => resolve(port));
      });
    });
    if (port > 65532) continue;
    if ((await Promise.all([1, 2, 3].map((i) => isFree(port + i)))).every(Boolean)) return port;
  }
}

describe("sandboxCommand", () => {
  it("with a fixed --listen, the fake LMPI, TMES and HES take the next ports, and all stop when asked", async () => {
    const port = await freePortRun();
    let out = "";
    let stop!: () => void;
    const stopped = new Promise<void>((resolve) => (stop = resolve));
    const running = sandboxCommand({ listen: `127.0.0.1:${port}`, repo: ROOT }, createDeps({ stdout: (t) => void (out += t), stderr: () => undefined, env: {}, cwd: ROOT }), stopped);
    await expect.poll(() => out, { timeout: 20_000, message: "the sandbox never printed its banner" }).toContain("Press Ctrl-C");
    expect(out).toContain(`export CW_URL=http://127.0.0.1:${port}/v4_6_release/apis/3.0 `);
    expect(out).toContain(`export LMPI_URL=http://127.0.0.1:${port + 1} LMPI_ACCESS_TOKEN=`);
    expect(out).toContain(`fake Trend Micro Email Security at http://127.0.0.1:${port + 2}\n`);
    expect(out).toContain(`fake Hosted Email Security at http://127.0.0.1:${port + 3}\n`);
    const tmes = /export TMES_URL=(\S+) TMES_ACCOUNT=(\S+) TMES_API_KEY=(\S+)\n/.exec(out);
    expect(tmes?.[1]).toBe(`http://127.0.0.1:${port + 2}`);
    expect(out).toMatch(new RegExp(`export HES_URL=http://127\\.0\\.0\\.1:${port + 3} HES_ACCOUNT=\\S+ HES_API_KEY=\\S+\n`));
    // the printed variables open the fake: an authenticated query is answered
    const auth = Buffer.from(`${tmes![2]}:${tmes![3]}`).toString("base64");
    const res = await fetch(`${tmes![1]}/api/v1/log/policyeventlog?domain=acme.example&event=spam`, { headers: { authorization: `Basic ${auth}` } });
    expect([200, 204]).toContain(res.status);
    await res.arrayBuffer();
    stop();
    expect(await running).toBe(0);
    for (const i of [1, 2, 3]) await expect(fetch(`http://127.0.0.1:${port + i}/`)).rejects.toThrow();
  });

  it("--fault list prints every preset with what the fake answers and what cwsync shows, and starts nothing", async () => {
    const { FAULT_PRESETS } = await import("../../sandbox/fault-presets.ts");
    let out = "";
    const code = await sandboxCommand({ listen: "127.0.0.1:1", repo: ROOT, fault: ["list"] }, createDeps({ stdout: (t) => void (out += t), stderr: () => undefined, env: {}, cwd: ROOT }));
    expect(code).toBe(0);
    for (const p of FAULT_PRESETS) {
      expect(out).toMatch(new RegExp(`^${p.name} +${p.description.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`, "m"));
      expect(out).toContain(`→ ${p.expect}\n`);
    }
    expect(out).not.toContain("fake ConnectWise");
  });

  it("with --fault and CWSYNC_SANDBOX_FAULTS, says which faults are on after the addresses, and the fakes answer so", async () => {
    let out = "";
    let stop!: () => void;
    const stopped = new Promise<void>((resolve) => (stop = resolve));
    const io = createDeps({ stdout: (t: string) => void (out += t), stderr: () => undefined, env: { CWSYNC_SANDBOX_FAULTS: "lmpi-html" }, cwd: ROOT });
    const running = sandboxCommand({ listen: "127.0.0.1:0", repo: ROOT, fault: ["tmes-html", "lmpi-html"] }, io, stopped);
    await expect.poll(() => out, { timeout: 20_000, message: "the sandbox never printed its banner" }).toContain("Press Ctrl-C");
    expect(out).toMatch(/fake Hosted Email Security at \S+\ncwsync sandbox: faults on: lmpi-html, tmes-html\nPoint cwsync/);
    const tmes = /export TMES_URL=(\S+) /.exec(out)![1];
    const res = await fetch(`${tmes}/api/v1/log/policyeventlog`);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    await res.arrayBuffer();
    stop();
    expect(await running).toBe(0);
  });

  it("without faults, no faults line; an unknown fault is a usage error listing the valid ones", async () => {
    let out = "";
    let stop!: () => void;
    const stopped = new Promise<void>((resolve) => (stop = resolve));
    const running = sandboxCommand({ listen: "127.0.0.1:0", repo: ROOT, fault: [] }, createDeps({ stdout: (t) => void (out += t), stderr: () => undefined, env: { CWSYNC_SANDBOX_FAULTS: "" }, cwd: ROOT }), stopped);
    await expect.poll(() => out, { timeout: 20_000, message: "the sandbox never printed its banner" }).toContain("Press Ctrl-C");
    expect(out).not.toContain("faults on");
    stop();
    await running;
    const io = createDeps({ stdout: () => undefined, stderr: () => undefined, env: {}, cwd: ROOT });
    await expect(sandboxCommand({ listen: "127.0.0.1:0", repo: ROOT, fault: ["cw-html2000"] }, io)).rejects.toThrow(/^--fault: unknown sandbox fault `cw-html2000`; the faults are cw-html200, cw-truncated-json, .*echo-auth/);
  });

  it("refuses the last three ports, which leave none for the fake LMPI, TMES and HES", async () => {
    for (const port of [65533, 65535]) {
      await expect(sandboxCommand({ listen: `127.0.0.1:${port}`, repo: ROOT }, createDeps({ stdout: () => undefined, stderr: () => undefined, env: {}, cwd: ROOT }))).rejects.toThrow(UsageError);
    }
  });
});
