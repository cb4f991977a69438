import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/** V8's `gc`, once exposed; null when this runtime would not expose it (the daemon then lets V8 decide). */
let gc: (() => void) | null | undefined;

/**
 * A full, compacting garbage collection (V8's `gc`, exposed on first use). Compacting moves the
 * long-lived objects (records, views, the desired state) off pages the whole cycle's garbage
 * shared with them, so that those pages go back to the system. Never throws: memory is a target,
 * not a reason to stop reconciling.
 */
export function collectGarbage(): boolean {
  if (gc === undefined) {
    try {
      setFlagsFromString("--expose-gc");
      gc = runInNewContext("gc") as () => void;
    } catch {
      gc = null;
    }
  }
  if (!gc) return false;
  setFlagsFromString("--compact-on-every-full-gc");
  try {
    gc();
    return true;
  } finally {
    setFlagsFromString("--no-compact-on-every-full-gc");
  }
}
