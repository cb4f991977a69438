import { resolve } from "node:path";
import { UsageError } from "../../errors.ts";
import type { Deps } from "../../app/deps.ts";
import { sandboxFaultsFromEnv } from "../../app/settings/sandbox-faults-env.ts";
import { parseListen } from "../listen-flag.ts";


/** `cwsync sandbox`: the embedded fakes on loopback until SIGINT/SIGTERM, with the environment to point cwsync at them. */
export async function sandboxCommand(opts: { listen: string; repo: string; fault?: readonly string[] }, io: Deps, stop?: Promise<void>): Promise<number> {
  const { FAULT_PRESETS, FAULT_PRESET_NAMES } = await import("../../sandbox/fault-presets.ts");
  if (opts.fault?.includes("list")) {
    const width = Math.max(...FAULT_PRESETS.map((p) => p.name.length));
    io.stdout(FAULT_PRESETS.map((p) => `${p.name.padEnd(width)}  ${p.description}\n${" ".repeat(width)}  → ${p.expect}\n`).join(""));
    return 0;
  }
  const faults = sandboxFaultsFromEnv(io.settings.env, FAULT_PRESET_NAMES, opts.fault);
  const listen = parseListen(opts.listen);
  if (!["127.0.0.1", "localhost", "::1"].includes(listen.host)) throw new UsageError("the sandbox listens on loopback only (127.0.0.1 or ::1)");
  // the fake LMPI, TMES and HES take the next three ports, so a fixed --listen gives fixed addresses
  if (listen.port > 65532) throw new UsageError("--listen: the fake LMPI, TMES and HES listen on the next three ports; choose a port below 65533");
  const { startSandboxes } = await import("../../sandbox/start-sandboxes.ts");
  const sandboxes = await startSandboxes(resolve(io.cwd, opts.repo), { lmpi: true, detections: ["tmes", "hes"], listen, faults });
  const { connectwise } = sandboxes;
  const lmpi = sandboxes.lmpi!;
  const tmes = sandboxes.tmes!;
  const hes = sandboxes.hes!;
  const c = connectwise.credentials;
  const l = lmpi.credentials;
  io.stdout(
    [
      `cwsync sandbox: fake ConnectWise Manage at ${connectwise.url}`,
      `cwsync sandbox: fake Licensing Management Platform at ${lmpi.url}`,
      `cwsync sandbox: fake Trend Micro Email Security at ${tmes.url}`,
      `cwsync sandbox: fake Hosted Email Security at ${hes.url}`,
      ...(faults.length > 0 ? [`cwsync sandbox: faults on: ${faults.join(", ")}`] : []),
      "Point cwsync at them with (sandbox-only credentials):",
      `  export CW_URL=${connectwise.url} CW_COMPANY=${c.company} CW_PUBLIC_KEY=${c.publicKey} CW_PRIVATE_KEY=${c.privateKey} CW_CLIENT_ID=${c.clientId}`,
      `  export LMPI_URL=${lmpi.url} LMPI_ACCESS_TOKEN=${l.accessToken} LMPI_SECRET_KEY=${l.secretKey}`,
      `  export TMES_URL=${tmes.url} TMES_ACCOUNT=${tmes.credentials.account} TMES_API_KEY=${tmes.credentials.apiKey}`,
      `  export HES_URL=${hes.url} HES_ACCOUNT=${hes.credentials.account} HES_API_KEY=${hes.credentials.apiKey}`,
      "Press Ctrl-C to stop.",
      "",
    ].join("\n"),
  );
  await (stop ??
    new Promise<void>((done) => {
      process.once("SIGINT", () => done());
      process.once("SIGTERM", () => done());
    }));
  await sandboxes.close();
  return 0;
}
