import type { Anchors } from "../config/anchors.ts";
import type { Diagnostic } from "../config/diagnostic.ts";
import { assembleDiagnostics, assembleLoad, loadCustomerFile, loadGlobalFile, type LoadedCustomer, type LoadResult, type SourceFile } from "../config/load.ts";
import type { GlobalFile } from "../config/model.ts";
import { asRecord } from "../config/notification-rules.ts";
import { hasCrossFileConflicts, crossFileConflicted } from "../config/cross-file-rules.ts";
import { readSource, type FileEntry, type FileGroup } from "./config-files.ts";

/**
 * Reads and loads one folder's files — the same result as `loadConfig` on them, reading each file
 * just before it is parsed so that only one file's text is in flight. Measured alternatives that
 * were slower on two cores: worker threads (see `checkFolder`) and asynchronous reads (four
 * thread-pool round trips per file).
 */
export function loadFolder(group: FileGroup): LoadResult {
  const globalLoaded = loadGlobalFile(group.global && readSource(group.global), group.globalPath);
  const loaded = group.customers.map((e) => loadCustomerFile(readSource(e), globalLoaded.config));
  return assembleLoad(globalLoaded, loaded, group.globalPath, group.global !== undefined);
}

/** What `validate` keeps of one customer file: its diagnostics, its source (code frames), and what the cross-file rules read. */
export interface CheckedCustomer {
  file: string;
  name: string;
  diagnostics: Diagnostic[];
  /** The cross-file rules' facts only: `name`, and `connectwise.enabled`/`companyId` (checkCrossFile reads nothing else). */
  data: { name?: string; connectwise: { enabled: boolean; companyId?: string } };
  anchors?: Anchors;
  source?: SourceFile;
}

/**
 * Loads one customer file and keeps only what `validate` needs: the parsed document is dropped, and
 * so is the text of a file without diagnostics (see `checkFolder`).
 */
export function checkCustomerSource(source: SourceFile, global: GlobalFile | undefined): CheckedCustomer {
  const c = loadCustomerFile(source, global);
  const d = asRecord(c.data);
  const cw = asRecord(d?.connectwise);
  const checked: CheckedCustomer = {
    file: c.file,
    name: c.name,
    diagnostics: c.diagnostics,
    data: {
      name: typeof d?.name === "string" ? d.name : undefined,
      connectwise: { enabled: cw?.enabled === true, companyId: typeof cw?.companyId === "string" ? cw.companyId : undefined },
    },
  };
  if (c.anchors !== undefined) checked.anchors = c.anchors;
  if (c.source !== undefined && c.diagnostics.length > 0) checked.source = c.source;
  return checked;
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
 * parsed document (only what the cross-file rules read), nor the text of a file without diagnostics:
 * 10,000 texts kept to the end made every young-generation collection copy them (~10 % of the run's
 * CPU). A file without diagnostics of its own that shares its name or company with another (rare:
 * the cross-file rules report it) is read again, for the position of that key and its code frame.
 * Measured and left out: a second thread (a worker claiming chunks of the files, with build-time
 * validators and lazy imports) was 1–9 % slower in wall time on two shared cores and used ~30 % more
 * CPU (each thread compiles and warms up its own copy of the code).
 */
export function checkFolder(group: FileGroup): FolderCheck {
  const globalLoaded = loadGlobalFile(group.global && readSource(group.global), group.globalPath);
  const global = globalLoaded.config;
  const customers = group.customers.map((e) => checkCustomerSource(readSource(e), global));
  const loaded = customers as unknown as LoadedCustomer[];
  const conflicts = hasCrossFileConflicts(loaded);
  if (conflicts) {
    const entries = new Map(customers.map((c, i) => [c, group.customers[i]]));
    for (const c of crossFileConflicted(customers)) {
      // (a file with diagnostics kept its source, or never had a text)
      if (c.diagnostics.length === 0) c.source = rereadSource(entries.get(c));
    }
  }
  const result = assembleDiagnostics(globalLoaded, loaded, group.globalPath, group.global !== undefined, conflicts);
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
