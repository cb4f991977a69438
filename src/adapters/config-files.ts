import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import type { Diagnostic } from "../config/diagnostic.ts";
import { GLOBAL_FILE, type SourceFile } from "../config/load.ts";
import { MAX_FILE_BYTES } from "../config/yaml.ts";
import { UsageError } from "../errors.ts";

/** The files of one folder to load together: its `_global.yaml` and the customer files given or found. */
export interface ConfigGroup {
  globalPath: string;
  files: SourceFile[];
}

export interface ConfigFiles {
  groups: ConfigGroup[];
  /** Problems with the set of files itself (e.g. `.yml` files that are not read). */
  diagnostics: Diagnostic[];
}

const display = (abs: string, cwd: string) => {
  const rel = relative(cwd, abs);
  return (rel.startsWith("..") ? abs : rel).split(sep).join("/");
};

function readSource(abs: string, cwd: string): SourceFile {
  const size = statSync(abs).size;
  return { path: display(abs, cwd), size, text: size > MAX_FILE_BYTES ? undefined : readFileSync(abs, "utf8") };
}

/**
 * Reads `validate`/`plan` inputs: folders (every `*.yaml` directly inside) and single files, each
 * grouped with the `_global.yaml` of its folder so that cross-file rules run among what was given.
 */
export function readConfigFiles(paths: readonly string[], cwd: string): ConfigFiles {
  const byFolder = new Map<string, Set<string>>();
  const diagnostics: Diagnostic[] = [];
  const add = (folder: string, file: string) => {
    const set = byFolder.get(folder) ?? new Set<string>();
    set.add(file);
    byFolder.set(folder, set);
  };
  for (const p of paths) {
    const abs = resolve(cwd, p);
    let isDir: boolean;
    try {
      isDir = statSync(abs).isDirectory();
    } catch {
      throw new UsageError(`no such file or folder: ${p}`);
    }
    if (!isDir) {
      add(dirname(abs), abs);
      continue;
    }
    byFolder.set(abs, byFolder.get(abs) ?? new Set());
    for (const entry of readdirSync(abs, { withFileTypes: true })) {
      if (!entry.isFile()) continue;
      if (entry.name.endsWith(".yaml")) add(abs, join(abs, entry.name));
      else if (entry.name.endsWith(".yml")) {
        diagnostics.push({
          severity: "warning", code: "file.ignored", file: display(join(abs, entry.name), cwd), path: "",
          message: "`.yml` files are not read", hint: `rename it to \`${entry.name.replace(/\.yml$/, ".yaml")}\``,
        });
      }
    }
  }
  const groups = [...byFolder].map(([folder, set]) => {
    const globalAbs = join(folder, GLOBAL_FILE);
    const files = [...set].filter((f) => f !== globalAbs).sort().map((f) => readSource(f, cwd));
    let hasGlobal = false;
    try {
      hasGlobal = statSync(globalAbs).isFile();
    } catch {
      // reported by the loader as global.missing
    }
    return { globalPath: display(globalAbs, cwd), files: hasGlobal ? [readSource(globalAbs, cwd), ...files] : files };
  });
  return { groups, diagnostics };
}
