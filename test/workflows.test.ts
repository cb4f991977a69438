import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseDocument } from "yaml";

interface Step {
  id?: string;
  name?: string;
  if?: string;
  uses?: string;
  run?: string;
  env?: Record<string, string>;
  with?: Record<string, unknown>;
  "continue-on-error"?: unknown;
}

interface Workflow {
  on: Record<string, { paths?: string[]; branches?: string[] } | null>;
  permissions?: Record<string, string>;
  concurrency?: { group: string; "cancel-in-progress": boolean };
  jobs: Record<string, { steps: Step[] }>;
}

function load(name: string): Workflow {
  const text = readFileSync(new URL(`../.github/workflows/${name}`, import.meta.url), "utf8");
  const doc = parseDocument(text, { uniqueKeys: true });
  expect(doc.errors.map((e) => e.message)).toEqual([]);
  expect(doc.warnings.map((e) => e.message)).toEqual([]);
  return doc.toJS() as Workflow;
}

const stepsOf = (wf: Workflow): Step[] => Object.values(wf.jobs).flatMap((j) => j.steps);
const runs = (wf: Workflow): string[] => stepsOf(wf).flatMap((s) => (s.run ? [s.run] : []));
const stepRunning = (wf: Workflow, text: string): Step => {
  const found = stepsOf(wf).filter((s) => s.run?.includes(text));
  expect(found, `one step runs ${text}`).toHaveLength(1);
  return found[0];
};

// Contexts a pull request's author controls; inside `run:` they become shell code.
const UNTRUSTED = /\$\{\{[^}]*github\.(base_ref|head_ref|event\.pull_request\.(title|body|head\.ref|head\.label))/;

describe.each(["config-pr.yml", "test.yml"])("%s", (name) => {
  it("uses only actions/checkout and actions/setup-node, and no untrusted context inside run scripts", () => {
    const wf = load(name);
    const uses = stepsOf(wf).flatMap((s) => (s.uses ? [s.uses.replace(/@.*/, "")] : []));
    expect(new Set(uses)).toEqual(new Set(["actions/checkout", "actions/setup-node"]));
    for (const script of runs(wf)) expect(script).not.toMatch(UNTRUSTED);
    for (const s of stepsOf(wf).filter((s) => s.uses === "actions/setup-node@v4")) {
      expect(s.with).toMatchObject({ "node-version": 20, cache: "npm" });
    }
  });
});

describe("config-pr.yml", () => {
  const wf = load("config-pr.yml");

  it("runs on pull requests that touch customers or schemas, one run per PR at a time", () => {
    expect(Object.keys(wf.on)).toEqual(["pull_request"]);
    expect(wf.on.pull_request?.paths).toEqual(["customers/**", "schemas/**"]);
    expect(wf.permissions).toEqual({ contents: "read", "pull-requests": "write" });
    expect(wf.concurrency?.group).toContain("github.event.pull_request.number");
    expect(wf.concurrency?.["cancel-in-progress"]).toBe(true);
    const checkout = stepsOf(wf).find((s) => s.uses?.startsWith("actions/checkout@"));
    expect(checkout?.with?.["fetch-depth"]).toBe(0);
  });

  it("validates with GitHub annotations, and lets the plan and comment run even when validation fails", () => {
    const steps = stepsOf(wf);
    const validate = stepRunning(wf, "dist/cli/main.js validate --format github");
    expect(validate.id).toBe("validate");
    expect(validate["continue-on-error"]).toBeUndefined();
    for (const s of steps.slice(steps.indexOf(validate) + 1)) expect(s.if).toContain("!cancelled()");
    const last = steps.at(-1)!;
    expect(last.if).toContain("steps.validate.outcome == 'failure'");
    expect(last.run).toMatch(/exit 1/);
  });

  it("writes the markdown plan against the base branch, taking the branch name from env", () => {
    const plan = stepRunning(wf, "dist/cli/main.js plan");
    expect(plan.run).toMatch(/plan --base "origin\/\$\w+"/);
    expect(plan.run).toContain("--format markdown $online > plan.md");
    // --online only with credentials (from secrets, never given to forks); otherwise the comment says why not
    expect(plan.run).toContain('if [ -n "$CW_URL" ] && [ -n "$CW_PRIVATE_KEY" ]; then online="--online"; fi');
    expect(plan.env?.CW_PRIVATE_KEY).toBe("${{ secrets.CW_PRIVATE_KEY }}");
    expect(plan.run).toContain("ConnectWise checks skipped");
    const variable = /--base "origin\/\$(\w+)"/.exec(plan.run!)![1];
    expect(plan.env?.[variable]).toBe("${{ github.base_ref }}");
  });

  it("posts the plan with the project's own sticky comment, except from forks", () => {
    const sameRepo = "github.event.pull_request.head.repo.full_name == github.repository";
    const fork = "github.event.pull_request.head.repo.full_name != github.repository";
    const post = stepRunning(wf, "node dist/ci/sticky-comment.js plan.md");
    expect(post.env?.GITHUB_TOKEN).toBe("${{ secrets.GITHUB_TOKEN }}");
    expect(post.if).toContain(sameRepo);
    const summary = stepRunning(wf, "cat plan.md >> \"$GITHUB_STEP_SUMMARY\"");
    expect(summary.if).toContain(fork);
  });
});

describe("test.yml", () => {
  const wf = load("test.yml");

  it("runs the project's CI script on every push and on demand", () => {
    expect(Object.keys(wf.on).sort()).toEqual(["push", "workflow_dispatch"]);
    expect(wf.on.push?.branches ?? ["**"]).toEqual(["**"]);
    expect(runs(wf)).toContain("bash .ci/run");
  });
});
