import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { CONFIG_CACHE_FILE, blobIdOf, openConfigCache } from "../src/adapters/config-cache.ts";
import { loadConfig, type SourceFile } from "../src/config/load.ts";
import type { RevisionFiles } from "../src/ports/git-source.ts";
import { writeBulkCustomers } from "../src/sandbox/bulk-customers.ts";

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A revision of `n` bulk customers (and _global.yaml) as the loader takes it. */
function bulkFiles(n: number): RevisionFiles {
  const dir = tempDir("cwsync-cache-repo-");
  writeBulkCustomers(dir, n);
  const files: SourceFile[] = readdirSync(join(dir, "customers")).sort().map((name) => {
    const text = readFileSync(join(dir, "customers", name), "utf8");
    return { path: `customers/${name}`, size: Buffer.byteLength(text), text };
  });
  return { files, globalPath: "customers/_global.yaml" };
}

const replace = (files: RevisionFiles, path: string, edit: (text: string) => string): RevisionFiles => ({
  ...files,
  files: files.files.map((f) => (f.path === path ? { ...f, text: edit(f.text!), size: Buffer.byteLength(edit(f.text!)) } : f)),
});

/** What a caller sees of a load: the verdict, every diagnostic and every customer's data. */
const view = (r: ReturnType<typeof loadConfig>) => ({
  blocked: r.blocked, diagnostics: r.diagnostics, filesChecked: r.filesChecked, global: r.global,
  customers: r.customers.map((c) => ({ name: c.name, file: c.file, config: c.config, diagnostics: c.diagnostics, text: c.source?.text })),
});

describe("the validated-config cache (config-cache.db in the state directory)", () => {
  it("gives loadConfig's result, parsing only the files that changed, and its diagnostics exactly", () => {
    const state = tempDir("cwsync-cache-state-");
    const files = bulkFiles(30);
    const first = openConfigCache(state);
    expect(view(first.load(files))).toEqual(view(loadConfig(files.files, files.globalPath)));
    expect(first.stats).toMatchObject({ hits: 0, misses: 30, stored: 30 });
    first.flush();
    first.close();

    // one file broken, one changed, and a duplicate company ID that makes a cached (clean) file invalid too
    let next = replace(files, "customers/bulk-00003.yaml", (t) => t.replace("dayOfMonth: 1", "dayOfMonth: 40"));
    next = replace(next, "customers/bulk-00004.yaml", (t) => t.replace("displayName: Bulk Customer 4", "displayName: Bulk Four"));
    next = replace(next, "customers/bulk-00005.yaml", (t) => t.replace("BULK00005", "BULK00006"));
    const second = openConfigCache(state);
    const got = second.load(next);
    const want = loadConfig(next.files, next.globalPath);
    expect(view(got)).toEqual(view(want));
    expect(want.diagnostics.map((d) => `${d.file}:${d.line}:${d.col} ${d.code}`)).toEqual(expect.arrayContaining([
      "customers/bulk-00005.yaml:10:14 rule.duplicate-company", "customers/bulk-00006.yaml:10:14 rule.duplicate-company",
    ]));
    // bulk-00006.yaml comes from the cache and still gets its cross-file diagnostic, at its line and column
    expect(second.stats).toMatchObject({ hits: 27, misses: 3 });
    second.close();

    // _global.yaml changed: every key changes (the rules read it)
    const third = openConfigCache(state);
    third.load(replace(files, "customers/_global.yaml", (t) => `${t}\n# edited\n`));
    expect(third.stats).toMatchObject({ hits: 0, misses: 30 });
    third.close();
  });

  it("reads a corrupt or unreadable cache as empty and builds it again; a load with nothing new writes nothing", () => {
    const state = tempDir("cwsync-cache-state-");
    const files = bulkFiles(5);
    writeFileSync(join(state, CONFIG_CACHE_FILE), "this is not a SQLite database, it is garbage ".repeat(200));
    const broken = openConfigCache(state);
    expect(view(broken.load(files))).toEqual(view(loadConfig(files.files, files.globalPath)));
    expect(broken.stats).toMatchObject({ hits: 0, misses: 5 });
    broken.flush();
    broken.close();
    const rebuilt = openConfigCache(state);
    rebuilt.load(files);
    expect(rebuilt.stats).toMatchObject({ hits: 5, misses: 0, stored: 0 });
    const before = readFileSync(join(state, CONFIG_CACHE_FILE));
    rebuilt.setHint("x", { a: 1 });
    rebuilt.flush();
    rebuilt.close();
    const again = openConfigCache(state);
    again.load(files);
    expect(again.hint("x")).toEqual({ a: 1 });
    again.setHint("x", { a: 1 });
    again.flush();
    again.close();
    expect(readFileSync(join(state, CONFIG_CACHE_FILE)).equals(before)).toBe(false);
  });

  it("keys by git's blob id of the text: the same in a plain folder as in a commit", () => {
    expect(blobIdOf("hello\n")).toBe("ce013625030ba8dba906f756967f9e9ca394464a");
  });

  it("creates nothing in a state directory that does not exist", () => {
    const parent = tempDir("cwsync-cache-parent-");
    const cache = openConfigCache(join(parent, "state"));
    cache.load(bulkFiles(2));
    cache.flush();
    cache.close();
    expect(readdirSync(parent)).toEqual([]);
  });
});
