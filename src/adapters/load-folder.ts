import type { Anchors } from "../config/anchors.ts";
import type { Diagnostic } from "../config/diagnostic.ts";
import { assembleDiagnostics, assembleLoad, loadCustomerFile, loadGlobalFile, type LoadedCustomer, type LoadResult, type SourceFile } from "../config/load.ts";
import type { GlobalFile } from "../config/model.ts";
import { asRecord } from "../config/notification-rules.ts";
import { readSource, type FileGroup } from "./config-files.ts";

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

/** Loads one customer file and keeps only what `validate` needs: the parsed document is dropped. */
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
  if (c.source !== undefined) checked.source = c.source;
  return checked;
}

/** What `validate` needs of one folder: every diagnostic (as `loadFolder` gives them) and the files' sources. */
export interface FolderCheck {
  diagnostics: Diagnostic[];
  filesChecked: number;
  sources: SourceFile[];
}

/**
 * `validate`'s loader: the same diagnostics as `loadFolder`, in the same order, without keeping any
 * parsed document (only what the cross-file rules read): ~20 % less CPU and ~60 MiB less memory on
 * 10,000 files. Measured and left out: a second thread (a worker claiming chunks of the files, with
 * build-time validators and lazy imports) was 1–9 % slower in wall time on two shared cores and
 * used ~30 % more CPU (each thread compiles and warms up its own copy of the code).
 */
export function checkFolder(group: FileGroup): FolderCheck {
  const globalLoaded = loadGlobalFile(group.global && readSource(group.global), group.globalPath);
  const global = globalLoaded.config;
  const customers = group.customers.map((e) => checkCustomerSource(readSource(e), global));
  const result = assembleDiagnostics(globalLoaded, customers as unknown as LoadedCustomer[], group.globalPath, group.global !== undefined);
  const sources: SourceFile[] = [];
  if (result.globalSource) sources.push(result.globalSource);
  for (const c of customers) if (c.source) sources.push(c.source);
  return { diagnostics: result.diagnostics, filesChecked: result.filesChecked, sources };
}
