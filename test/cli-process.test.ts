import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { systemClock } from "../src/adapters/clock-system.ts";
import { LmpiClient } from "../src/adapters/lmpi/lmpi-client.ts";
import { lmpiCredentials } from "../src/app/settings/lmpi-env.ts";
import { runCli } from "./helpers/run-cli.ts";

// The built CLI as users run it (npm test builds first: see `pretest`).
const ROOT = join(import.meta.dirname, "..");
const BIN = join(ROOT, "dist/cli/main.js");

function run(args: string[], cwd = ROOT) {
  const r = spawnSync(BIN, args, { cwd, encoding: "utf8", env: { ...process.env, GITHUB_ACTIONS: "" } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("the cwsync executable", () => {
  it("runs through its shebang and validates the example customers", () => {
    const r = run(["validate"]);
    expect(r.stdout).toBe("✔ 9 files valid\n");
    expect(r.code).toBe(0);
  });

  it("prints help with every command and the exit codes", () => {
    const r = run(["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/validate \[options\] \[paths\.\.\.\]/);
    expect(r.stdout).toMatch(/plan \[options\]/);
    expect(r.stdout).toContain("64 usage");
  });

  it("describes --no-tui and the sandbox's four fakes as they behave", () => {
    const run_ = run(["run", "--help"]).stdout.replace(/\s+/g, " ");
    expect(run_).toContain("--no-tui no dashboard even on a terminal: JSON logs on stderr");
    expect(run_).not.toContain("headless");
    const sandbox = run(["sandbox", "--help"]).stdout.replace(/\s+/g, " ");
    expect(sandbox).toContain("fakes of ConnectWise, LMPI, Trend Micro Email Security and Hosted Email Security");
    expect(sandbox).toContain("the fake LMPI, TMES and HES take the next three");
  });

  it("a large folder gives the same diagnostics from the executable as in-process", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cwsync-large-"));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    cpSync(join(ROOT, "customers"), join(dir, "customers"), { recursive: true });
    const template = readFileSync(join(ROOT, "customers/acme-corp.yaml"), "utf8");
    for (let i = 0; i < 2400; i++) {
      const name = `large-${String(i).padStart(4, "0")}`;
      let text = template.replaceAll("acme-corp", name).replace("AcmeCorp", `Large${i}`);
      if (i % 600 === 7) text = text.replace("dayOfMonth: 31", "dayOfMonth: 0"); // an error in each slice
      if (i === 2399) text = text.replace(`Large${i}`, "Large8"); // a cross-file rule across slices
      writeFileSync(join(dir, "customers", `${name}.yaml`), text);
    }
    const child = spawnSync(BIN, ["validate", "--format", "json"], { cwd: dir, encoding: "utf8" });
    const inProcess = await runCli(["validate", "--format", "json"], { cwd: dir });
    expect(child.status).toBe(1);
    expect(JSON.parse(child.stdout)).toEqual(JSON.parse(inProcess.stdout));
    const codes = (JSON.parse(child.stdout) as { code: string }[]).map((d) => d.code);
    expect(codes.filter((c) => c === "schema.minimum")).toHaveLength(4);
    expect(codes.filter((c) => c === "rule.duplicate-company")).toHaveLength(2);
  });

  it("is installed as `cwsync` by the package's bin entry", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
    expect(pkg.bin).toEqual({ cwsync: "dist/cli/main.js" });
    expect(readFileSync(BIN, "utf8").split("\n")[0]).toBe("#!/usr/bin/env node");
  });
});

describe("cwsync sandbox", () => {
  it("serves the fake ConnectWise and LMPI on loopback, prints the CW_* and LMPI_* variables, and stops on SIGTERM with exit 0", async () => {
    const { spawn } = await import("node:child_process");
    const child = spawn(BIN, ["sandbox"], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    await new Promise<void>((resolve, reject) => {
      child.stdout.on("data", (b: Buffer) => {
        out += b.toString();
        if (out.includes("Press Ctrl-C")) resolve();
      });
      child.once("exit", (code) => reject(new Error(`exited ${code} early: ${out}`)));
    });
    const url = /export CW_URL=(\S+)/.exec(out)![1];
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v4_6_release\/apis\/3\.0$/);
    const env = Object.fromEntries([...out.matchAll(/(CW_\w+)=(\S+)/g)].map((m) => [m[1], m[2]]));
    const auth = Buffer.from(`${env.CW_COMPANY}+${env.CW_PUBLIC_KEY}:${env.CW_PRIVATE_KEY}`).toString("base64");
    const res = await fetch(`${url}/company/companies?conditions=identifier%3D%22AcmeCorp%22`, { headers: { authorization: `Basic ${auth}`, clientid: env.CW_CLIENT_ID } });
    expect((await res.json()).map((c: { name: string }) => c.name)).toEqual(["Acme Corporation"]);

    expect(out).toMatch(/^cwsync sandbox: fake Licensing Management Platform at http:\/\/127\.0\.0\.1:\d+$/m);
    const lmpiEnv = Object.fromEntries([...out.matchAll(/(LMPI_\w+)=(\S+)/g)].map((m) => [m[1], m[2]]));
    expect(Object.keys(lmpiEnv)).toEqual(["LMPI_URL", "LMPI_ACCESS_TOKEN", "LMPI_SECRET_KEY"]);
    // what a user exports is exactly what cwsync reads: the variables pass its checks and sign a request the fake accepts
    const license = new LmpiClient(lmpiCredentials(lmpiEnv), { clock: systemClock, realNow: systemClock.now });
    const now = new Date();
    const rows = await license.summary(now.getUTCFullYear(), now.getUTCMonth() + 1);
    expect(rows.filter((r) => r.customerName === "Acme Corporation").map((r) => r.productName).sort()).toEqual([
      "Trend Micro Email Security Advanced",
      "Worry-Free Business Security Services",
    ]);
    const exit = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
    child.kill("SIGTERM");
    expect(await exit).toBe(0);
  });

  it("refuses to listen beyond loopback", () => {
    const r = run(["sandbox", "--listen", "0.0.0.0:0"]);
    expect(r.code).toBe(64);
    expect(r.stderr).toContain("loopback only");
  });
});
