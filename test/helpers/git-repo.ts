import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { onTestFinished } from "vitest";

const GIT_ENV = {
  ...process.env,
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_AUTHOR_NAME: "cwsync test",
  GIT_AUTHOR_EMAIL: "test@cwsync.invalid",
  GIT_COMMITTER_NAME: "cwsync test",
  GIT_COMMITTER_EMAIL: "test@cwsync.invalid",
};

export interface TempRepo {
  dir: string;
  git: (...args: string[]) => string;
  write: (path: string, text: string) => void;
  remove: (path: string) => void;
  commit: (message: string) => string;
}

/** A real git repository in a temp dir, seeded with this project's customers/ and removed after the test. */
export function tempRepo(seedFrom = join(import.meta.dirname, "../../customers")): TempRepo {
  const dir = mkdtempSync(join(tmpdir(), "cwsync-repo-"));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const git = (...args: string[]) => execFileSync("git", args, { cwd: dir, env: GIT_ENV, encoding: "utf8" });
  git("init", "-q", "-b", "main");
  cpSync(seedFrom, join(dir, "customers"), { recursive: true });
  const repo: TempRepo = {
    dir,
    git,
    write: (path, text) => writeFileSync(join(dir, path), text),
    remove: (path) => rmSync(join(dir, path)),
    commit: (message) => {
      git("add", "-A");
      git("commit", "-q", "-m", message);
      return git("rev-parse", "HEAD").trim();
    },
  };
  repo.commit("seed");
  return repo;
}
