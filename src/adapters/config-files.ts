import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, readSync, type Stats } from "node:fs";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import type { Diagnostic } from "../config/diagnostic.ts";
import { GLOBAL_FILE, type SourceFile } from "../config/load.ts";
import { MAX_FILE_BYTES } from "../config/yaml.ts";
import { UsageError } from "../errors.ts";

/** A file to read: where it is, and how it is shown in diagnostics (relative to the working directory). */
export interface FileEntry {
  abs: string;
  path: string;
}

/**
 * The files of one folder to load together: its `_global.yaml` (when present) and the customer files
 * given or found, by name: 10,000 files in one folder are common, and an object and two path strings
 * per file, made before the first file is read and kept to the end, were ~1.5 MB for every
 * young-generation collection of the listing to copy (`customerEntry` makes a file's entry when it is read).
 */
export interface FileGroup {
  globalPath: string;
  global?: FileEntry;
  /** The folder of every file of the group: absolute, ending with a separator, and as shown, ending with `/` (empty for the working directory). */
  folder: { abs: string; shown: string };
  /** The customer files' names, in code-unit order, each once. */
  names: string[];
}

/** The entry of a group's `i`-th customer file. */
export function customerEntry(group: FileGroup, i: number): FileEntry {
  const name = group.names[i];
  return { abs: group.folder.abs + name, path: group.folder.shown + name };
}

export interface ConfigGroup {
  globalPath: string;
  files: SourceFile[];
}

const display = (abs: string, cwd: string) => {
  const rel = relative(cwd, abs);
  return (rel.startsWith("..") ? abs : rel).split(sep).join("/");
};

/** What a directory entry is when it is not a regular file, in words for its diagnostic. */
export function entryKind(st: Stats): string | undefined {
  if (st.isFile()) return undefined;
  if (st.isSymbolicLink()) return "a symbolic link";
  if (st.isDirectory()) return "a folder";
  if (st.isFIFO()) return "a FIFO (named pipe)";
  if (st.isSocket()) return "a socket";
  if (st.isCharacterDevice() || st.isBlockDevice()) return "a device";
  return "an entry of another kind";
}

// O_NOFOLLOW: a symlink swapped in after the lstat fails to open; O_NONBLOCK: a FIFO swapped in does not hang the open
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);

/**
 * Reads one file, after an `lstat`: anything that is not a regular file (a symlink, even one into the
 * repository, a FIFO, a device, a folder) is refused unopened, and anything over the size limit unread.
 */
export function readSource(entry: FileEntry): SourceFile {
  const refused = (st: Stats): SourceFile | undefined => {
    const kind = entryKind(st);
    if (kind !== undefined) return { path: entry.path, size: 0, notRegular: kind };
    if (st.size > MAX_FILE_BYTES) return { path: entry.path, size: st.size };
    return undefined;
  };
  const before = refused(lstatSync(entry.abs));
  if (before) return before;
  let fd: number;
  try {
    fd = openSync(entry.abs, OPEN_FLAGS);
  } catch (e) {
    // replaced by a symlink between the lstat and the open
    if ((e as NodeJS.ErrnoException).code === "ELOOP") return { path: entry.path, size: 0, notRegular: "a symbolic link" };
    throw e;
  }
  try {
    const st = fstatSync(fd);
    const after = refused(st);
    if (after) return after;
    // the size stat gave, plus one byte: a file that grew since is read on up to one byte past the limit
    let buf = Buffer.allocUnsafe(st.size + 1);
    let size = 0;
    for (;;) {
      if (size === buf.length) {
        if (size > MAX_FILE_BYTES) break;
        buf = Buffer.concat([buf, Buffer.allocUnsafe(MAX_FILE_BYTES + 1 - size)]);
      }
      const n = readSync(fd, buf, size, buf.length - size, null);
      if (n === 0) break;
      size += n;
    }
    return size > MAX_FILE_BYTES ? { path: entry.path, size } : { path: entry.path, size, text: buf.toString("utf8", 0, size) };
  } finally {
    closeSync(fd);
  }
}

/** True for a regular file (not a symlink to one); false for anything else, or when it is gone. */
function isRegularFile(abs: string): boolean {
  try {
    return lstatSync(abs).isFile();
  } catch {
    return false;
  }
}

/**
 * Lists `validate`/`plan` inputs: folders (every `*.yaml` directly inside) and single files, each
 * grouped with the `_global.yaml` of its folder so that cross-file rules run among what was given.
 */
export function listConfigFiles(paths: readonly string[], cwd: string): { groups: FileGroup[]; diagnostics: Diagnostic[] } {
  // per folder, the names of its files: every file of a group is directly inside its folder (a single
  // file is grouped under its dirname), so a file's absolute path is its folder's plus its name
  const byFolder = new Map<string, string[]>();
  const diagnostics: Diagnostic[] = [];
  const folder = (abs: string) => {
    let names = byFolder.get(abs);
    if (!names) byFolder.set(abs, (names = []));
    return names;
  };
  for (const p of paths) {
    const abs = resolve(cwd, p);
    let isDir: boolean;
    try {
      // lstat: a symlink given by name is refused like one found in a folder (readSource says so)
      isDir = lstatSync(abs).isDirectory();
    } catch {
      throw new UsageError(`no such file or folder: ${p}`);
    }
    if (!isDir) {
      folder(dirname(abs)).push(basename(abs));
      continue;
    }
    const names = folder(abs);
    // names only: the kind of every entry (withFileTypes) took three times as long, and only a `.yml` needs it
    for (const name of readdirSync(abs)) {
      // every `*.yaml` entry, whatever it is: one that is not a regular file is refused with a diagnostic, not skipped
      if (name.endsWith(".yaml")) names.push(name);
      else if (name.endsWith(".yml") && isRegularFile(join(abs, name))) {
        diagnostics.push({
          severity: "warning", code: "file.ignored", file: display(join(abs, name), cwd), path: "",
          message: "`.yml` files are not read", hint: `rename it to \`${name.replace(/\.yml$/, ".yaml")}\``,
        });
      }
    }
  }
  const groups = [...byFolder].map(([dir, listed]): FileGroup => {
    const globalAbs = join(dir, GLOBAL_FILE);
    let hasGlobal = false;
    try {
      // whatever it is: a symlink, a FIFO or a folder is refused by readSource, never followed
      lstatSync(globalAbs);
      hasGlobal = true;
    } catch {
      // reported by the loader as global.missing
    }
    // strings put together per file when it is read, not path.join/relative/basename per file: 10,000
    // files in one folder are common, and those calls were most of the listing's time (~70 ms)
    const shownDir = display(dir, cwd);
    const folderOf = { abs: dir.endsWith(sep) ? dir : dir + sep, shown: shownDir === "" ? "" : `${shownDir}/` };
    // sorted by name (the order of their absolute paths, which all begin with the folder's), each once
    // (a file given by name and found in its folder too): a sort in place and no set, at 10,000 names
    listed.sort();
    let kept = 0;
    for (const name of listed) if (name !== GLOBAL_FILE && (kept === 0 || name !== listed[kept - 1])) listed[kept++] = name;
    listed.length = kept;
    const global = hasGlobal ? { abs: folderOf.abs + GLOBAL_FILE, path: folderOf.shown + GLOBAL_FILE } : undefined;
    return { globalPath: display(globalAbs, cwd), global, folder: folderOf, names: listed };
  });
  return { groups, diagnostics };
}

/** Lists and reads: every group with its files' text (the loader's input). */
export function readConfigFiles(paths: readonly string[], cwd: string): { groups: ConfigGroup[]; diagnostics: Diagnostic[] } {
  const { groups, diagnostics } = listConfigFiles(paths, cwd);
  return {
    groups: groups.map((g) => ({
      globalPath: g.globalPath,
      files: [...(g.global ? [readSource(g.global)] : []), ...g.names.map((_, i) => readSource(customerEntry(g, i)))],
    })),
    diagnostics,
  };
}
