import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { UsageError } from "../../errors.ts";
import { sandboxCommand } from "./sandbox.ts";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));

/** A port that was free a moment ago, with the one after it also free. */
async function freePortPair(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, "127.0.0.1", () => {
        const { port } = s.address() as { port: number };
        s.close(() => resolve(port));
      });
    });
    if (port >= 65535) continue;
    const nextFree = await new Promise<boolean>((resolve) => {
      const s = createServer().once("error", () => resolve(false)).listen(port + 1, "127.0.0.1", () => s.close(() => resolve(true)));
    });
    if (nextFree) return port;
  }
}

describe("sandboxCommand", () => {
  it("with a fixed --listen, the fake LMPI takes the next port and both stop when asked", async () => {
    const port = await freePortPair();
    let out = "";
    let stop!: () => void;
    const stopped = new Promise<void>((resolve) => (stop = resolve));
    const running = sandboxCommand({ listen: `127.0.0.1:${port}`, repo: ROOT }, { stdout: (t) => void (out += t), stderr: () => undefined, env: {}, cwd: ROOT }, stopped);
    await expect.poll(() => out).toContain("Press Ctrl-C");
    expect(out).toContain(`export CW_URL=http://127.0.0.1:${port}/v4_6_release/apis/3.0 `);
    expect(out).toContain(`export LMPI_URL=http://127.0.0.1:${port + 1} LMPI_ACCESS_TOKEN=`);
    stop();
    expect(await running).toBe(0);
    await expect(fetch(`http://127.0.0.1:${port + 1}/`)).rejects.toThrow();
  });

  it("refuses the last port, which leaves none for the fake LMPI", async () => {
    await expect(sandboxCommand({ listen: "127.0.0.1:65535", repo: ROOT }, { stdout: () => undefined, stderr: () => undefined, env: {}, cwd: ROOT })).rejects.toThrow(UsageError);
  });
});
