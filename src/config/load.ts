import { basename } from "node:path";
import { findCredentials } from "./credentials.ts";
import { checkCustomer } from "./customer-rules.ts";
import type { Diagnostic } from "./diagnostic.ts";
import { FileContext } from "./file-context.ts";
import { checkGlobal } from "./global-rules.ts";
import type { CustomerFile, GlobalFile } from "./model.ts";
import { checkCrossFile, hasCrossFileConflicts } from "./cross-file-rules.ts";
import { passesSchema, validateAgainstSchema, type SchemaName } from "./schema.ts";
import { schemaDiagnostics } from "./schema-diagnostics.ts";
import { anchorsIn, type Anchors } from "./anchors.ts";
import { withExcerpts } from "./excerpt.ts";
import { fastParse } from "./fast-path.ts";
import { MAX_FILE_BYTES, parseYaml } from "./yaml.ts";

export const GLOBAL_FILE = "_global.yaml";

/** A file to load: its display path (repository-relative), its size, and its text (absent when too large to read, or refused). */
export interface SourceFile {
  path: string;
  size: number;
  text?: string;
  /** What the entry is when it is not a regular file ("a symbolic link", "a FIFO" …): it was never opened. */
  notRegular?: string;
}

export interface LoadedFile<T> {
  file: string;
  /** The data, present only when the file has no errors. */
  config?: T;
  diagnostics: Diagnostic[];
  /** The parsed data even when it has errors (for cross-file rules); undefined when the YAML is broken. */
  data?: unknown;
  /** Where `name` and `connectwise.companyId` stand, for cross-file diagnostics; computed when first needed. */
  anchors?: Anchors;
  source?: SourceFile;
}

export interface LoadedCustomer extends LoadedFile<CustomerFile> {
  name: string;
}

export interface LoadResult {
  globalFile: string;
  global?: GlobalFile;
  /** True when `_global.yaml` is missing or invalid: every customer is held back. */
  blocked: boolean;
  customers: LoadedCustomer[];
  /** Every diagnostic of every file (plus one `global.blocking`), sorted by file, line and column. */
  diagnostics: Diagnostic[];
  filesChecked: number;
  /** The text of `_global.yaml`, for code frames. */
  globalSource?: SourceFile;
}

const errorsIn = (ds: readonly Diagnostic[]) => ds.some((d) => d.severity === "error");

/** Rules whose diagnostic replaces the schema's at the same path. */
const SUBSUMING_RULES = new Set(["rule.credential", "rule.unknown-product", "rule.timezone", "rule.cron-invalid"]);

function loadFile(source: SourceFile, schema: SchemaName, check: (ctx: FileContext, data: unknown) => void): LoadedFile<unknown> {
  const file = source.path;
  if (source.notRegular !== undefined) return { file, anchors: {}, diagnostics: [notRegular(file, source.notRegular)] };
  if (source.size > MAX_FILE_BYTES || source.text === undefined) {
    return {
      file,
      anchors: {},
      diagnostics: [{
        severity: "error", code: "yaml.TOO_LARGE", file, line: 1, col: 1, path: "",
        message: `the file is ${Math.ceil(source.size / 1024)} KiB; files over ${MAX_FILE_BYTES / 1024} KiB are refused before parsing`,
        hint: "a customer file is a few dozen lines: check that nothing was pasted into it by mistake",
      }],
    };
  }
  const fast = fastParse(source.text);
  if (fast !== undefined && isClean(fast, source, schema, check)) return { file, config: fast, diagnostics: [], data: fast, source };
  const parsed = parseYaml(file, source.text);
  if (!parsed.doc || parsed.data === undefined) return { file, diagnostics: parsed.diagnostics, anchors: {}, source };
  const ctx = new FileContext(file, source.text.replace(/^\uFEFF/, ""), parsed.doc, parsed.lines);
  findCredentials(ctx, parsed.data);
  check(ctx, parsed.data);
  // a credential, an unknown product, a time zone or a cron expression is reported once, by its rule:
  // the schema's error at the same place says less (and would echo a secret)
  const ruled = new Set(ctx.diagnostics.filter((d) => SUBSUMING_RULES.has(d.code)).map((d) => d.path));
  const schemaDiags = schemaDiagnostics(validateAgainstSchema(schema, parsed.data), { file, text: ctx.text, doc: parsed.doc, lines: parsed.lines })
    .filter((d) => !ruled.has(d.path));
  const diagnostics = [...parsed.diagnostics, ...schemaDiags, ...ctx.diagnostics, ...modelineWarning(file, source.text, schema)];
  const anchors = anchorsIn(parsed.doc, parsed.lines);
  return { file, config: errorsIn(diagnostics) ? undefined : parsed.data, diagnostics, data: parsed.data, anchors, source };
}

/** An entry of customers/ that is not a regular file: refused before it is opened, never quoted. */
function notRegular(file: string, what: string): Diagnostic {
  const link = what === "a symbolic link";
  return {
    severity: "error", code: "file.not-regular", file, path: "",
    message: `\`${file}\` is ${what}, not a regular file: it is not read`,
    hint: link
      ? "replace the symlink with the file itself: cwsync reads only regular files, even for a link that points inside the repository"
      : what === "a submodule"
        ? "replace the submodule with the file itself: cwsync reads only regular files committed in this repository"
        : "replace it with a regular YAML file, or remove it",
  };
}

/** True when nothing at all would be reported: then positions are never needed. */
function isClean(data: unknown, source: SourceFile, schema: SchemaName, check: (ctx: FileContext, data: unknown) => void): boolean {
  const probe = new FileContext(source.path, source.text ?? "");
  findCredentials(probe, data);
  if (probe.diagnostics.length > 0 || !passesSchema(schema, data)) return false;
  check(probe, data);
  return probe.diagnostics.length === 0 && modelineWarning(source.path, source.text ?? "", schema).length === 0;
}

const MODELINE = /^\uFEFF?#\s*yaml-language-server:\s*\$schema=(\S+)/;
const SCHEMA_FILE: Record<SchemaName, string> = { customer: "customer.schema.json", global: "global.schema.json" };

function modelineWarning(file: string, text: string, schema: SchemaName): Diagnostic[] {
  // (a literal here would be a new RegExp object per file, and the name a new string)
  const m = MODELINE.exec(text);
  if (!m || m[1].endsWith(SCHEMA_FILE[schema])) return [];
  return [{
    severity: "warning", code: "style.modeline", file, line: 1, col: 1, path: "",
    message: `the editor modeline points at \`${m[1]}\`, not the ${schema} schema`,
    hint: `use \`# yaml-language-server: $schema=../schemas/${schema}.schema.json\``,
  }];
}

const compareDiagnostics = (a: Diagnostic, b: Diagnostic) =>
  // file-level diagnostics without a line (global.blocking) come after the located ones
  a.file.localeCompare(b.file) || (a.line ?? Infinity) - (b.line ?? Infinity) || (a.col ?? 0) - (b.col ?? 0) || a.code.localeCompare(b.code);

/** Loads `_global.yaml` (or reports it missing). */
export function loadGlobalFile(source: SourceFile | undefined, globalPath: string): LoadedFile<GlobalFile> {
  if (source) return loadFile(source, "global", checkGlobal) as LoadedFile<GlobalFile>;
  return {
    file: globalPath,
    anchors: {},
    diagnostics: [{
      severity: "error", code: "global.missing", file: globalPath, path: "",
      message: `\`${globalPath}\` not found`,
      hint: "create it with `kind: Global`: every customer needs its catalogue and settings",
    }],
  };
}

/** A customer's name: its file name without `.yaml` (a display path's last part; `path.basename` costs more, per file). */
export function customerName(path: string): string {
  const cut = path.lastIndexOf("/");
  const file = cut >= 0 && cut < path.length - 1 && !path.includes("\\") ? path.slice(cut + 1) : basename(path);
  return file.endsWith(".yaml") ? file.slice(0, -5) : file;
}

/** Loads one customer file on its own (the cross-file rules come in `assembleLoad`). */
export function loadCustomerFile(source: SourceFile, global: GlobalFile | undefined): LoadedCustomer {
  const name = customerName(source.path);
  const loaded = loadFile(source, "customer", (ctx, data) => checkCustomer(ctx, data, name, global)) as LoadedCustomer;
  loaded.name = name;
  return loaded;
}

/** The cross-file rules and the verdict over one folder's loaded files. */
export function assembleLoad(globalLoaded: LoadedFile<GlobalFile>, loaded: LoadedCustomer[], globalPath: string, globalPresent: boolean): LoadResult {
  const customers = [...loaded].sort((a, b) => a.name.localeCompare(b.name));
  return assembleSorted(globalLoaded, customers, globalPath, globalPresent);
}

/**
 * `assembleLoad`'s diagnostics and file count, for `validate`, which needs nothing else: the same
 * list, in the same order. When no customer file has a diagnostic and no two share a name or a
 * company, the order of the customers cannot show in it, and they are not sorted (the first
 * `localeCompare` sets up ICU's collation: a cold start's ~10 ms, and 10,000 names' sort).
 */
export function assembleDiagnostics(
  globalLoaded: LoadedFile<GlobalFile>, loaded: LoadedCustomer[], globalPath: string, globalPresent: boolean,
  /** `hasCrossFileConflicts(loaded)`, when the caller has it already. */
  conflicts = hasCrossFileConflicts(loaded),
  /**
   * How many customer files the folder has, when `loaded` holds only some of them: without cross-file
   * conflicts, a file without diagnostics adds nothing to the list, and leaving it out of `loaded`
   * changes neither the list nor its order (a stable sort keeps the others' order).
   */
  customerCount = loaded.length,
): Pick<LoadResult, "diagnostics" | "filesChecked" | "globalSource"> {
  const quiet = !conflicts && loaded.every((c) => c.diagnostics.length === 0);
  const customers = quiet ? loaded : [...loaded].sort((a, b) => a.name.localeCompare(b.name));
  return assembleSorted(globalLoaded, customers, globalPath, globalPresent, conflicts, customerCount);
}

/** `conflicts`: false when `hasCrossFileConflicts` said so (then the cross-file rules have nothing to say). */
function assembleSorted(
  globalLoaded: LoadedFile<GlobalFile>, customers: LoadedCustomer[], globalPath: string, globalPresent: boolean, conflicts = true, customerCount = customers.length,
): LoadResult {
  if (conflicts) checkCrossFile(customers);
  for (const c of customers) {
    if (c.diagnostics.length === 0) continue;
    c.diagnostics = c.diagnostics.map(withExcerpts);
    if (errorsIn(c.diagnostics)) c.config = undefined;
  }
  globalLoaded.diagnostics = globalLoaded.diagnostics.map(withExcerpts);
  const global = globalLoaded.config;
  const blocked = global === undefined;
  const diagnostics = [...globalLoaded.diagnostics, ...customers.flatMap((c) => c.diagnostics)];
  if (blocked && globalPresent) {
    diagnostics.push({
      severity: "error", code: "global.blocking", file: globalPath, path: "",
      message: `\`${globalPath}\` is invalid: ${customerCount === 1 ? "its customer is" : `all ${customerCount} customers are`} held back until it is fixed`,
      hint: "fix the errors reported for this file first",
    });
  }
  return { globalFile: globalPath, globalSource: globalLoaded.source, global, blocked, customers, diagnostics: diagnostics.sort(compareDiagnostics), filesChecked: customerCount + (globalPresent ? 1 : 0) };
}

/**
 * The one loader used by `validate`, `plan` and the daemon: parses and checks `_global.yaml` and
 * every customer file, then the cross-file rules. Pure: the caller reads the files.
 */
export function loadConfig(files: readonly SourceFile[], globalPath: string): LoadResult {
  const globalSource = files.find((f) => f.path === globalPath);
  const globalLoaded = loadGlobalFile(globalSource, globalPath);
  const customers = files.filter((f) => f !== globalSource).map((f) => loadCustomerFile(f, globalLoaded.config));
  return assembleLoad(globalLoaded, customers, globalPath, globalSource !== undefined);
}
