import type { Anchors } from "../config/anchors.ts";
import type { Diagnostic } from "../config/diagnostic.ts";
import { CrossFileIndex, crossFileFacts, type CrossFileFacts } from "../config/cross-file-index.ts";
import { crossFileConflicted, hasCrossFileConflicts } from "../config/cross-file-rules.ts";
import { assembleDiagnostics, assembleLoad, customerName, loadCustomerFile, loadGlobalFile, type LoadedCustomer, type LoadResult, type SourceFile } from "../config/load.ts";
import { customerEntry, readSource, type FileEntry, type FileGroup } from "./config-files.ts";

/**
 * Reads and loads one folder's files — the same result as `loadConfig` on them, reading each file
 * just before it is parsed so that only one file's text is in flight. Measured alternatives that
 * were slower on two cores: worker threads (see `checkFolder`) and asynchronous reads (four
 * thread-pool round trips per file).
 */
export function loadFolder(group: FileGroup): LoadResult {
  const globalLoaded = loadGlobalFile(group.global && readSource(group.global), group.globalPath);
  const loaded = group.names.map((_, i) => loadCustomerFile(readSource(customerEntry(group, i)), globalLoaded.config));
  return assembleLoad(globalLoaded, loaded, group.globalPath, group.global !== undefined);
}

/** What `validate` keeps of one customer file: its diagnostics, its source (code frames), and what the cross-file rules read. */
export interface CheckedCustomer {
  file: string;
  name: string;
  diagnostics: Diagnostic[];
  data: CrossFileFacts;
  anchors?: Anchors;
  source?: SourceFile;
}

/** What `validate` needs of one folder: every diagnostic (as `loadFolder` gives them) and the files' sources. */
export interface FolderCheck {
  diagnostics: Diagnostic[];
  filesChecked: number;
  /** The sources of the files with diagnostics (code frames). */
  sources: SourceFile[];
}

/**
 * `validate`'s loader: the same diagnostics as `loadFolder`, in the same order, without keeping any
 * parsed document, nor anything of a file without diagnostics but its company ID (`CrossFileIndex`):
 * 10,000 texts kept to the end made every young-generation collection copy them (~10 % of the run's
 * CPU), 10,000 records ~5 %. A file has a record when it has diagnostics, or positions (read by the
 * full parser). When two files may share a name or a company (rare: the cross-file rules report it),
 * every file gets a record, and one without diagnostics of its own that the cross-file rules report
 * is read again, for the position of that key and its code frame.
 * Measured and left out: a second thread (a worker claiming chunks of the files, with build-time
 * validators and lazy imports) was 1–9 % slower in wall time on two shared cores and used ~30 % more
 * CPU (each thread compiles and warms up its own copy of the code).
 */
export function checkFolder(group: FileGroup): FolderCheck {
  const globalLoaded = loadGlobalFile(group.global && readSource(group.global), group.globalPath);
  const global = globalLoaded.config;
  const count = group.names.length;
  const index = new CrossFileIndex(group.names);
  // the files with a record, by their place in the group
  const kept = new Map<number, CheckedCustomer>();
  for (let i = 0; i < count; i++) {
    const c = loadCustomerFile(readSource(customerEntry(group, i)), global);
    index.add(i, c.data);
    if (c.diagnostics.length === 0 && c.anchors === undefined) continue;
    const checked: CheckedCustomer = { file: c.file, name: c.name, diagnostics: c.diagnostics, data: crossFileFacts(c.data) };
    if (c.anchors !== undefined) checked.anchors = c.anchors;
    if (c.source !== undefined && c.diagnostics.length > 0) checked.source = c.source;
    kept.set(i, checked);
  }
  const present = group.global !== undefined;
  if (!index.mayConflict(kept)) {
    // nothing across files: the files without diagnostics add nothing, and leaving them out changes no order
    const loaded = [...kept.values()] as unknown as LoadedCustomer[];
    return folderCheck(loaded, assembleDiagnostics(globalLoaded, loaded, group.globalPath, present, false, count));
  }
  const customers = group.names.map((_, i): CheckedCustomer => {
    const record = kept.get(i);
    if (record) return record;
    const file = customerEntry(group, i).path;
    const name = customerName(file);
    return { file, name, diagnostics: [], data: index.factsOf(i, name) };
  });
  const loaded = customers as unknown as LoadedCustomer[];
  const conflicts = hasCrossFileConflicts(loaded);
  if (conflicts) {
    const conflicted = new Set<unknown>(crossFileConflicted(loaded));
    customers.forEach((c, i) => {
      // (a file with diagnostics kept its source, or never had a text)
      if (c.diagnostics.length === 0 && conflicted.has(c)) c.source = rereadSource(customerEntry(group, i));
    });
  }
  return folderCheck(loaded, assembleDiagnostics(globalLoaded, loaded, group.globalPath, present, conflicts));
}

function folderCheck(customers: readonly LoadedCustomer[], result: Pick<LoadResult, "diagnostics" | "filesChecked" | "globalSource">): FolderCheck {
  const sources: SourceFile[] = [];
  if (result.globalSource) sources.push(result.globalSource);
  for (const c of customers) if (c.source) sources.push(c.source);
  return { diagnostics: result.diagnostics, filesChecked: result.filesChecked, sources };
}

/** A file read again for a cross-file diagnostic; none when it has gone since (the diagnostic then has no position). */
function rereadSource(entry: FileEntry | undefined): SourceFile | undefined {
  if (entry === undefined) return undefined;
  try {
    return readSource(entry);
  } catch {
    return undefined;
  }
}
