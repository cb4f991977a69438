import { execFileSync } from "node:child_process";
import { createServer as createHttpServer } from "node:http";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { openGitSource } from "./git-source.ts";

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "cwsync-gitsrc-"));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** The command lines of every process on this machine, as `ps` shows them. */
function commandLines(): string[] {
  return readdirSync("/proc").filter((d) => /^\d+$/.test(d)).map((d) => {
    try {
      return readFileSync(`/proc/${d}/cmdline`, "utf8");
    } catch {
      return "";
    }
  });
}

async function until(check: () => boolean, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 25))) if (check()) return true;
  return check();
}

describe("openGitSource", () => {
  it("kills a hanging git with the helpers it started, within the timeout", { timeout: 20_000 }, async () => {
    const dir = tempDir();
    const pidFile = join(dir, "ssh.pid");
    const ssh = join(dir, "hanging-ssh");
    // an ssh that never answers, through a child of its own: only a process-group kill reaches it
    writeFileSync(ssh, `#!/bin/sh\nsleep 300 &\necho $! > '${pidFile}'\nwait\n`);
    chmodSync(ssh, 0o755);
    const source = openGitSource({ repo: "ssh://git@git.example.invalid/acme/customers.git", stateDir: join(dir, "state"), cwd: dir, env: { GIT_SSH_COMMAND: ssh }, timeoutMs: 1000 });
    // the error names the timeout (the hanging ssh would keep it waiting 300 s, past the test's timeout)
    await expect(source.update({})).rejects.toThrow(/cannot reach ssh:\/\/git@git\.example\.invalid\/acme\/customers\.git: git ls-remote got no answer within 1s/);
    const sleeper = Number(readFileSync(pidFile, "utf8"));
    // killed with the group: gone, not left running (a wait sized for a loaded machine)
    expect(await until(() => !alive(sleeper), 10_000), `the helper ${sleeper} is still running`).toBe(true);
  });

  it("keeps an https password off every command line, out of the checkout, and out of the error", { timeout: 20_000 }, async () => {
    // accepts and never answers: git waits in the TLS handshake until it is killed
    const sockets: Socket[] = [];
    const server = createServer((s) => void sockets.push(s));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    onTestFinished(() => {
      sockets.forEach((s) => s.destroy());
      server.close();
    });
    const port = (server.address() as { port: number }).port;
    const dir = tempDir();
    const basic = Buffer.from("bot:s3cret-pw").toString("base64");
    const source = openGitSource({ repo: `https://bot:s3cret-pw@127.0.0.1:${port}/acme/customers.git`, stateDir: join(dir, "state"), cwd: dir, timeoutMs: 1500 });
    expect(source.source).toBe(`https://127.0.0.1:${port}/acme/customers.git`);
    const update = source.update({});
    update.catch(() => undefined);
    expect(await until(() => sockets.length > 0, 5000)).toBe(true);
    const lines = commandLines();
    expect(lines.some((l) => l.includes(`127.0.0.1:${port}`))).toBe(true);
    expect(lines.filter((l) => l.includes("s3cret") || l.includes(basic))).toEqual([]);
    const error = await update.then(() => undefined, (e: unknown) => e as Error);
    expect(error?.message).toMatch(/no answer within 2s/);
    expect(error?.message).not.toContain("s3cret");
  });

  it("sends a URL's credentials to that origin as a header, per call", { timeout: 20_000 }, async () => {
    const seen: (string | undefined)[] = [];
    const server = createHttpServer((req, res) => {
      seen.push(req.headers.authorization);
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    onTestFinished(() => void server.close());
    const port = (server.address() as { port: number }).port;
    const dir = tempDir();
    const source = openGitSource({ repo: `http://bot:s3cret-pw@127.0.0.1:${port}/x.git`, stateDir: join(dir, "state"), cwd: dir });
    await expect(source.update({})).rejects.toThrow(/cannot reach http:\/\/127\.0\.0\.1:\d+\/x\.git/);
    expect(seen).toContain(`Basic ${Buffer.from("bot:s3cret-pw").toString("base64")}`);
    expect(existsSync(join(dir, "state", "repo"))).toBe(false);
  });

  it("reads a working repository in place, its committed files only, whatever GIT_* the caller's environment holds", { timeout: 20_000 }, async () => {
    const dir = tempDir();
    const git = (...args: string[]) => execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t.invalid", ...args], { cwd: dir, encoding: "utf8" });
    git("init", "-q", "-b", "main");
    mkdirSync(join(dir, "customers"));
    writeFileSync(join(dir, "customers", "acme.yaml"), "name: acme\n");
    git("add", "-A");
    git("commit", "-q", "-m", "seed");
    writeFileSync(join(dir, "customers", "draft.yaml"), "name: draft\n");
    // GIT_DIR would point git at another repository: only the passthrough variables reach git
    const source = openGitSource({ repo: dir, stateDir: join(dir, "state"), cwd: dir, env: { GIT_DIR: "/nonexistent" } });
    const { current } = await source.update({});
    expect(current?.id).toBe(git("rev-parse", "HEAD").trim());
    expect(current?.files.map((f) => [f.path, f.text])).toEqual([["customers/acme.yaml", "name: acme\n"]]);
    expect(existsSync(join(dir, "state"))).toBe(false);
  });
});

describe("the disposable checkout between syncs", () => {
  it("puts a checkout moved behind cwsync's back (another commit checked out in it) back at the next sync, without waiting for the periodic check", { timeout: 20_000 }, async () => {
    const dir = tempDir();
    const git = (cwd: string, ...args: string[]) => execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t.invalid", ...args], { cwd, encoding: "utf8" }).trim();
    const repo = join(dir, "repo");
    mkdirSync(join(repo, "customers"), { recursive: true });
    git(repo, "init", "-q", "-b", "main");
    writeFileSync(join(repo, "customers", "acme.yaml"), "name: acme\n");
    git(repo, "add", "-A");
    git(repo, "commit", "-q", "-m", "one");
    const first = git(repo, "rev-parse", "HEAD");
    writeFileSync(join(repo, "customers", "acme.yaml"), "name: acme\nnote: two\n");
    git(repo, "commit", "-q", "-am", "two");
    const second = git(repo, "rev-parse", "HEAD");
    const source = openGitSource({ repo, branch: "main", stateDir: join(dir, "state"), cwd: dir, cloneLocal: true });
    const cloned = await source.update({});
    expect(cloned.current?.id).toBe(second);
    // the next sync asks git whether the checkout is healthy: it is; then someone resets it to an older commit
    const held = await source.update(cloned);
    expect(held).toBe(cloned);
    const checkout = join(dir, "state", "repo");
    git(checkout, "reset", "-q", "--hard", first);
    const again = await source.update(held);
    expect(again.current?.id).toBe(second);
    expect(git(checkout, "rev-parse", "HEAD")).toBe(second);
    expect(readFileSync(join(checkout, "customers", "acme.yaml"), "utf8")).toBe("name: acme\nnote: two\n");
  });
});
