import { parentPort, workerData } from "node:worker_threads";
import { loadCustomerFile } from "../config/load.ts";
import type { GlobalFile } from "../config/model.ts";
import { readSource, type FileEntry } from "./config-files.ts";

/** Worker side of `loadFolder`: reads and loads a slice of the customer files. */
const { entries, global } = workerData as { entries: FileEntry[]; global: GlobalFile | undefined };
parentPort?.postMessage(entries.map((e) => loadCustomerFile(readSource(e), global)));
