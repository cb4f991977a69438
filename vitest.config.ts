import { availableParallelism } from "node:os";
import { configDefaults, defineConfig } from "vitest/config";

/**
 * The slow end-to-end files, each over ~15 s: the simulated month, the crashes and the daemon, and
 * the others that start many processes (the daemon, tmux, npm) or run whole reconciles against
 * the fakes with real waits. They run in a lane of their own (`npm run test:e2e`, its own step in
 * `.ci/run`); every other file is the fast lane (`npm run test:fast`). `npm test` runs both.
 */
const E2E_FILES = [
  "test/simulated-month.test.ts",
  "test/crash.test.ts",
  "test/daemon.test.ts",
  "test/secrets-nowhere.test.ts",
  "test/run-tui.test.ts",
  "test/package.test.ts",
  "test/reconcile-states.test.ts",
  "test/detections.test.ts",
  "test/state-failures.test.ts",
  "test/http-bounds.test.ts",
  // npm start and the daemon as processes
  "test/sandbox-faults.test.ts",
  "test/demo.test.ts",
  "test/rewind.test.ts",
  "test/run-credentials.test.ts",
];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    restoreMocks: true,
    // vitest's default is one worker fewer than the CPUs: one file at a time on a 2-core machine,
    // where most files wait on child processes, sockets and git rather than compute (`test:e2e`,
    // whose files mostly wait, runs three)
    maxWorkers: Math.max(2, availableParallelism() - 1),
    projects: [
      {
        extends: true,
        test: {
          name: "fast",
          include: ["src/**/*.test.ts", "src/**/*.test.tsx", "test/**/*.test.ts"],
          exclude: [...configDefaults.exclude, ...E2E_FILES],
        },
      },
      {
        extends: true,
        test: {
          name: "e2e",
          include: E2E_FILES,
        },
      },
    ],
  },
});
