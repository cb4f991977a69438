import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PLAN_MARKER, main, upsertStickyComment } from "./sticky-comment.ts";

const TOKEN = "ghs_s3cretTOKENvalue";
const REPO = "msp/cwsync-config";
const PR = 7;

interface Comment {
  id: number;
  body: string;
  user: string;
  html_url: string;
}

interface Request {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
}

/** A fake of GitHub's issue-comments API, two comments per page so listing takes several pages. */
class FakeGitHub {
  comments: Comment[] = [
    { id: 101, body: "LGTM", user: "alice", html_url: "" },
    { id: 102, body: "please bump the seat count", user: "bob", html_url: "" },
  ];
  requests: Request[] = [];
  failWith: number | undefined;
  private server: Server | undefined;
  private nextId = 500;
  url = "";

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let raw = "";
      req.on("data", (c: Buffer) => (raw += c.toString("utf8")));
      req.on("end", () => {
        this.requests.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers });
        const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
          res.writeHead(status, { "content-type": "application/json", ...headers });
          res.end(JSON.stringify(body));
        };
        if (req.headers.authorization !== `Bearer ${TOKEN}`) return send(401, { message: "Bad credentials" });
        if (this.failWith) return send(this.failWith, { message: "Resource not accessible by integration" });
        const url = new URL(req.url ?? "/", this.url);
        const list = `/repos/${REPO}/issues/${PR}/comments`;
        const one = /^\/repos\/msp\/cwsync-config\/issues\/comments\/(\d+)$/.exec(url.pathname);
        if (req.method === "GET" && url.pathname === list) {
          const page = Number(url.searchParams.get("page") ?? "1");
          const size = 2;
          const items = this.comments.slice((page - 1) * size, page * size);
          const last = Math.max(1, Math.ceil(this.comments.length / size));
          const pageUrl = (n: number) => `${this.url}${list}?per_page=100&page=${n}`;
          const headers: Record<string, string> =
            page < last ? { link: `<${pageUrl(page + 1)}>; rel="next", <${pageUrl(last)}>; rel="last"` } : {};
          return send(200, items, headers);
        }
        if (req.method === "POST" && url.pathname === list) {
          const c = { id: this.nextId++, body: JSON.parse(raw).body, user: "github-actions[bot]", html_url: "" };
          c.html_url = `https://github.example/${REPO}/pull/${PR}#issuecomment-${c.id}`;
          this.comments.push(c);
          return send(201, c);
        }
        if (req.method === "PATCH" && one) {
          const c = this.comments.find((x) => x.id === Number(one[1]));
          if (!c) return send(404, { message: "Not Found" });
          c.body = JSON.parse(raw).body;
          return send(200, c);
        }
        return send(404, { message: "Not Found" });
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  marked(): Comment[] {
    return this.comments.filter((c) => c.body.includes(PLAN_MARKER));
  }
}

describe("upsertStickyComment", () => {
  let gh: FakeGitHub;
  beforeEach(async () => {
    gh = new FakeGitHub();
    await gh.start();
  });
  afterEach(async () => {
    await gh.stop();
  });

  const post = (body: string) =>
    upsertStickyComment({ apiUrl: gh.url, token: TOKEN, repo: REPO, issueNumber: PR, marker: PLAN_MARKER, body });

  it("creates the comment once, then updates that same comment across pages", async () => {
    const first = await post("## Plan\n\n1 change");
    expect(first.action).toBe("created");
    expect(gh.marked()).toHaveLength(1);
    expect(gh.marked()[0].body).toBe(`${PLAN_MARKER}\n## Plan\n\n1 change`);
    // The plan comment is now third: on page 2 of the listing.
    expect(gh.comments.indexOf(gh.marked()[0])).toBe(2);

    gh.requests = [];
    const second = await post("## Plan\n\n2 changes");
    expect(second).toMatchObject({ action: "updated", id: first.id });
    expect(gh.marked()).toHaveLength(1);
    expect(gh.marked()[0].body).toBe(`${PLAN_MARKER}\n## Plan\n\n2 changes`);
    expect(gh.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      `GET /repos/${REPO}/issues/${PR}/comments?per_page=100`,
      `GET /repos/${REPO}/issues/${PR}/comments?per_page=100&page=2`,
      `PATCH /repos/${REPO}/issues/comments/${first.id}`,
    ]);
    expect(gh.comments.slice(0, 2)).toEqual([
      { id: 101, body: "LGTM", user: "alice", html_url: "" },
      { id: 102, body: "please bump the seat count", user: "bob", html_url: "" },
    ]);
  });

  it("sends GitHub's headers and keeps a marker the body already has", async () => {
    await post(`intro\n${PLAN_MARKER}\nbody`);
    expect(gh.marked()[0].body).toBe(`intro\n${PLAN_MARKER}\nbody`);
    const h = gh.requests[0].headers;
    expect(h.authorization).toBe(`Bearer ${TOKEN}`);
    expect(h.accept).toBe("application/vnd.github+json");
    expect(h["x-github-api-version"]).toBe("2022-11-28");
    expect(h["user-agent"]).toBe("cwsync");
  });

  it("fails on 403 naming method, path and status, never the token", async () => {
    gh.failWith = 403;
    const err = await post("plan").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    const message = (err as Error).message;
    expect(message).toContain(`GET /repos/${REPO}/issues/${PR}/comments`);
    expect(message).toContain("403");
    expect(message).toContain("Resource not accessible by integration");
    expect(message).not.toContain(TOKEN);
    expect(gh.comments).toHaveLength(2);
  });

  it("never sends the token to a host named by a Link header", async () => {
    const seen: string[] = [];
    const fakeFetch: typeof fetch = async (input) => {
      seen.push(String(input));
      return new Response("[]", { status: 200, headers: { link: '<https://evil.example/page2>; rel="next"' } });
    };
    await expect(
      upsertStickyComment({ apiUrl: gh.url, token: TOKEN, repo: REPO, issueNumber: PR, body: "x", fetch: fakeFetch }),
    ).rejects.toThrow(/not the API host/);
    expect(seen).toHaveLength(1);
  });
});

describe("main", () => {
  let gh: FakeGitHub;
  let dir: string;
  beforeEach(async () => {
    gh = new FakeGitHub();
    await gh.start();
    dir = await mkdtemp(join(tmpdir(), "cwsync-sticky-"));
  });
  afterEach(async () => {
    await gh.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("posts the markdown file on the pull request named by the event", async () => {
    await writeFile(join(dir, "plan.md"), "## Plan\n");
    await writeFile(join(dir, "event.json"), JSON.stringify({ pull_request: { number: PR } }));
    const out: string[] = [];
    const code = await main(
      [join(dir, "plan.md")],
      {
        GITHUB_API_URL: gh.url,
        GITHUB_TOKEN: TOKEN,
        GITHUB_REPOSITORY: REPO,
        GITHUB_EVENT_PATH: join(dir, "event.json"),
      },
      { stdout: (l) => out.push(l), stderr: (l) => out.push(l) },
    );
    expect(code).toBe(0);
    expect(gh.marked().map((c) => c.body)).toEqual([`${PLAN_MARKER}\n## Plan\n`]);
    expect(out.join("\n")).toContain("created comment");
  });

  it("exits 1 naming what is missing", async () => {
    const err: string[] = [];
    const code = await main([join(dir, "plan.md")], { GITHUB_API_URL: gh.url }, { stderr: (l) => err.push(l) });
    expect(code).toBe(1);
    expect(err.join("\n")).toContain("GITHUB_TOKEN, GITHUB_REPOSITORY, GITHUB_EVENT_PATH");
    expect(gh.requests).toHaveLength(0);
  });

  it("exits 1 when the event is not a pull request", async () => {
    await writeFile(join(dir, "plan.md"), "## Plan\n");
    await writeFile(join(dir, "event.json"), JSON.stringify({ ref: "refs/heads/main" }));
    const err: string[] = [];
    const code = await main(
      [join(dir, "plan.md")],
      { GITHUB_API_URL: gh.url, GITHUB_TOKEN: TOKEN, GITHUB_REPOSITORY: REPO, GITHUB_EVENT_PATH: join(dir, "event.json") },
      { stderr: (l) => err.push(l) },
    );
    expect(code).toBe(1);
    expect(err.join("\n")).toContain("pull_request.number");
  });
});
