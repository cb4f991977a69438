import { importCustomers, type ImportOptions } from "../../app/import.ts";
import type { Deps } from "../../app/deps.ts";
import { renderImport } from "../render-import.ts";

/** `cwsync import`: drafts customer files (suspended) from ConnectWise and the LMP report; exit 0 whatever it matched. */
export async function importCommand(opts: ImportOptions & { format: "text" | "json" }, io: Deps): Promise<number> {
  const result = await importCustomers(opts, io);
  io.stdout(renderImport(result, opts.format));
  return 0;
}
