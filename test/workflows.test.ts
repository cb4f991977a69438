import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { parseDocument } from "yaml";
import { runCli } from "./helpers/run-cli.ts";

interface Step {
  id?: string;
  name?: string;
  if?: string;
  uses?: string;
  run?: string;
  shell?: string;
  env?: Record<string, string>;
  with?: Record<string, unknown>;
  "working-directory"?: string;
  "continue-on-error"?: unknown;
}

interface Job {
  name?: string;
  needs?: string | string[];
  if?: string;
  permissions?: Record<string, string>;
  outputs?: Record<string, string>;
  strategy?: { matrix?: Record<string, unknown[]> };
  steps: Step[];
}

interface Workflow {
  on: Record<string, { paths?: string[]; branches?: string[] } | null>;
  permissions?: Record<string, string>;
  concurrency?: { group: string; "cancel-in-progress": boolean };
  jobs: Record<string, Job>;
}

interface Action {
  inputs: Record<string, { description: string; default?: string }>;
  outputs: Record<string, { description: string; value: string }>;
  runs: { using: string; steps: Step[] };
}

const ROOT = join(import.meta.dirname, "..");
const TEMPLATE = join(ROOT, "examples/config-repo");
const FILES = {
  "config-pr.yml": join(ROOT, ".github/workflows/config-pr.yml"),
  "test.yml": join(ROOT, ".github/workflows/test.yml"),
  "template config-pr.yml": join(TEMPLATE, ".github/workflows/config-pr.yml"),
  "action.yml": join(ROOT, "action.yml"),
};
const VERSION = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version;

function parse<T>(file: string): T {
  const doc = parseDocument(readFileSync(file, "utf8"), { uniqueKeys: true });
  expect(doc.errors.map((e) => e.message)).toEqual([]);
  expect(doc.warnings.map((e) => e.message)).toEqual([]);
  return doc.toJS() as T;
}

const load = (name: "config-pr.yml" | "test.yml" | "template config-pr.yml") => parse<Workflow>(FILES[name]);
const action = () => parse<Action>(FILES["action.yml"]);

const stepsOf = (wf: Workflow): Step[] => Object.values(wf.jobs).flatMap((j) => j.steps);
const runs = (steps: Step[]): string[] => steps.flatMap((s) => (s.run ? [s.run] : []));
const stepRunning = (steps: Step[], text: string): Step => {
  const found = steps.filter((s) => s.run?.includes(text));
  expect(found, `one step runs ${text}`).toHaveLength(1);
  return found[0];
};
const named = (steps: Step[], name: string): Step => {
  const found = steps.find((s) => s.name === name);
  expect(found, `a step named ${name}`).toBeDefined();
  return found!;
};

// Contexts a pull request's author controls; inside `run:` they become shell code.
const UNTRUSTED = /\$\{\{[^}]*github\.(base_ref|head_ref|event\.pull_request\.(title|body|head\.ref|head\.label))/;
const WORKFLOWS = ["config-pr.yml", "test.yml", "template config-pr.yml"] as const;
const SAME_REPO = "github.event.pull_request.head.repo.full_name == github.repository";
const FORK = "github.event.pull_request.head.repo.full_name != github.repository";
// The template installs cwsync from its own release tag; `OWNER` is the one thing a copy must edit.
const CWSYNC_ACTION = `OWNER/cwsync@v${VERSION}`;

/** Every `uses:` line as written, with its trailing comment (the parsed YAML drops comments). */
function usesLines(file: string): { ref: string; comment: string }[] {
  return readFileSync(file, "utf8")
    .split("\n")
    .flatMap((line) => {
      const m = /^\s*(?:- )?uses:\s*(\S+)\s*(?:#\s*(.*))?$/.exec(line);
      return m ? [{ ref: m[1], comment: m[2] ?? "" }] : [];
    });
}

/** `steps.<id>` and `needs.<job>.outputs.<name>` in an expression-bearing string. */
const stepRefs = (text: string) => [...text.matchAll(/\bsteps\.([\w-]+)\./g)].map((m) => m[1]);
const needsRefs = (text: string) => [...text.matchAll(/\bneeds\.([\w-]+)\.outputs\.([\w-]+)/g)].map((m) => ({ job: m[1], output: m[2] }));
const expressionsOf = (s: Step): string => JSON.stringify([s.if ?? "", s.env ?? {}, s.with ?? {}, s.run ?? ""]);

describe("every workflow and action.yml", () => {
  it("pins each action by a full commit SHA with its version in a comment, the same pin everywhere", () => {
    const pins = new Map<string, string>();
    const seen = new Set<string>();
    for (const [name, file] of Object.entries(FILES)) {
      for (const { ref, comment } of usesLines(file)) {
        if (ref === "./" || ref === CWSYNC_ACTION) continue;
        const m = /^([\w.-]+\/[\w.-]+)@([0-9a-f]{40})$/.exec(ref);
        expect(m, `${name}: ${ref} is pinned by a 40-hex commit SHA`).not.toBeNull();
        expect(comment, `${name}: ${ref} names its version`).toMatch(/^v\d+\.\d+\.\d+$/);
        const pin = `${m![2]} # ${comment}`;
        expect(pins.get(m![1]) ?? pin, `${name}: ${m![1]} pinned like elsewhere`).toBe(pin);
        pins.set(m![1], pin);
        seen.add(m![1]);
      }
    }
    expect([...seen].sort()).toEqual(["actions/checkout", "actions/download-artifact", "actions/setup-node", "actions/upload-artifact"]);
  });

  it.each(WORKFLOWS)("%s: no untrusted context inside run scripts; every step and job output referred to exists", (name) => {
    const wf = load(name);
    for (const script of runs(stepsOf(wf))) expect(script).not.toMatch(UNTRUSTED);
    for (const [jobName, job] of Object.entries(wf.jobs)) {
      const ids = job.steps.flatMap((s) => (s.id ? [s.id] : []));
      expect(new Set(ids).size, `${jobName}: unique step ids`).toBe(ids.length);
      job.steps.forEach((s, i) => {
        const earlier = job.steps.slice(0, i).flatMap((x) => (x.id ? [x.id] : []));
        for (const ref of stepRefs(expressionsOf(s))) expect(earlier, `${jobName}/${s.name ?? s.uses ?? s.run}: steps.${ref}`).toContain(ref);
      });
      for (const value of Object.values(job.outputs ?? {})) for (const ref of stepRefs(value)) expect(ids).toContain(ref);
      const needs = [job.needs ?? []].flat();
      for (const { job: other, output } of needsRefs(JSON.stringify([job.if ?? "", job.steps]))) {
        expect(needs, `${jobName} needs ${other}`).toContain(other);
        expect(Object.keys(wf.jobs[other]?.outputs ?? {}), `${other} outputs ${output}`).toContain(output);
      }
    }
  });
});

describe("config-pr.yml", () => {
  const wf = load("config-pr.yml");
  const check = wf.jobs.check;

  it("runs on pull requests that touch customers or schemas, one run per PR at a time", () => {
    expect(Object.keys(wf.on)).toEqual(["pull_request"]);
    expect(wf.on.pull_request?.paths).toEqual(["customers/**", "schemas/**"]);
    expect(wf.concurrency?.group).toContain("github.event.pull_request.number");
    expect(wf.concurrency?.["cancel-in-progress"]).toBe(true);
    const checkout = check.steps.find((s) => s.uses?.startsWith("actions/checkout@"));
    expect(checkout?.with).toMatchObject({ "fetch-depth": 0, "persist-credentials": false });
  });

  it("builds and runs the pull request's code on Node 24", () => {
    const setup = check.steps.filter((s) => s.uses?.startsWith("actions/setup-node@"));
    expect(setup.map((s) => s.with?.["node-version"])).toEqual([24]);
    expect(runs(check.steps)).toEqual(expect.arrayContaining(["npm ci", "npm run build"]));
  });

  it("validates with GitHub annotations, and lets the plan and the failure steps run even when validation fails", () => {
    const validate = stepRunning(check.steps, "node dist/cli/main.js validate --format github");
    expect(validate.id).toBe("validate");
    expect(validate["continue-on-error"]).toBeUndefined();
    for (const s of check.steps.slice(check.steps.indexOf(validate) + 1)) expect(s.if).toContain("!cancelled()");
    const failValidate = named(check.steps, "Fail when validation failed");
    expect(failValidate.if).toContain("steps.validate.outcome == 'failure'");
    expect(failValidate.run).toMatch(/exit 1/);
  });

  it("writes the markdown plan against the base branch, taking the branch name from env", () => {
    const plan = stepRunning(check.steps, "node dist/cli/main.js plan");
    expect(plan.run).toMatch(/plan --base "origin\/\$\w+"/);
    expect(plan.run).toContain("--format markdown $online > plan.md");
    // --online only with credentials (from secrets, never given to forks); otherwise the comment says why not
    expect(plan.run).toContain('if [ -n "$CW_URL" ] && [ -n "$CW_PRIVATE_KEY" ]; then online="--online"; fi');
    expect(plan.env?.CW_PRIVATE_KEY).toBe("${{ secrets.CW_PRIVATE_KEY }}");
    expect(plan.run).toContain("ConnectWise checks skipped");
    const variable = /--base "origin\/\$(\w+)"/.exec(plan.run!)![1];
    expect(plan.env?.[variable]).toBe("${{ github.base_ref }}");
  });

  it("writes to the pull request only from a job that installs and builds nothing", () => {
    expect(wf.permissions).toEqual({});
    expect(check.permissions).toEqual({ contents: "read" });
    const comment = wf.jobs.comment;
    expect(comment.permissions).toEqual({ "pull-requests": "write" });
    expect(comment.needs).toBe("check");
    expect(comment.if).toContain("!cancelled()");
    expect(comment.if).toContain(SAME_REPO);
    expect(runs(comment.steps)).toEqual([]);
    expect(comment.steps.map((s) => s.uses?.replace(/@.*/, ""))).toEqual(["actions/checkout", "actions/download-artifact", "./"]);
    expect(comment.steps.at(-1)!.with).toEqual({ comment: "plan.md" });
    const upload = named(check.steps, "Keep the plan");
    expect(upload.with).toMatchObject({ name: "plan", path: "plan.md" });
    expect(comment.steps[1].with).toEqual({ name: upload.with!.name });
    expect(named(check.steps, "Plan in the job summary (fork)").if).toContain(FORK);
  });
});

describe("test.yml", () => {
  const wf = load("test.yml");

  it("runs the project's CI script on every push and on demand, on Node 22, 24 and 26", () => {
    expect(Object.keys(wf.on).sort()).toEqual(["push", "workflow_dispatch"]);
    expect(wf.on.push?.branches ?? ["**"]).toEqual(["**"]);
    const test = wf.jobs.test;
    expect(test.strategy?.matrix?.node).toEqual([22, 24, 26]);
    expect(runs(test.steps)).toContain("bash .ci/run");
    const setup = test.steps.find((s) => s.uses?.startsWith("actions/setup-node@"));
    expect(setup?.with?.["node-version"]).toBe("${{ matrix.node }}");
  });

  it("on 22 and 26, npm's scripts run on that Node rather than the pinned Node 24 in node_modules/.bin", () => {
    const steps = wf.jobs.test.steps;
    const shell = stepRunning(steps, "npm_config_script_shell");
    expect(shell.if).toContain("matrix.node != 24");
    expect(steps.indexOf(shell)).toBeLessThan(steps.indexOf(stepRunning(steps, "bash .ci/run")));

    // The shell it writes, tried on a PATH whose first `node` is not the one the step saw.
    const dir = mkdtempSync(join(tmpdir(), "cwsync-wf-"));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const env = { ...process.env, RUNNER_TEMP: dir, GITHUB_ENV: join(dir, "env") };
    execFileSync("bash", ["-eo", "pipefail", "-c", shell.run!], { env });
    const written = readFileSync(join(dir, "env"), "utf8").trim();
    expect(written).toBe(`npm_config_script_shell=${join(dir, "npm-script-shell")}`);
    const pinned = join(dir, "pinned");
    execFileSync("mkdir", [pinned]);
    writeFileSync(join(pinned, "node"), "#!/bin/sh\necho pinned\n");
    chmodSync(join(pinned, "node"), 0o755);
    const which = execFileSync(join(dir, "npm-script-shell"), ["-c", "command -v node"], { env: { ...env, PATH: `${pinned}:${process.env.PATH}` }, encoding: "utf8" });
    expect(which.trim()).not.toBe(join(pinned, "node"));

    const verify = stepRunning(steps, "process.versions.node");
    expect(verify.env?.NODE_MAJOR).toBe("${{ matrix.node }}");
  });

  it("installs cwsync through action.yml and validates and plans the template with it", () => {
    const job = wf.jobs.action;
    expect(job.steps.map((s) => s.uses?.replace(/@.*/, "") ?? "run")).toEqual(["actions/checkout", "./", "run"]);
    const smoke = job.steps[2];
    expect(smoke["working-directory"]).toBe("examples/config-repo");
    expect(smoke.run).toContain("cwsync validate");
    expect(smoke.run).toContain("cwsync plan --online --sandbox");
  });
});

describe("action.yml", () => {
  const a = action();
  const install = named(a.runs.steps, "Install cwsync");
  const comment = named(a.runs.steps, "Comment the plan");

  it("is a composite action on Node 24 by default; every input and step it refers to exists", () => {
    expect(a.runs.using).toBe("composite");
    expect(a.inputs["node-version"].default).toBe("24");
    const setup = a.runs.steps.filter((s) => s.uses?.startsWith("actions/setup-node@"));
    expect(setup).toHaveLength(1);
    expect(setup[0].with?.["node-version"]).toContain("inputs.node-version");
    const text = JSON.stringify(a);
    for (const m of text.matchAll(/\binputs\.([\w-]+)/g)) expect(Object.keys(a.inputs)).toContain(m[1]);
    const ids = a.runs.steps.flatMap((s) => (s.id ? [s.id] : []));
    for (const ref of stepRefs(text)) expect(ids).toContain(ref);
    for (const s of a.runs.steps.filter((x) => x.run)) expect(s.shell).toBe("bash");
    for (const script of runs(a.runs.steps)) expect(script).not.toMatch(/\$\{\{/);
  });

  it("installs from its own checkout: locked dependencies without install scripts, the project's build, cwsync on PATH", () => {
    expect(install.if).toContain("inputs.comment == ''");
    const lines = install.run!.split("\n").map((l) => l.trim());
    expect(lines).toContain('cd "$GITHUB_ACTION_PATH"');
    expect(lines).toContain("npm ci --no-audit --no-fund --ignore-scripts");
    expect(lines).toContain("npm run build --silent");
    expect(lines).toContain("npm install --global --ignore-scripts --no-audit --no-fund .");
    expect(install.run).toContain('version="$(cwsync --version)"');
    expect(a.outputs.version.value).toBe("${{ steps.install.outputs.version }}");
    expect(a.outputs.schemas.value).toBe("${{ steps.install.outputs.schemas }}");
  });

  it("comments without installing anything: the comment script needs only Node's own modules", () => {
    expect(comment.if).toContain("inputs.comment != ''");
    expect(comment.run).toBe('node "$GITHUB_ACTION_PATH/src/ci/sticky-comment.ts" "$COMMENT_FILE"');
    expect(comment.env).toMatchObject({ GITHUB_TOKEN: "${{ inputs.github-token }}", COMMENT_FILE: "${{ inputs.comment }}" });
    const source = readFileSync(join(ROOT, "src/ci/sticky-comment.ts"), "utf8");
    const imports = [...source.matchAll(/^import .* from "([^"]+)";$/gm)].map((m) => m[1]);
    expect(imports.length).toBeGreaterThan(0);
    for (const spec of imports) expect(spec).toMatch(/^node:/);
  });
});

describe("the configuration repository template (examples/config-repo)", () => {
  const wf = load("template config-pr.yml");
  const tool = load("config-pr.yml");
  const check = wf.jobs.check;

  it("installs the tagged cwsync through the action, then validates and plans exactly like the tool's own workflow", () => {
    expect(Object.keys(wf.on)).toEqual(["pull_request"]);
    expect(wf.on.pull_request).toBeNull();
    const install = check.steps.find((s) => s.uses === CWSYNC_ACTION);
    expect(install?.id).toBe("cwsync");
    expect(install?.with).toBeUndefined();
    const withInstalled = (s: Step) => s.run?.replaceAll("node dist/cli/main.js", "cwsync");
    for (const name of ["Validate", "Plan", "Plan in the job summary (fork)", "Fail when validation failed", "Fail when the plan failed"]) {
      const mine = named(check.steps, name);
      const theirs = named(tool.jobs.check.steps, name);
      expect(mine.run, name).toBe(withInstalled(theirs));
      expect(mine.env, name).toEqual(theirs.env);
      expect(mine.id, name).toBe(theirs.id);
    }
    expect(named(check.steps, "Plan").if).toContain("steps.cwsync.outcome == 'success'");
    expect(named(check.steps, "Keep the plan")).toEqual(named(tool.jobs.check.steps, "Keep the plan"));
    expect(check.outputs).toEqual(tool.jobs.check.outputs);
  });

  it("keeps the write permission to the comment job, which only downloads the plan and posts it through the action", () => {
    expect(wf.permissions).toEqual({});
    expect(check.permissions).toEqual({ contents: "read" });
    const comment = wf.jobs.comment;
    expect(comment.permissions).toEqual({ "pull-requests": "write" });
    expect(comment.if).toBe(tool.jobs.comment.if);
    expect(comment.steps.map((s) => s.uses)).toEqual([tool.jobs.comment.steps[1].uses, CWSYNC_ACTION]);
    expect(comment.steps[0].with).toEqual({ name: "plan" });
    const inputs = Object.keys(action().inputs);
    for (const s of stepsOf(wf).filter((x) => x.uses === CWSYNC_ACTION)) for (const k of Object.keys(s.with ?? {})) expect(inputs).toContain(k);
  });

  describe("its plan step, run with a stand-in cwsync", () => {
    const plan = named(check.steps, "Plan");
    const failPlan = named(check.steps, "Fail when the plan failed");

    function runPlan(exit: number, env: Record<string, string>) {
      const dir = mkdtempSync(join(tmpdir(), "cwsync-plan-step-"));
      onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
      const bin = join(dir, "bin");
      execFileSync("mkdir", [bin]);
      writeFileSync(join(bin, "cwsync"), `#!/bin/sh\nprintf '<!-- cwsync-plan -->\\nargs: %s\\n' "$*"\nexit ${exit}\n`);
      chmodSync(join(bin, "cwsync"), 0o755);
      const r = spawnSync("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", plan.run!], {
        cwd: dir,
        encoding: "utf8",
        env: { PATH: `${bin}:${process.env.PATH}`, GITHUB_OUTPUT: join(dir, "output"), BASE_REF: "main", RUN_URL: "https://github.example/run/1", ...env },
      });
      return { code: r.status, dir, md: readFileSync(join(dir, "plan.md"), "utf8"), output: readFileSync(join(dir, "output"), "utf8") };
    }
    const online = { CW_URL: "https://cw.example", CW_PRIVATE_KEY: "secret" };

    it("exit 1 (failed ConnectWise checks): the plan is kept whole for the comment, and the last step fails the job", () => {
      const r = runPlan(1, online);
      expect(r.code).toBe(0);
      expect(r.output).toBe("status=1\n");
      expect(r.md).toBe("<!-- cwsync-plan -->\nargs: plan --base origin/main --format markdown --online\n");
      const fail = spawnSync("bash", ["-eo", "pipefail", "-c", failPlan.run!], { encoding: "utf8", env: { PATH: process.env.PATH, STATUS: "1" } });
      expect(fail.status).toBe(1);
      expect(fail.stdout).toContain("::error title=cwsync plan::");
      expect(failPlan.if).toContain("steps.plan.outputs.status != '0'");
    });

    it("without credentials: offline, and the comment says why", () => {
      const r = runPlan(0, {});
      expect(r.output).toBe("status=0\n");
      expect(r.md).toContain("args: plan --base origin/main --format markdown\n");
      expect(r.md).toContain("> ConnectWise checks skipped: no ConnectWise credentials here");
    });

    it("exit 70: the comment is replaced by a warning with the run's address", () => {
      const r = runPlan(70, online);
      expect(r.code).toBe(0);
      expect(r.output).toBe("status=70\n");
      expect(r.md).toContain("> cwsync could not compute the plan (exit 70); see the [workflow run](https://github.example/run/1).");
    });

    it("a branch name is data, never shell code", () => {
      const r = runPlan(0, { BASE_REF: "x$(touch pwned)`touch pwned2`" });
      expect(r.md).toContain("args: plan --base origin/x$(touch pwned)`touch pwned2` --format markdown");
      expect(existsSync(join(r.dir, "pwned")) || existsSync(join(r.dir, "pwned2"))).toBe(false);
    });
  });

  it("its customers are valid, and its schemas are this cwsync's (the editor's copy)", async () => {
    const r = await runCli(["validate", "examples/config-repo/customers"], { cwd: ROOT });
    expect(r.stdout).toContain("✔ 3 files valid");
    expect(r.code).toBe(0);
    const ours = readdirSync(join(ROOT, "schemas")).sort();
    expect(readdirSync(join(TEMPLATE, "schemas")).sort()).toEqual(ours);
    for (const f of ours) {
      expect(readFileSync(join(TEMPLATE, "schemas", f), "utf8"), `examples/config-repo/schemas/${f}: cp schemas/*.json examples/config-repo/schemas/`).toBe(readFileSync(join(ROOT, "schemas", f), "utf8"));
    }
  });

  it("maps the schemas for the editor, and its README names what a copy must change", () => {
    const settings = JSON.parse(readFileSync(join(TEMPLATE, ".vscode/settings.json"), "utf8")) as { "yaml.schemas": Record<string, string | string[]> };
    for (const [schema, globs] of Object.entries(settings["yaml.schemas"])) {
      expect(existsSync(join(TEMPLATE, schema)), schema).toBe(true);
      expect([globs].flat().join(" ")).toContain("customers/");
    }
    const readme = readFileSync(join(TEMPLATE, "README.md"), "utf8");
    for (const text of ["OWNER", `v${VERSION}`, "read-only", "CW_PRIVATE_KEY", "schemas/"]) expect(readme).toContain(text);
  });
});
