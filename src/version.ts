import { readFileSync } from "node:fs";

let cached: string | undefined;

/** This cwsync's version from package.json (one level up from both `src/` and `dist/`). */
export function cwsyncVersion(): string {
  if (cached === undefined) {
    try {
      const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version?: unknown };
      cached = typeof pkg.version === "string" ? pkg.version : "unknown";
    } catch {
      // A missing package.json must not stop the state store from opening; the version only labels messages.
      cached = "unknown";
    }
  }
  return cached;
}
