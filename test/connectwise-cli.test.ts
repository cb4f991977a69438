import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startConnectWiseSandbox, type ConnectWiseSandbox } from "../src/sandbox/connectwise-sandbox.ts";
import { loadSandboxSeed } from "../src/sandbox/seed.ts";
import { runCli } from "./helpers/run-cli.ts";

const ROOT = join(import.meta.dirname, "..");
const AT = "2026-11-25T00:00:00Z";

let sandbox: ConnectWiseSandbox | undefined;
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

async function sandboxEnv() {
  sandbox = await startConnectWiseSandbox({ seed: loadSandboxSeed(ROOT) });
  const c = sandbox.credentials;
  return { CW_URL: sandbox.url, CW_COMPANY: c.company, CW_PUBLIC_KEY: c.publicKey, CW_PRIVATE_KEY: c.privateKey, CW_CLIENT_ID: c.clientId };
}

describe("cwsync verify", () => {
  it("finds a customer's company (the Verify button) and exits 0", async () => {
    const r = await runCli(["verify", "acme-corp", "--sandbox"], { cwd: ROOT });
    expect(r.stdout).toMatch(/^✔ acme-corp \(company ID AcmeCorp\): found and active in the embedded sandbox/);
    expect(r.stdout).toMatch(/#\d+ “Acme Corporation” — status Active/);
    expect(r.code).toBe(0);
  });

  it("says why not: deleted, inactive, not found — exit 1", async () => {
    const deleted = await runCli(["verify", "--company", "OldTenant", "--sandbox"], { cwd: ROOT });
    expect(deleted.stdout).toContain("✖ company ID OldTenant: deleted in ConnectWise");
    expect(deleted.code).toBe(1);
    const inactive = await runCli(["verify", "--company", "DormantCo", "--sandbox"], { cwd: ROOT });
    expect(inactive.stdout).toContain("inactive in ConnectWise");
    expect(inactive.code).toBe(1);
    const missing = await runCli(["verify", "--company", "NoSuchCo", "--sandbox", "--format", "json"], { cwd: ROOT });
    expect(JSON.parse(missing.stdout)).toMatchObject({ companyId: "NoSuchCo", state: "not-found", company: null });
    expect(missing.code).toBe(1);
  });

  it("refuses a company ID that cannot go into a query, before asking ConnectWise", async () => {
    const env = await sandboxEnv();
    const before = sandbox!.requests.length;
    const r = await runCli(["verify", "--company", 'AC"ME'], { cwd: ROOT, env });
    // the rule of connectwise.companyId in a customer file: a usage error before any request
    expect(r.code).toBe(64);
    expect(r.stderr).toContain("--company: not a valid company ID (it contains `\"`)");
    expect(sandbox!.requests.length).toBe(before);
  });

  it("uses CW_* from the environment, and never prints the credentials", async () => {
    const env = await sandboxEnv();
    const r = await runCli(["verify", "northwind-logistics"], { cwd: ROOT, env });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("(company ID 0042): found and active in ConnectWise at 127.0.0.1:");
    expect(r.stdout + r.stderr).not.toContain(env.CW_PRIVATE_KEY);
    expect(sandbox!.requests.every((q) => q.authenticated)).toBe(true);
  });

  it("without --sandbox and without credentials: a usage error naming the variables and the flag", async () => {
    const r = await runCli(["verify", "acme-corp"], { cwd: ROOT, env: { CW_URL: "https://api-na.myconnectwise.net/v4_6_release/apis/3.0" } });
    expect(r.code).toBe(64);
    expect(r.stderr).toContain("set CW_COMPANY, CW_PUBLIC_KEY, CW_PRIVATE_KEY, CW_CLIENT_ID");
    expect(r.stderr).toContain("--sandbox");
  });

  it("usage and input errors", async () => {
    expect((await runCli(["verify"], { cwd: ROOT })).code).toBe(64);
    expect((await runCli(["verify", "acme-corp", "--company", "X"], { cwd: ROOT })).code).toBe(64);
    const unknown = await runCli(["verify", "acme-crop", "--sandbox"], { cwd: ROOT });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("no customer `acme-crop` in customers/ — did you mean `acme-corp`?");
  });

  it("a ConnectWise that rejects the credentials is a failed operation (exit 1) with its message", async () => {
    const env = await sandboxEnv();
    const r = await runCli(["verify", "acme-corp"], { cwd: ROOT, env: { ...env, CW_PRIVATE_KEY: "wrong-key-000000" } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("answered 401 — ConnectWiseApi: UserNotAuthenticated");
    expect(r.stderr).not.toContain("wrong-key-000000");
  });
});

describe("cwsync plan --online", () => {
  it("adds the ConnectWise checks: companies, resolved agreements, ambiguity and catalogue", async () => {
    const r = await runCli(["plan", "--online", "--sandbox", "--at", AT], { cwd: ROOT });
    // fabrikam-retail's ambiguous default agreement is an error: the check fails
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/ConnectWise checks against the embedded sandbox \(http:\/\/127\.0\.0\.1:\d+\): \d+ of 7 customers OK/);
    expect(r.stdout).toMatch(/✔ acme-corp: company #\d+ “Acme Corporation” \(Active\)\n {6}✔ wfbs-svc → “[^”]+” \(#\d+, TMRM Management Solution\)/);
    expect(r.stdout).toMatch(/✖ fabrikam-retail: company #\d+ “Fabrikam Retail” \(Active\)\n {6}✖ wfbs-svc: agreement\.ambiguous — 2 active matches/);
    // a cancelled twin of an explicit agreement does not make it ambiguous
    expect(r.stdout).toMatch(/✔ iwsaas → “Northwind - Web Gateway” \(#\d+, Managed Service\)/);
    expect(r.stdout).toContain("– fabrikam-retail-legacy: integration disabled, not checked");
  });

  it("is read-only, batched, and in JSON", async () => {
    const env = await sandboxEnv();
    const r = await runCli(["plan", "--online", "--at", AT, "--format", "json"], { cwd: ROOT, env });
    const plan = JSON.parse(r.stdout);
    expect(plan.online.checks).toHaveLength(7);
    expect(sandbox!.requests.every((q) => q.method === "GET")).toBe(true);
    // companies, catalogue, agreement types, the company status table, agreements; then, for the
    // billing preview, the additions of each resolved billed agreement, each read once
    const additions = sandbox!.requests.filter((q) => /\/additions$/.test(q.path));
    expect(additions.length).toBeGreaterThan(0);
    expect(new Set(additions.map((q) => q.path)).size).toBe(additions.length);
    expect(sandbox!.requests.length - additions.length).toBeLessThanOrEqual(5);
  });

  it("markdown says the checks were not run when offline", async () => {
    const r = await runCli(["plan", "--format", "markdown", "--at", AT], { cwd: ROOT });
    expect(r.stdout).toContain("_ConnectWise checks not run: this plan is offline._");
  });

  it("--sandbox needs --online", async () => {
    expect((await runCli(["plan", "--sandbox"], { cwd: ROOT })).code).toBe(64);
  });
});
