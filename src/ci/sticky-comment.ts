import { readFile } from "node:fs/promises";
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** Hidden marker that identifies cwsync's plan comment on a pull request. */
export const PLAN_MARKER = "<!-- cwsync-plan -->";
/** GitHub refuses issue comments longer than this many characters. */
export const COMMENT_LIMIT = 65_536;
const MAX_PAGES = 100;

export interface StickyCommentOptions {
  /** API root, e.g. `https://api.github.com` (`GITHUB_API_URL`). */
  apiUrl: string;
  token: string;
  /** `owner/name` (`GITHUB_REPOSITORY`). */
  repo: string;
  /** Pull-request (issue) number. */
  issueNumber: number;
  /** Defaults to {@link PLAN_MARKER}; prepended to the body when the body lacks it. */
  marker?: string;
  body: string;
  fetch?: typeof globalThis.fetch;
}

export interface StickyCommentResult {
  action: "created" | "updated";
  id: number;
  url: string;
}

interface IssueComment {
  id: number;
  body?: string | null;
  html_url?: string;
}

function nextLink(link: string | null): string | undefined {
  for (const part of link?.split(",") ?? []) {
    const m = /<([^>]+)>\s*;.*\brel="?([^";]*)"?/.exec(part);
    if (m && m[2].split(/\s+/).includes("next")) return m[1];
  }
  return undefined;
}

function fitBody(body: string, marker: string): string {
  const text = body.includes(marker) ? body : `${marker}\n${body}`;
  if (text.length <= COMMENT_LIMIT) return text;
  const note = `\n\n… truncated (${text.length} characters, GitHub allows ${COMMENT_LIMIT}); the full plan is in the job log.`;
  let cut = COMMENT_LIMIT - note.length;
  if (/[\uD800-\uDBFF]/.test(text[cut - 1])) cut -= 1;
  return text.slice(0, cut) + note;
}

function client(opts: StickyCommentOptions) {
  const doFetch = opts.fetch ?? globalThis.fetch;
  const api = new URL(opts.apiUrl.replace(/\/+$/, "") + "/");
  const scrub = (s: string) => (opts.token ? s.split(opts.token).join("***") : s);
  const headers = {
    Authorization: `Bearer ${opts.token}`,
    Accept: "application/vnd.github+json",
    "X-GitHub-Api-Version": "2022-11-28",
    "User-Agent": "cwsync",
  };
  return async function call(method: string, url: URL, body?: unknown): Promise<Response> {
    // The token goes only to the API host it was issued for, even if a Link header says otherwise.
    if (url.origin !== api.origin) {
      throw new Error(`GitHub API ${method} refused: ${url.origin} is not the API host ${api.origin}`);
    }
    const where = `${method} ${url.pathname}${url.search}`;
    let res: Response;
    try {
      res = await doFetch(url, {
        method,
        headers: body === undefined ? headers : { ...headers, "Content-Type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: unknown } } | undefined)?.cause?.code;
      const reason = (err instanceof Error ? err.message : String(err)) + (typeof cause === "string" ? ` (${cause})` : "");
      throw new Error(`GitHub API ${where} failed: ${scrub(reason)}`);
    }
    if (!res.ok) {
      let detail = "";
      try {
        const json = (await res.json()) as { message?: unknown };
        if (typeof json.message === "string") detail = `: ${scrub(json.message).slice(0, 300)}`;
      } catch {
        // no JSON body; the status says enough
      }
      const hint =
        res.status === 401 || res.status === 403 || res.status === 404
          ? " (the token needs `pull-requests: write`; pull requests from forks get a read-only token)"
          : "";
      throw new Error(`GitHub API ${where} answered ${res.status}${detail}${hint}`);
    }
    return res;
  };
}

/**
 * Creates or updates the one pull-request comment that carries `marker`, so every push
 * replaces the plan instead of adding a comment. Comments without the marker are never touched.
 */
export async function upsertStickyComment(opts: StickyCommentOptions): Promise<StickyCommentResult> {
  if (!/^[\w.-]+\/[\w.-]+$/.test(opts.repo)) {
    throw new Error(`repository must be "owner/name", found "${opts.repo}"`);
  }
  if (!Number.isInteger(opts.issueNumber) || opts.issueNumber <= 0) {
    throw new Error(`pull-request number must be a positive integer, found ${opts.issueNumber}`);
  }
  const marker = opts.marker ?? PLAN_MARKER;
  const body = fitBody(opts.body, marker);
  const call = client(opts);
  const api = opts.apiUrl.replace(/\/+$/, "");
  const issue = `${api}/repos/${opts.repo}/issues/${opts.issueNumber}/comments`;

  let existing: IssueComment | undefined;
  let page: string | undefined = `${issue}?per_page=100`;
  for (let n = 0; page && !existing && n < MAX_PAGES; n += 1) {
    const res = await call("GET", new URL(page));
    const comments = (await res.json()) as unknown;
    if (!Array.isArray(comments)) throw new Error(`GitHub API GET ${new URL(page).pathname} did not answer a list`);
    existing = (comments as IssueComment[]).find((c) => typeof c.body === "string" && c.body.includes(marker));
    page = nextLink(res.headers.get("link"));
  }

  const res = existing
    ? await call("PATCH", new URL(`${api}/repos/${opts.repo}/issues/comments/${existing.id}`), { body })
    : await call("POST", new URL(issue), { body });
  const saved = (await res.json()) as IssueComment;
  return { action: existing ? "updated" : "created", id: saved.id, url: saved.html_url ?? "" };
}

export interface MainIo {
  fetch?: typeof globalThis.fetch;
  stdout?: (line: string) => void;
  stderr?: (line: string) => void;
}

/**
 * `node dist/ci/sticky-comment.js <markdown-file>` in a `pull_request` workflow: posts or
 * updates the plan comment. Returns the exit code (0 done, 1 failed).
 */
export async function main(
  argv: readonly string[] = process.argv.slice(2),
  env: NodeJS.ProcessEnv = process.env,
  io: MainIo = {},
): Promise<number> {
  const out = io.stdout ?? ((s: string) => process.stdout.write(`${s}\n`));
  const err = io.stderr ?? ((s: string) => process.stderr.write(`${s}\n`));
  const file = argv[0];
  const missing = (["GITHUB_API_URL", "GITHUB_TOKEN", "GITHUB_REPOSITORY", "GITHUB_EVENT_PATH"] as const).filter(
    (k) => !env[k],
  );
  if (!file || missing.length > 0) {
    if (!file) err("sticky-comment: usage: node dist/ci/sticky-comment.js <markdown-file>");
    if (missing.length > 0) {
      err(
        `sticky-comment: missing environment variable${missing.length > 1 ? "s" : ""} ${missing.join(", ")}; ` +
          "run it in a pull_request workflow with `env: GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}`",
      );
    }
    return 1;
  }
  try {
    const event = JSON.parse(await readFile(env.GITHUB_EVENT_PATH!, "utf8")) as {
      pull_request?: { number?: unknown };
    };
    const issueNumber = event.pull_request?.number;
    if (typeof issueNumber !== "number") {
      err(`sticky-comment: ${env.GITHUB_EVENT_PATH} has no pull_request.number; run it on pull_request events only`);
      return 1;
    }
    const result = await upsertStickyComment({
      apiUrl: env.GITHUB_API_URL!,
      token: env.GITHUB_TOKEN!,
      repo: env.GITHUB_REPOSITORY!,
      issueNumber,
      marker: PLAN_MARKER,
      body: await readFile(file, "utf8"),
      fetch: io.fetch,
    });
    out(`sticky-comment: ${result.action} comment ${result.id} ${result.url}`.trimEnd());
    return 0;
  } catch (e) {
    err(`sticky-comment: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}

function isEntry(): boolean {
  try {
    return process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

if (isEntry()) {
  process.exitCode = await main();
}
