import { posix } from "node:path";
import { GLOBAL_FILE } from "../config/load.ts";
import { MAX_FILE_BYTES } from "../config/yaml.ts";
import type { RevisionFiles } from "../ports/git-source.ts";
import { UsageError } from "../errors.ts";
import { runGit, type GitContext } from "./git-run.ts";

/** What a tree entry is when it is not a regular file (`ls-tree` modes: 100644/100755 files, 120000 symlinks, 160000 submodules). */
function kindOf(mode: string, type: string): string | undefined {
  if (type === "blob" && (mode === "100644" || mode === "100755")) return undefined;
  if (mode === "120000") return "a symbolic link";
  if (type === "commit") return "a submodule";
  if (type === "tree") return "a folder";
  return "an entry of another kind";
}

/**
 * The `*.yaml` files of `customers/` at a commit, as the loader's source files (paths relative to
 * the repository). One `ls-tree` and one `cat-file --batch`, whatever the number of files.
 */
export async function readTree(ctx: GitContext, repo: string, rev: string, opts: { signal?: AbortSignal } = {}): Promise<RevisionFiles> {
  const dir = "customers";
  if (rev.startsWith("-")) throw new UsageError(`\`${rev}\` is not a revision`);
  try {
    await runGit(ctx, repo, ["rev-parse", "--verify", "--quiet", `${rev}^{commit}`], opts);
  } catch (e) {
    if (opts.signal?.aborted) throw e;
    throw new UsageError(`\`${rev}\` is not a commit in ${repo} (fetch it first, e.g. \`git fetch origin main\`)`);
  }
  const listing = (await runGit(ctx, repo, ["ls-tree", "-l", "-z", `${rev}^{commit}`, "--", `${dir}/`], opts)).toString("utf8");
  const entries = listing
    .split("\0")
    .filter(Boolean)
    .map((line) => {
      const [meta, path] = line.split("\t");
      const [mode, type, oid, size] = meta.split(/\s+/);
      return { notRegular: kindOf(mode, type), oid, size: type === "blob" ? Number(size) : 0, path };
    })
    // every `*.yaml` entry, whatever it is: a symlink, a submodule or a folder is refused with a diagnostic, never read
    .filter((e) => e.path.endsWith(".yaml"));
  const readable = entries.filter((e) => e.notRegular === undefined && e.size <= MAX_FILE_BYTES);
  const blobs = readable.length ? await runGit(ctx, repo, ["cat-file", "--batch"], { ...opts, input: readable.map((e) => e.oid).join("\n") + "\n" }) : Buffer.alloc(0);
  const texts = new Map<string, string>();
  let offset = 0;
  for (const e of readable) {
    const headerEnd = blobs.indexOf(0x0a, offset);
    const size = Number(blobs.subarray(offset, headerEnd).toString("latin1").split(" ")[2]);
    texts.set(e.path, blobs.subarray(headerEnd + 1, headerEnd + 1 + size).toString("utf8"));
    offset = headerEnd + 1 + size + 1;
  }
  return {
    files: entries.map((e) => (e.notRegular !== undefined ? { path: e.path, size: 0, notRegular: e.notRegular } : { path: e.path, size: e.size, text: texts.get(e.path) })),
    globalPath: posix.join(dir, GLOBAL_FILE),
  };
}
