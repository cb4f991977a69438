/** The oldest Node.js cwsync runs on: node:sqlite without a flag, and the current LTS lines. */
export const MIN_NODE = "22.13.0";

/**
 * Why this Node.js cannot run cwsync, as one line, or undefined when it can. Kept free of imports:
 * it must run on any Node, so that an old one prints this instead of a stack trace.
 */
export function nodeVersionProblem(version: string, execPath: string): string | undefined {
  const have = version.replace(/^v/, "").split(".").map((p) => Number.parseInt(p, 10));
  const need = MIN_NODE.split(".").map(Number);
  for (let i = 0; i < need.length; i++) {
    const h = have[i] ?? 0;
    if (Number.isNaN(h)) break;
    if (h > need[i]!) return undefined;
    if (h < need[i]!) {
      return `needs Node.js ${MIN_NODE.replace(/\.0$/, "")} or newer (22, 24 and 26 are tested); this is Node.js ${version.replace(/^v/, "")} (${execPath}). Install a current Node.js LTS and run cwsync with it.`;
    }
  }
  return undefined;
}
