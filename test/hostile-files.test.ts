import { execFileSync } from "node:child_process";
import { accessSync, closeSync, constants, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, symlinkSync, truncateSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { readFilesAt } from "../src/adapters/git-source.ts";
import { loadConfig } from "../src/config/load.ts";
import { tempRepo } from "./helpers/git-repo.ts";
import { runCli } from "./helpers/run-cli.ts";

const AT = "2026-11-25T00:00:00Z";
const SECRET = "sekrit-123";

function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), "cwsync-hostile-"));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A file outside the repository that holds a secret, as /proc/self/environ does on a CI runner. */
function secretFile(): string {
  const file = join(scratch(), "environ");
  writeFileSync(file, `PATH=/usr/bin\0CW_PRIVATE_KEY=${SECRET}\0HOME=/root\0`);
  return file;
}

const procEnvironReadable = (() => {
  try {
    accessSync("/proc/self/environ", constants.R_OK);
    return true;
  } catch {
    return false;
  }
})();

describe("files are what they claim", () => {
  for (const target of ["a file outside the repository", ...(procEnvironReadable ? ["/proc/self/environ"] : [])]) {
    it(`refuses a symlinked _global.yaml (to ${target}) unread: the secret reaches neither the PR comment nor validate`, async () => {
      const repo = tempRepo();
      repo.remove("customers/_global.yaml");
      symlinkSync(target === "/proc/self/environ" ? target : secretFile(), join(repo.dir, "customers/_global.yaml"));
      const env = { CW_PRIVATE_KEY: SECRET, CW_PUBLIC_KEY: "pub-key-1" };

      const plan = await runCli(["plan", "--base", "HEAD", "--at", AT, "--format", "markdown"], { cwd: repo.dir, env });
      expect(plan.stdout + plan.stderr).not.toContain(SECRET);
      expect(plan.stdout).toContain("`customers/_global.yaml`");
      expect(plan.stdout).toContain("file.not-regular");

      for (const format of ["text", "github", "json"]) {
        const summary = join(scratch(), "summary.md");
        const r = await runCli(["validate", "--format", format], { cwd: repo.dir, env: { ...env, GITHUB_STEP_SUMMARY: summary } });
        expect(r.code).toBe(1);
        expect(r.stdout + r.stderr).not.toContain(SECRET);
        if (format === "json") expect(JSON.parse(r.stdout)).toContainEqual(expect.objectContaining({ file: "customers/_global.yaml", code: "file.not-regular" }));
        else expect(r.stdout).toMatch(/customers\/_global\.yaml.*file\.not-regular/);
        if (format === "github") expect(readFileSync(summary, "utf8")).not.toContain(SECRET);
      }
    });
  }

  it("refuses a symlinked customer file in folder mode, even one pointing inside the repository: validate and plan say so", async () => {
    const repo = tempRepo();
    symlinkSync("acme-corp.yaml", join(repo.dir, "customers/acme-copy.yaml"));
    symlinkSync(secretFile(), join(repo.dir, "customers/outside.yaml"));

    const validate = await runCli(["validate"], { cwd: repo.dir });
    expect(validate.code).toBe(1);
    expect(validate.stdout).toContain("customers/acme-copy.yaml error file.not-regular: `customers/acme-copy.yaml` is a symbolic link, not a regular file");
    expect(validate.stdout).toContain("customers/outside.yaml error file.not-regular");
    expect(validate.stdout).toContain("hint: replace the symlink with the file itself");
    expect(validate.stdout).not.toContain(SECRET);

    // an explicit path on the command line is refused the same way
    const explicit = await runCli(["validate", "customers/outside.yaml"], { cwd: repo.dir });
    expect(explicit.code).toBe(1);
    expect(explicit.stdout).toContain("customers/outside.yaml error file.not-regular");
    expect(explicit.stdout).not.toContain(SECRET);

    const plan = await runCli(["plan", "--at", AT], { cwd: repo.dir });
    expect(plan.stdout).toMatch(/acme-copy: 1 error\(s\), first at customers\/acme-copy\.yaml file\.not-regular/);
    expect(plan.stdout).toMatch(/outside: 1 error\(s\), first at customers\/outside\.yaml file\.not-regular/);
    expect(plan.stdout).not.toContain(SECRET);
  });

  it("refuses a committed symlink in git mode (the daemon's reading) and in validate and plan of the checkout", async () => {
    const repo = tempRepo();
    symlinkSync("/etc/passwd", join(repo.dir, "customers/passwd.yaml"));
    repo.commit("a symlink");
    expect(repo.git("ls-tree", "HEAD", "customers/passwd.yaml")).toMatch(/^120000 blob /);

    const files = await readFilesAt(repo.dir, "HEAD");
    const loaded = loadConfig(files.files, files.globalPath);
    const diag = loaded.diagnostics.find((d) => d.file === "customers/passwd.yaml");
    expect(diag).toMatchObject({ severity: "error", code: "file.not-regular", message: "`customers/passwd.yaml` is a symbolic link, not a regular file: it is not read" });
    expect(JSON.stringify(loaded)).not.toContain("root:");

    const validate = await runCli(["validate", "--format", "json"], { cwd: repo.dir });
    expect(validate.code).toBe(1);
    expect(JSON.parse(validate.stdout)).toContainEqual(expect.objectContaining({ file: "customers/passwd.yaml", code: "file.not-regular" }));
    const plan = await runCli(["plan", "--base", "HEAD", "--at", AT, "--format", "markdown"], { cwd: repo.dir });
    expect(plan.stdout).toContain("`customers/passwd.yaml` **passwd**: 1 error(s), first `file.not-regular`");
    expect(plan.stdout).not.toContain("root:");
  });

  it("refuses a 300 MB sparse file from its size, without reading it", async () => {
    const repo = tempRepo();
    const big = join(repo.dir, "customers/big.yaml");
    writeFileSync(big, "");
    truncateSync(big, 300 * 1024 * 1024);
    // an access time before the modification time: a read moves it (relatime, the usual mount option)
    utimesSync(big, new Date("2020-01-01T00:00:00Z"), new Date("2021-01-01T00:00:00Z"));
    const r = await runCli(["validate"], { cwd: repo.dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("customers/big.yaml:1:1 error yaml.TOO_LARGE: the file is 307200 KiB; files over 256 KiB are refused before parsing");
    expect(statSync(big).atime.toISOString()).toBe("2020-01-01T00:00:00.000Z");
  });

  it("refuses a FIFO and a folder unopened: validate does not hang on a pipe nobody writes", { timeout: 20_000 }, async () => {
    const repo = tempRepo();
    execFileSync("mkfifo", [join(repo.dir, "customers/pipe.yaml")]);
    mkdirSync(join(repo.dir, "customers/folder.yaml"));
    const r = await runCli(["validate"], { cwd: repo.dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("customers/pipe.yaml error file.not-regular: `customers/pipe.yaml` is a FIFO (named pipe), not a regular file");
    expect(r.stdout).toContain("customers/folder.yaml error file.not-regular: `customers/folder.yaml` is a folder, not a regular file");
    // the pipe is still unopened: a writer that opens it without blocking finds no reader
    expect(() => closeSync(openSync(join(repo.dir, "customers/pipe.yaml"), constants.O_WRONLY | constants.O_NONBLOCK))).toThrow(/ENXIO/);
  });

  it("quotes at most the offending line of a file, and at most a line of a value", async () => {
    const repo = tempRepo();
    const long = "x".repeat(5_000);
    // the lines around the bad one are valid: a code frame of three lines used to show them
    repo.write("customers/acme-corp.yaml", readFileSync(join(repo.dir, "customers/acme-corp.yaml"), "utf8")
      .replace("displayName: Acme Corporation\nowner: team-emea", `displayName: ${SECRET}-before\nbogus: ${long}\nowner: ${SECRET}-after`));
    const r = await runCli(["validate"], { cwd: repo.dir });
    expect(r.code).toBe(1);
    expect(r.stdout).not.toContain(`${SECRET}-before`);
    expect(r.stdout).not.toContain(`${SECRET}-after`);
    expect(r.stdout).not.toContain("x".repeat(300));
    expect(r.stdout).toContain("unknown key `bogus`");
    expect(r.stdout).toContain(`> 6 | bogus: ${"x".repeat(193)}…`);
  });

  it("puts nothing active of a display name or an owner into the pull-request comment", async () => {
    const repo = tempRepo();
    const file = "customers/acme-corp.yaml";
    const hostileName = "@everyone ![x](https://evil/x.png) <img src=x> [link](https://evil/) </details> **bold** | cell";
    const hostileOwner = "`` @msp/billing-team ` `<b>x</b>`` ~~struck~~";
    repo.write(file, readFileSync(join(repo.dir, file), "utf8")
      .replace("displayName: Acme Corporation", `displayName: ${JSON.stringify(hostileName)}`)
      .replace("owner: team-emea", `owner: ${JSON.stringify(hostileOwner)}`));
    expect((await runCli(["validate", file], { cwd: repo.dir })).stdout).toContain("valid");

    for (const argv of [["plan", "--base", "HEAD", "--at", AT, "--format", "markdown"], ["plan", "--at", AT, "--format", "markdown"]]) {
      const md = (await runCli(argv, { cwd: repo.dir })).stdout;
      // the plan shows the values: in the change table with --base, in the customer's headline without
      expect(md).toContain("everyone");
      expect(md).not.toMatch(/@(everyone|msp)/);
      expect(md).not.toContain("![");
      expect(md).not.toMatch(/\]\(/);
      expect(md).not.toMatch(/<(img|b|\/details)/);
      expect(md).not.toMatch(/(^|[^\\])\*\*bold/);
      expect(md).not.toMatch(/(^|[^\\])~~struck/);
      if (argv.includes("--base")) {
        // the table keeps its three cells: the `|` of the name is escaped, the owner's backticks open no code span
        const row = md.split("\n").find((l) => l.includes("everyone"))!;
        expect(row.replace(/\\\|/g, "").split("|")).toHaveLength(5);
        expect(md.split("\n").find((l) => l.includes("billing-team"))).toContain("\\`\\`");
      }
    }
  });

  it("shows a line break and a right-to-left override in a file name escaped in text output", async () => {
    const repo = tempRepo();
    const name = "evil\nline\u202eyaml.yaml";
    writeFileSync(join(repo.dir, "customers", name), "apiVersion: cwsync/v1\nkind: Customer\n");
    const validate = await runCli(["validate"], { cwd: repo.dir });
    expect(validate.stdout).toContain("customers/evil\\nline\\u202eyaml.yaml:");
    expect(validate.stdout).not.toMatch(/[\u202e]|evil\n/);
    const plan = await runCli(["plan", "--at", AT], { cwd: repo.dir });
    expect(plan.stdout).toContain("evil\\nline\\u202eyaml: ");
    expect(plan.stdout).not.toMatch(/[\u202e]|evil\n/);
  });
});
