import { describe, expect, it } from "vitest";
import { nodeVersionProblem } from "./node-version.ts";

describe("nodeVersionProblem", () => {
  it("accepts 22.13 and every newer Node", () => {
    for (const v of ["22.13.0", "v22.13.0", "22.13.1", "22.23.3", "23.0.0", "24.21.0", "26.10.0", "30.0.0-pre"]) {
      expect(nodeVersionProblem(v, "/usr/bin/node"), v).toBeUndefined();
    }
  });

  it("refuses older ones in one line naming the version needed, the version found and the binary", () => {
    for (const v of ["20.20.2", "22.12.0", "22.5.1", "18.20.8", "21.7.3"]) {
      const problem = nodeVersionProblem(v, "/usr/bin/node");
      expect(problem, v).toBe(
        `needs Node.js 22.13 or newer (22, 24 and 26 are tested); this is Node.js ${v} (/usr/bin/node). Install a current Node.js LTS and run cwsync with it.`,
      );
      expect(problem).not.toContain("\n");
    }
  });
});
