import { resolve } from "node:path";
import { UsageError } from "../../errors.ts";
import type { CommandIO } from "../io.ts";

export function parseListen(value: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(value);
  if (!m || Number(m[2]) > 65535) throw new UsageError(`--listen: \`${value}\` is not host:port (e.g. 127.0.0.1:9464)`);
  return { host: m[1].replace(/^\[|\]$/g, ""), port: Number(m[2]) };
}

/** `cwsync sandbox`: the embedded fakes on loopback until SIGINT/SIGTERM, with the environment to point cwsync at them. */
export async function sandboxCommand(opts: { listen: string; repo: string }, io: CommandIO, stop?: Promise<void>): Promise<number> {
  const listen = parseListen(opts.listen);
  if (!["127.0.0.1", "localhost", "::1"].includes(listen.host)) throw new UsageError("the sandbox listens on loopback only (127.0.0.1 or ::1)");
  const { startConnectWiseSandbox } = await import("../../sandbox/connectwise-sandbox.ts");
  const { loadSandboxSeed } = await import("../../sandbox/seed.ts");
  const sandbox = await startConnectWiseSandbox({ listen, seed: loadSandboxSeed(resolve(io.cwd, opts.repo)) });
  const c = sandbox.credentials;
  io.stdout(
    [
      `cwsync sandbox: fake ConnectWise Manage at ${sandbox.url}`,
      "Point cwsync at it with (sandbox-only credentials):",
      `  export CW_URL=${sandbox.url} CW_COMPANY=${c.company} CW_PUBLIC_KEY=${c.publicKey} CW_PRIVATE_KEY=${c.privateKey} CW_CLIENT_ID=${c.clientId}`,
      "Press Ctrl-C to stop.",
      "",
    ].join("\n"),
  );
  await (stop ??
    new Promise<void>((done) => {
      process.once("SIGINT", () => done());
      process.once("SIGTERM", () => done());
    }));
  await sandbox.close();
  return 0;
}
