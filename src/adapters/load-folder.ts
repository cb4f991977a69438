import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { assembleLoad, loadCustomerFile, loadGlobalFile, type LoadedCustomer, type LoadResult } from "../config/load.ts";
import type { GlobalFile } from "../config/model.ts";
import { readSource, type FileEntry, type FileGroup } from "./config-files.ts";

/** Below this many files, starting a worker costs more than it saves. */
const PARALLEL_FROM = 1500;
const WORKER_URL = new URL("./load-worker.js", import.meta.url);

function loadInWorker(entries: FileEntry[], global: GlobalFile | undefined): Promise<LoadedCustomer[]> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_URL, { workerData: { entries, global } });
    worker.once("message", (loaded: LoadedCustomer[]) => resolve(loaded));
    worker.once("error", reject);
    worker.once("exit", (code) => code !== 0 && reject(new Error(`config loader worker exited ${code}`)));
  });
}

/**
 * Reads and loads one folder's files. Large folders are split over the machine's cores (worker
 * threads, the main thread taking a share); the result is the same as `loadConfig` on the files.
 */
export async function loadFolder(group: FileGroup, opts: { parallel?: boolean } = {}): Promise<LoadResult> {
  const globalLoaded = loadGlobalFile(group.global && readSource(group.global), group.globalPath);
  const global = globalLoaded.config;
  const threads = Math.min(availableParallelism(), 8);
  // workers run compiled JavaScript: under a TypeScript runner (tests) everything stays on this thread
  const canUseWorkers = import.meta.url.endsWith(".js") && (opts.parallel ?? true);
  let loaded: LoadedCustomer[];
  if (!canUseWorkers || threads < 2 || group.customers.length < PARALLEL_FROM) {
    loaded = group.customers.map((e) => loadCustomerFile(readSource(e), global));
  } else {
    const size = Math.ceil(group.customers.length / threads);
    const slices = Array.from({ length: threads }, (_, i) => group.customers.slice(i * size, (i + 1) * size));
    const pending = slices.slice(1).map((s) => loadInWorker(s, global));
    const mine = slices[0].map((e) => loadCustomerFile(readSource(e), global));
    loaded = [...mine, ...(await Promise.all(pending)).flat()];
  }
  return assembleLoad(globalLoaded, loaded, group.globalPath, group.global !== undefined);
}
