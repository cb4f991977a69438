import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { favourMemory } from "../adapters/v8-memory.ts";

/** V8's `gc`, once exposed; null when this runtime would not expose it (the daemon then lets V8 decide). */
let gc: ((options?: { type: "major"; execution: "sync"; flavor: "last-resort" }) => void) | null | undefined;

/**
 * A full, compacting garbage collection that also reduces the footprint (V8's `gc`, exposed on
 * first use, as a "last resort": bytecode no longer run is flushed, the heap's unused pages go
 * back). Compacting moves the long-lived objects (records, views, the desired state) off pages the
 * whole cycle's garbage shared with them, so that those pages go back to the system. Without the
 * reduction V8's memory reducer did the same on its own some 100 s later (at 5,000 customers a
 * ~400 ms collection of a 100 MB heap, taking it to 76 MB), in the middle of idle cycles. Never
 * throws: memory is a target, not a reason to stop reconciling.
 */
export function collectGarbage(): boolean {
  if (gc === undefined) {
    try {
      setFlagsFromString("--expose-gc");
      gc = runInNewContext("gc") as typeof gc;
    } catch {
      gc = null;
    }
  }
  if (!gc) return false;
  gc({ type: "major", execution: "sync", flavor: "last-resort" });
  return true;
}

/**
 * The daemon shrinks its heap itself, at the moments it knows garbage was made (after a whole
 * cycle, after the billing audit: `collectGarbage`), so V8's memory reducer is turned off: it
 * otherwise collects the whole heap again and again while the daemon is idle (twice within ~4
 * minutes of the audit at 5,000 customers, ~400 ms of CPU each, for 2 MB). And the collections V8
 * makes on its own favour memory, as a one-shot reconcile's do (`favourMemory`). Never throws.
 */
export function shrinkHeapOnlyWhenAsked(): void {
  try {
    // read at each of the reducer's steps (`--no-memory-reducer` is read only as the heap is set up)
    setFlagsFromString("--memory-reducer-gc-count=0");
    favourMemory();
  } catch {
    // a runtime without the flags keeps V8's own policy
  }
}
