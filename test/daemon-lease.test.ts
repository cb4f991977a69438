import { pino } from "pino";
import { describe, expect, it, onTestFinished } from "vitest";
import { systemClock } from "../src/adapters/clock-system.ts";
import { openStateStore } from "../src/adapters/state-sqlite/open-state-store.ts";
import { createDeps } from "../src/app/deps.ts";
import type { DaemonControl } from "../src/daemon/http-server.ts";
import { createMetrics } from "../src/daemon/metrics.ts";
import { DAEMON_LEASE_TTL_MS, runDaemon } from "../src/daemon/run-daemon.ts";
import { reconcileWorld } from "./helpers/reconcile-world.ts";

// The daemon renews its lease at its own steps instead of waking every 10 s for it: the lease it
// holds lasts long enough that an idle daemon at the shipped 60 s interval is never woken for it.

describe("the daemon's lease", () => {
  it("is one another host's writer cannot take 3 minutes on (a CLI command's expires after 30 s)", { timeout: 60_000 }, async () => {
    const w = await reconcileWorld();
    const stop = new AbortController();
    let listening!: (d: { url: string; control: DaemonControl }) => void;
    const started = new Promise<{ url: string; control: DaemonControl }>((resolve) => (listening = resolve));
    const exited = runDaemon(
      {
        repo: ".", intervalMs: 3_600_000, pollIntervalMs: 3_600_000, listen: { host: "127.0.0.1", port: 0 }, allowMassRemoval: false, sandbox: false,
        settleMs: 0, connectwise: { concurrency: 8, ratePerSecond: 1000, burst: 1000 },
      },
      { io: createDeps({ stdout: () => undefined, stderr: () => undefined, env: w.env, cwd: w.repo.dir }), log: pino({ level: "silent" }), metrics: createMetrics(), clock: systemClock, stop: stop.signal, onListening: listening },
    );
    onTestFinished(async () => {
      stop.abort();
      await exited;
    });
    const { control } = await started;
    expect((await control.reconcileNow("test")).ok).toBe(true);
    const store = openStateStore(w.stateDir);
    onTestFinished(() => store.close());
    const now = Date.now();
    // a CLI command's lease (30 s) would have expired by then; the daemon's has not
    expect(DAEMON_LEASE_TTL_MS).toBeGreaterThanOrEqual(3 * 66_000);
    expect(store.acquireLease("7@another-host", 30_000, now + 3 * 60_000)).toMatchObject({ ok: false, holder: expect.stringMatching(/^\d+@/) });
    stop.abort();
    expect(await exited).toBe(0);
  });
});
