import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { customerEntry, listConfigFiles, type FileGroup } from "./config-files.ts";

// What `validate` and `plan` are given to read: the listing puts each file's path together from its
// folder's (no path.join per file); these pin the entries, their order and their displayed paths.

const root = mkdtempSync(join(tmpdir(), "cwsync-list-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const repo = join(root, "repo");
const customers = join(repo, "customers");
mkdirSync(customers, { recursive: true });
for (const name of ["b.yaml", "a.yaml", "_global.yaml", "c-10.yaml", "c-9.yaml", "B.yaml", "notes.txt", "old.yml"]) writeFileSync(join(customers, name), "x: 1\n");
mkdirSync(join(customers, "folder.yaml"));
symlinkSync(join(customers, "a.yaml"), join(customers, "link.yaml"));
symlinkSync(join(customers, "old.yml"), join(customers, "link.yml"));
const other = join(root, "elsewhere");
mkdirSync(other);
writeFileSync(join(other, "z.yaml"), "x: 1\n");

const SORTED = ["B.yaml", "a.yaml", "b.yaml", "c-10.yaml", "c-9.yaml", "folder.yaml", "link.yaml"];

/** A group as its global file and its customer files' entries. */
const entries = (g: FileGroup) => ({ globalPath: g.globalPath, global: g.global, customers: g.names.map((_, i) => customerEntry(g, i)) });

describe("listConfigFiles", () => {
  it("a folder: every *.yaml entry in code-unit order, `_global.yaml` apart, paths as shown from the working directory", () => {
    const { groups, diagnostics } = listConfigFiles(["customers"], repo);
    expect(groups.map(entries)).toEqual([{
      globalPath: "customers/_global.yaml",
      global: { abs: join(customers, "_global.yaml"), path: "customers/_global.yaml" },
      customers: SORTED.map((n) => ({ abs: join(customers, n), path: `customers/${n}` })),
    }]);
    // a regular `.yml` file is pointed out; a symlink named so is not
    expect(diagnostics.map((d) => [d.code, d.file, d.hint])).toEqual([["file.ignored", "customers/old.yml", "rename it to `old.yaml`"]]);
  });

  it("a folder and files in it: each file once, grouped with the folder", () => {
    const { groups } = listConfigFiles(["customers/b.yaml", "customers", "./customers/a.yaml", "customers/_global.yaml"], repo);
    expect(groups).toHaveLength(1);
    expect(entries(groups[0]).customers.map((e) => e.path)).toEqual(SORTED.map((n) => `customers/${n}`));
  });

  it("single files: each with its own folder's `_global.yaml` (absent here), shown from the working directory or absolute", () => {
    const { groups } = listConfigFiles(["customers/b.yaml", "customers/a.yaml", join(other, "z.yaml")], repo);
    expect(groups.map(entries)).toEqual([
      { globalPath: "customers/_global.yaml", global: { abs: join(customers, "_global.yaml"), path: "customers/_global.yaml" }, customers: [
        { abs: join(customers, "a.yaml"), path: "customers/a.yaml" },
        { abs: join(customers, "b.yaml"), path: "customers/b.yaml" },
      ] },
      { globalPath: join(other, "_global.yaml"), global: undefined, customers: [{ abs: join(other, "z.yaml"), path: join(other, "z.yaml") }] },
    ]);
  });

  it("run from inside the folder: bare file names", () => {
    const { groups } = listConfigFiles(["."], customers);
    expect(groups[0].globalPath).toBe("_global.yaml");
    expect(groups[0].global).toEqual({ abs: join(customers, "_global.yaml"), path: "_global.yaml" });
    expect(entries(groups[0]).customers.map((e) => e.path)).toEqual(SORTED);
  });
});
