import { spawn } from "node:child_process";
import { posix } from "node:path";
import { GLOBAL_FILE, type SourceFile } from "../config/load.ts";
import { MAX_FILE_BYTES } from "../config/yaml.ts";
import { UsageError } from "../errors.ts";

function git(repo: string, args: string[], input?: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn("git", ["-C", repo, ...args], {
      stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      env: { ...process.env, GIT_TERMINAL_PROMPT: "0" },
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on("data", (b: Buffer) => out.push(b));
    child.stderr?.on("data", (b: Buffer) => err.push(b));
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 ? resolve(Buffer.concat(out)) : reject(new Error(Buffer.concat(err).toString("utf8").trim() || `git exited ${code}`)),
    );
    if (input !== undefined && child.stdin) {
      child.stdin.on("error", reject);
      child.stdin.end(input);
    }
  });
}

/**
 * The `*.yaml` files of `dir` at a git revision, as the loader's source files (paths relative to
 * the repository). One `ls-tree` and one `cat-file --batch`, whatever the number of files.
 */
export async function readFilesAtRevision(repo: string, rev: string, dir = "customers"): Promise<{ files: SourceFile[]; globalPath: string }> {
  if (rev.startsWith("-")) throw new UsageError(`--base: \`${rev}\` is not a revision`);
  try {
    await git(repo, ["rev-parse", "--verify", "--quiet", `${rev}^{commit}`]);
  } catch {
    throw new UsageError(`--base: \`${rev}\` is not a commit in ${repo} (fetch it first, e.g. \`git fetch origin main\`)`);
  }
  const listing = (await git(repo, ["ls-tree", "-l", "-z", `${rev}^{commit}`, "--", `${dir}/`])).toString("utf8");
  const entries = listing
    .split("\0")
    .filter(Boolean)
    .map((line) => {
      const [meta, path] = line.split("\t");
      const [, type, oid, size] = meta.split(/\s+/);
      return { type, oid, size: Number(size), path };
    })
    .filter((e) => e.type === "blob" && e.path.endsWith(".yaml"));
  const readable = entries.filter((e) => e.size <= MAX_FILE_BYTES);
  const blobs = readable.length ? await git(repo, ["cat-file", "--batch"], readable.map((e) => e.oid).join("\n") + "\n") : Buffer.alloc(0);
  const texts = new Map<string, string>();
  let offset = 0;
  for (const e of readable) {
    const headerEnd = blobs.indexOf(0x0a, offset);
    const size = Number(blobs.subarray(offset, headerEnd).toString("latin1").split(" ")[2]);
    texts.set(e.path, blobs.subarray(headerEnd + 1, headerEnd + 1 + size).toString("utf8"));
    offset = headerEnd + 1 + size + 1;
  }
  return {
    files: entries.map((e) => ({ path: e.path, size: e.size, text: texts.get(e.path) })),
    globalPath: posix.join(dir, GLOBAL_FILE),
  };
}
