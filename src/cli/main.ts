#!/usr/bin/env node
// The executable. Its only static import is the version check: on a Node.js too old for cwsync,
// loading the rest could fail with a stack trace before any check ran.
import { nodeVersionProblem } from "./node-version.ts";

const problem = nodeVersionProblem(process.versions.node, process.execPath);
if (problem) {
  process.stderr.write(`cwsync: ${problem}\n`);
  process.exitCode = 1;
} else {
  // `cwsync status | head`: a reader that went away is not an error of ours.
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code !== "EPIPE") throw e;
  });
  // the dashboard's React: the production build unless asked otherwise (the development one re-checks every prop)
  process.env.NODE_ENV ??= "production";
  const [{ main }, { processIO }] = await Promise.all([import("./cli-main.ts"), import("../app/io.ts")]);
  process.exitCode = await main(process.argv.slice(2), processIO());
}
