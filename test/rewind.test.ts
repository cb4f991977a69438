import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it, onTestFinished } from "vitest";
import { GitSync } from "../src/daemon/git-sync.ts";
import { FakeClock } from "./helpers/fake-clock.ts";
import { tempRepo, type TempRepo } from "./helpers/git-repo.ts";
import { startDaemon, type Daemon } from "./helpers/daemon.ts";
import { reconcileWorld } from "./helpers/reconcile-world.ts";
import { runCli } from "./helpers/run-cli.ts";
import { waitFor } from "./helpers/wait-for.ts";

// A force-push that rewinds the tracked branch (the new head does not descend from the revision
// applied before) is applied as the branch says, and said: a warning, a journal entry, /api/status,
// `cwsync status`. A fast-forward says nothing.

const TIMEOUT = 60_000;

/** A bare origin cloned from `repo`, which pushes to it (`force`: a rewrite of the branch). */
function origin(repo: TempRepo) {
  const parent = mkdtempSync(join(tmpdir(), "cwsync-origin-"));
  onTestFinished(() => rmSync(parent, { recursive: true, force: true }));
  const dir = join(parent, "customers.git");
  execFileSync("git", ["clone", "-q", "--bare", repo.dir, dir], { env: { ...process.env, GIT_CONFIG_NOSYSTEM: "1" } });
  repo.git("remote", "add", "origin", dir);
  return {
    dir,
    url: pathToFileURL(dir).href,
    push: (force = false) => void repo.git("push", "-q", ...(force ? ["-f"] : []), "origin", "HEAD:main"),
    /** Forgets what no branch holds any more, as a hosting service does in time. */
    prune: () => void execFileSync("git", ["-C", dir, "gc", "-q", "--prune=now"], { env: { ...process.env, GIT_CONFIG_NOSYSTEM: "1" } }),
  };
}

function touch(repo: TempRepo, name: string, line: string): string {
  const file = join("customers", `${name}.yaml`);
  repo.write(file, `${readFileSync(join(repo.dir, file), "utf8")}${line}\n`);
  return repo.commit(`${name}: ${line}`);
}

/** The branch rewound to `to`, plus one new commit on it: B is no longer in its history. */
function rewindTo(repo: TempRepo, to: string, line: string): string {
  repo.git("reset", "-q", "--hard", to);
  return touch(repo, "northwind-logistics", line);
}

describe("a rewound branch", () => {
  it("GitSync tells a rewind from a fast-forward, also on a start whose fresh clone lacks the old revision", async () => {
    const repo = tempRepo();
    const o = origin(repo);
    const stateDir = mkdtempSync(join(tmpdir(), "cwsync-state-"));
    onTestFinished(() => rmSync(stateDir, { recursive: true, force: true }));
    const clock = new FakeClock();
    const sync = new GitSync({ source: o.url, stateDir, cwd: repo.dir, clock });
    const a = repo.git("rev-parse", "HEAD").trim();
    await sync.sync();
    expect(sync.state().current?.revision).toBe(a);
    expect(sync.state().rewound).toBeUndefined();

    const b = touch(repo, "acme-corp", "# b");
    o.push();
    expect(await sync.sync()).toEqual({ changed: true, attempted: true });
    expect(sync.state().rewound).toBeUndefined();

    const c = rewindTo(repo, a, "# c");
    o.push(true);
    await sync.sync();
    expect(sync.state().current?.revision).toBe(c);
    expect(sync.state().rewound).toEqual({ from: b, to: c, at: new Date(clock.now()).toISOString() });
    // kept until the next rewind: a fast-forward does not clear it
    const d = touch(repo, "acme-corp", "# d");
    o.push();
    await sync.sync();
    expect(sync.state().current?.revision).toBe(d);
    expect(sync.state().rewound).toMatchObject({ from: b, to: c });

    // a daemon that last applied d starts after the branch was rewound past it, on a new state
    // directory's clone: d is gone from the origin, so not in the new head's history — a rewind
    const e = rewindTo(repo, a, "# e");
    o.push(true);
    o.prune();
    const fresh = mkdtempSync(join(tmpdir(), "cwsync-state-"));
    onTestFinished(() => rmSync(fresh, { recursive: true, force: true }));
    const restarted = new GitSync({ source: o.url, stateDir: fresh, cwd: repo.dir, clock, lastApplied: d });
    await restarted.sync();
    expect(() => execFileSync("git", ["-C", join(fresh, "repo"), "cat-file", "-e", `${d}^{commit}`], { stdio: "ignore" })).toThrow();
    expect(restarted.state().current?.revision).toBe(e);
    expect(restarted.state().rewound).toMatchObject({ from: d, to: e });
    // and one that last applied an ancestor of the head sees none
    const calm = new GitSync({ source: o.url, stateDir: mkdtempSync(join(tmpdir(), "cwsync-state-")), cwd: repo.dir, clock, lastApplied: a });
    await calm.sync();
    expect(calm.state().rewound).toBeUndefined();
  });

  it("the daemon applies a force-pushed rewind and says so: log, journal, /api/status, cwsync status", { timeout: TIMEOUT }, async () => {
    const w = await reconcileWorld();
    const o = origin(w.repo);
    const a = w.repo.git("rev-parse", "HEAD").trim();
    const d = await startDaemon(w.repo.dir, { ...w.env }, ["--repo", o.url, "--interval", "1s"]);
    await applied(d, a);

    const b = touch(w.repo, "acme-corp", "# b");
    o.push();
    const forward = await applied(d, b);
    expect(forward.repo.rewound).toBeUndefined();
    expect(d.logs().filter((l) => l.msg === "history rewound")).toEqual([]);

    const c = rewindTo(w.repo, a, "# c");
    o.push(true);
    const rewound = await applied(d, c);
    expect(rewound.repo.rewound).toMatchObject({ from: b, to: c });
    expect(Date.parse(rewound.repo.rewound!.at)).not.toBeNaN();
    expect(d.logs().filter((l) => l.msg === "history rewound")).toEqual([expect.objectContaining({ level: 40, from: b, to: c })]);

    d.child.kill("SIGTERM");
    expect(await d.exited).toBe(0);
    const json = await runCli(["status", "--format", "json"], { cwd: w.repo.dir, env: w.env });
    expect(json.code).toBe(0);
    const status = JSON.parse(json.stdout) as { revision: string; rewound?: { from: string; to: string; at: string } };
    expect(status.revision).toBe(c);
    expect(status.rewound).toEqual({ from: b, to: c, at: rewound.repo.rewound!.at });
    const text = await runCli(["status"], { cwd: w.repo.dir, env: w.env });
    const at = `${rewound.repo.rewound!.at.slice(0, 16).replace("T", " ")}Z`;
    expect(text.stdout.split("\n").slice(0, 2)).toEqual([`revision ${c.slice(0, 12)}`, `history rewound from ${b.slice(0, 12)} to ${c.slice(0, 12)} at ${at}`]);
  });
});

const applied = (d: Daemon, revision: string) =>
  waitFor(`revision ${revision.slice(0, 12)} applied`, async () => {
    const s = await d.status();
    return s.repo.applied === revision && s.lastReconcile?.ok ? s : undefined;
  });
