import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { FakeClock } from "../../test/helpers/fake-clock.ts";
import { openStateStore } from "../adapters/state-sqlite/open-state-store.ts";
import { withLease } from "./with-lease.ts";

/** Long enough that the renewal timer (a third of it, in real time) never fires during a test. */
const TTL = 600_000;
/** Another host's writer: it takes the lease only once it expired (no pid of this host to check). */
const OTHER = "7@another-host";

function fixture() {
  const dir = mkdtempSync(join(tmpdir(), "cwsync-lease-"));
  const store = openStateStore(dir);
  onTestFinished(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir, store, clock: new FakeClock() };
}

describe("withLease's renew, from the work's own wake-ups", () => {
  it("renews when the last renewal is an eighth of the TTL old: the lease then outlives its first expiry", async () => {
    const { dir, store, clock } = fixture();
    const t0 = clock.now();
    await withLease(store, clock, { stateDir: dir, ttlMs: TTL }, async (_token, signal, renew) => {
      await clock.sleep(TTL / 8);
      renew();
      expect(store.acquireLease(OTHER, TTL, t0 + TTL + 1).ok).toBe(false);
      expect(signal.aborted).toBe(false);
    });
  });

  it("does nothing sooner (the lease is not written at every step), so the lease expires as first set", async () => {
    const { dir, store, clock } = fixture();
    const t0 = clock.now();
    await withLease(store, clock, { stateDir: dir, ttlMs: TTL }, async (_token, _signal, renew) => {
      await clock.sleep(TTL / 8 - 1);
      renew();
      expect(store.acquireLease(OTHER, TTL, t0 + TTL + 1).ok).toBe(true);
    });
  });

  it("aborts the work when another writer took the lease meanwhile", async () => {
    const { dir, store, clock } = fixture();
    const t0 = clock.now();
    await withLease(store, clock, { stateDir: dir, ttlMs: TTL }, async (_token, signal, renew) => {
      expect(store.acquireLease(OTHER, TTL, t0 + TTL + 1).ok).toBe(true);
      await clock.sleep(TTL / 2);
      renew();
      expect(signal.aborted).toBe(true);
    });
  });
});
