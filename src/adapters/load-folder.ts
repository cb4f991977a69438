import { assembleLoad, loadCustomerFile, loadGlobalFile, type LoadResult } from "../config/load.ts";
import { readSource, type FileGroup } from "./config-files.ts";

/**
 * Reads and loads one folder's files — the same result as `loadConfig` on them, reading each file
 * just before it is parsed so that only one file's text is in flight. Measured alternatives that
 * were slower on two cores: worker threads (each starts its own parser and schema compiler) and
 * asynchronous reads (four thread-pool round trips per file).
 */
export function loadFolder(group: FileGroup): LoadResult {
  const globalLoaded = loadGlobalFile(group.global && readSource(group.global), group.globalPath);
  const loaded = group.customers.map((e) => loadCustomerFile(readSource(e), globalLoaded.config));
  return assembleLoad(globalLoaded, loaded, group.globalPath, group.global !== undefined);
}
