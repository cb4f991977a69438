import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

let gc: (() => void) | undefined;

/**
 * A full, compacting garbage collection (V8's `gc`, exposed on first use). Compacting moves the
 * long-lived objects (records, views, the desired state) off pages the whole cycle's garbage
 * shared with them, so that those pages go back to the system.
 */
export function collectGarbage(): void {
  if (!gc) {
    setFlagsFromString("--expose-gc");
    gc = runInNewContext("gc") as () => void;
  }
  setFlagsFromString("--compact-on-every-full-gc");
  try {
    gc();
  } finally {
    setFlagsFromString("--no-compact-on-every-full-gc");
  }
}
