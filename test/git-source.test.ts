import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it, onTestFinished } from "vitest";
import { tempRepo } from "./helpers/git-repo.ts";

// `reconcile --repo` as a user runs it (the built CLI, its own process) against every kind of
// repository the README names: a path, a bare repository, a file:// URL, an https URL with a password.

const CLI = resolve(import.meta.dirname, "../dist/cli/main.js");
const AT = "2027-01-15T12:00:00Z";

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "cwsync-gitsrc-"));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function reconcile(repo: string, stateDir: string, extra: string[] = []): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [CLI, "reconcile", "--repo", repo, "--sandbox", "--dry-run", "--at", AT, "--format", "json", ...extra], {
      cwd: stateDir, env: { PATH: process.env.PATH, HOME: process.env.HOME, CWSYNC_STATE_DIR: stateDir }, stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (t: string) => (stdout += t));
    child.stderr.setEncoding("utf8").on("data", (t: string) => (stderr += t));
    child.on("error", fail);
    child.on("close", (code) => done({ code, stdout, stderr }));
  });
}

const customersOf = (stdout: string) => (JSON.parse(stdout) as { revision: string; customers: { name: string }[] });

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" }).map((f) => join(dir, f)).filter((f) => statSync(f).isFile());
}

function bareCopy(): { repo: ReturnType<typeof tempRepo>; bare: string } {
  const repo = tempRepo();
  const bare = join(tempDir(), "customers.git");
  repo.git("clone", "-q", "--bare", repo.dir, bare);
  return { repo, bare };
}

describe("reconcile --repo", () => {
  it("reads a file:// URL and a bare repository as it reads the working repository", { timeout: 60_000 }, async () => {
    const { repo, bare } = bareCopy();
    const head = repo.git("rev-parse", "HEAD").trim();
    const fromPath = await reconcile(repo.dir, tempDir());
    expect(fromPath.stderr).toBe("");
    expect(fromPath.code).toBe(0);
    const fromUrl = await reconcile(pathToFileURL(bare).href, tempDir());
    expect(fromUrl.stderr).toBe("");
    expect(fromUrl.code).toBe(0);
    const fromBare = await reconcile(bare, tempDir());
    expect(fromBare.stderr).toBe("");
    expect(fromBare.code).toBe(0);
    const names = customersOf(fromPath.stdout).customers.map((c) => c.name).sort();
    expect(names.length).toBeGreaterThan(0);
    for (const r of [fromUrl, fromBare]) {
      expect(customersOf(r.stdout).revision).toBe(head);
      expect(customersOf(r.stdout).customers.map((c) => c.name).sort()).toEqual(names);
    }
  });

  it("follows --branch on a URL and on a path, and refuses a branch the remote does not have", { timeout: 60_000 }, async () => {
    const { repo, bare } = bareCopy();
    repo.git("checkout", "-q", "-b", "next");
    repo.remove("customers/" + readdirSync(join(repo.dir, "customers")).find((f) => f !== "_global.yaml")!);
    const next = repo.commit("drop one customer");
    repo.git("push", "-q", bare, "next");
    const state = tempDir();
    const onNext = await reconcile(pathToFileURL(bare).href, state, ["--branch", "next"]);
    expect(onNext.code).toBe(0);
    expect(customersOf(onNext.stdout).revision).toBe(next);
    const missing = await reconcile(pathToFileURL(bare).href, state, ["--branch", "nope"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("has no branch or tag `nope`");
    // a working repository is read in place at the branch, whatever is checked out
    repo.git("checkout", "-q", "main");
    const inPlace = await reconcile(repo.dir, tempDir(), ["--branch", "next"]);
    expect(inPlace.code).toBe(0);
    expect(customersOf(inPlace.stdout).revision).toBe(next);
    const unknown = await reconcile(repo.dir, tempDir(), ["--branch", "nope"]);
    expect(unknown.code).toBe(64);
    expect(unknown.stderr).toContain("`nope` is not a branch or commit");
  });

  it("never shows or stores the password of an https URL", { timeout: 60_000 }, async () => {
    const state = tempDir();
    // nothing listens on the discard port: git fails at once
    const r = await reconcile("https://bot:s3cret-pw@127.0.0.1:9/acme/customers.git", state);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot reach https:\/\/127\.0\.0\.1:9\/acme\/customers\.git/);
    expect(r.stderr + r.stdout).not.toContain("s3cret");
    expect(r.stderr).not.toContain(Buffer.from("bot:s3cret-pw").toString("base64"));
    for (const f of filesUnder(state)) expect(readFileSync(f, "utf8"), f).not.toContain("s3cret");
  });

  it("keeps one checkout of a URL in the state directory, fetched again on the next run", { timeout: 60_000 }, async () => {
    const { bare } = bareCopy();
    const state = tempDir();
    expect((await reconcile(pathToFileURL(bare).href, state)).code).toBe(0);
    expect(readFileSync(join(state, "repo", ".git", "config"), "utf8")).toContain(pathToFileURL(bare).href);
    // a second run fetches into the same checkout
    expect((await reconcile(pathToFileURL(bare).href, state)).code).toBe(0);
  });
});
