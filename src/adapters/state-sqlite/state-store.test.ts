import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cursorKey, isStoredJson, keepStoredJson, LeaseLostError, storedJson, type CustomerRecord, type LedgerEntry, type StateStore } from "../../ports/state-store.ts";
import { cwsyncVersion } from "../../version.ts";
import { LATEST_SCHEMA_VERSION } from "./migrations.ts";
import { openStateStore } from "./open-state-store.ts";
import { loadSqlite, pragma } from "./sqlite-driver.ts";

const rawDb = (file: string, readOnly = false) => new (loadSqlite().DatabaseSync)(file, { readOnly });

const T0 = Date.UTC(2025, 7, 10, 9);
const HOST = hostname();
const TTL = 30_000;

const dirs: string[] = [];
const stores: StateStore[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) {
    try {
      s.close();
    } catch {
      // already closed by the test
    }
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "cwsync-state-"));
  dirs.push(dir);
  return dir;
}
function open(dir: string): StateStore {
  const s = openStateStore(dir);
  stores.push(s);
  return s;
}
/** A fresh store with the lease held by this process. */
function held(dir = tempDir()): { s: StateStore; token: number; dir: string } {
  const s = open(dir);
  const r = s.acquireLease(`${process.pid}@${HOST}`, TTL, T0);
  if (!r.ok) throw new Error("lease not taken");
  return { s, token: r.token, dir };
}

const customer = (name: string, extra: Partial<CustomerRecord> = {}): CustomerRecord => ({
  name,
  file: `customers/${name}.yaml`,
  status: { state: "ready", reason: "ok", message: "ready to send", since: "2025-08-01T00:00:00.000Z" },
  ...extra,
});
const entry = (key: string, extra: Partial<LedgerEntry> = {}): LedgerEntry => ({
  key,
  customer: "acme",
  report: "billing",
  periodKey: "2025-07",
  trigger: "schedule",
  state: "open",
  dueAt: "2025-08-01T06:00:00.000Z",
  attempts: 0,
  createdAt: "2025-08-01T06:00:01.000Z",
  updatedAt: "2025-08-01T06:00:01.000Z",
  ...extra,
});
const keyOf = (i: number) => `cws-${i.toString(16).padStart(10, "0")}`;

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  const pid = child.pid!;
  await new Promise((resolve) => child.once("exit", resolve));
  return pid;
}

describe("state store records", () => {
  it("round-trips customers exactly, absent fields stay absent, sorted by name, upserted", () => {
    const { s, token } = held();
    const full = customer("zeta", {
      appliedRevision: "abc123",
      attemptedRevision: "def456",
      config: { company: { id: 250 }, reports: { billing: { enabled: true, lines: [1, 2.5, "x", null] } } },
      configHash: "e3b0c442",
      firstAppliedAt: "2025-01-01T00:00:00.000Z",
      removedAt: "2025-08-09T00:00:00.000Z",
      status: { state: "invalid", reason: "config.invalid", message: "bad", location: "customers/zeta.yaml:3:5", since: "2025-08-09T00:00:00.000Z" },
      observed: { company: { id: 250, name: "Zeta" }, agreements: [] },
      observedAt: "2025-08-09T01:00:00.000Z",
      lastError: { at: "2025-08-09T02:00:00.000Z", message: "timed out" },
    });
    const bare = customer("acme", { config: null });
    s.putCustomers([full, bare], token);
    expect(s.customers()).toEqual([bare, full]);
    expect(s.customer("zeta")).toStrictEqual(full);
    const back = s.customer("acme")!;
    expect(Object.keys(back).sort()).toEqual(["config", "file", "name", "status"]);
    expect(back.config).toBeNull();
    expect(s.customer("nobody")).toBeUndefined();

    const { removedAt: _gone, ...restored } = { ...full, status: { ...full.status, state: "ready" as const, reason: "ok" } };
    s.putCustomers([restored], token);
    expect(s.customer("zeta")).toStrictEqual(restored);
    expect(s.customers()).toHaveLength(2);
  });

  it("writes all customers of a batch or none", () => {
    const { s, token } = held();
    const broken = { name: "b", file: "customers/b.yaml" } as CustomerRecord; // no status: NOT NULL fails
    expect(() => s.putCustomers([customer("a"), broken], token)).toThrow();
    expect(s.customers()).toEqual([]);
  });

  it("round-trips cursors keyed by cursorKey, replacing by customer and report", () => {
    const { s, token } = held();
    s.setCursors([{ customer: "acme", report: "billing", at: "2025-07-01T00:00:00.000Z" }, { customer: "acme", report: "emailSecurity", at: "2025-06-01T00:00:00.000Z" }], token);
    s.setCursors([{ customer: "acme", report: "billing", at: "2025-08-01T00:00:00.000Z" }], token);
    expect(s.cursors()).toEqual(new Map([
      [cursorKey("acme", "billing"), "2025-08-01T00:00:00.000Z"],
      [cursorKey("acme", "emailSecurity"), "2025-06-01T00:00:00.000Z"],
    ]));
  });

  it("round-trips ledger entries, replaces by key, lists a customer's newest first", () => {
    const { s, token } = held();
    const a = entry(keyOf(1), { payload: { lines: [{ qty: 42 }] }, dueAt: "2025-07-01T06:00:00.000Z" });
    s.putLedger(a, token);
    const done = { ...a, state: "done" as const, result: { ticketId: 9 }, error: "first try timed out", attempts: 2, updatedAt: "2025-07-01T06:05:00.000Z" };
    s.putLedger(done, token);
    s.putLedger(entry(keyOf(2), { dueAt: "2025-08-01T06:00:00.000Z", createdAt: "2025-08-01T06:00:01.000Z" }), token);
    s.putLedger(entry(keyOf(3), { dueAt: "2025-08-01T06:00:00.000Z", createdAt: "2025-08-02T00:00:00.000Z", trigger: "send-now" }), token);
    s.putLedger(entry(keyOf(4), { customer: "other" }), token);

    expect(s.ledgerEntries([keyOf(1), "cws-missing"])).toStrictEqual([done]);
    expect(Object.keys(s.ledgerEntries([keyOf(2)])[0]!)).not.toContain("payload");
    expect(s.ledgerOf("acme").map((e) => e.key)).toEqual([keyOf(3), keyOf(2), keyOf(1)]);
    expect(s.ledgerOf("acme", 1).map((e) => e.key)).toEqual([keyOf(3)]);
    expect(s.ledgerStates([keyOf(1), keyOf(2), "cws-missing"])).toEqual(new Map([[keyOf(1), "done"], [keyOf(2), "open"]]));
    expect(s.ledgerStates([])).toEqual(new Map());
  });

  it("finds 1,200 entries among 40,000 asked-for keys", () => {
    const { s, token } = held();
    for (let i = 0; i < 1200; i++) s.putLedger(entry(keyOf(i * 3)), token);
    const asked = Array.from({ length: 40_000 }, (_, i) => keyOf(i));
    const found = s.ledgerEntries(asked);
    expect(found).toHaveLength(1200);
    expect(found.map((e) => e.key).sort()).toEqual(Array.from({ length: 1200 }, (_, i) => keyOf(i * 3)));
    expect(s.ledgerEntries([])).toEqual([]);
  });

  it("lists unfinished entries (open, unknown, failed) oldest first, then by key", () => {
    const { s, token } = held();
    const at = (d: number) => `2025-0${d}-01T06:00:00.000Z`;
    s.putLedger(entry("k-e", { state: "failed", dueAt: at(3) }), token);
    s.putLedger(entry("k-d", { state: "done", dueAt: at(1) }), token);
    s.putLedger(entry("k-c", { state: "unknown", dueAt: at(2) }), token);
    s.putLedger(entry("k-b", { state: "open", dueAt: at(2) }), token);
    s.putLedger(entry("k-m", { state: "missed", dueAt: at(1) }), token);
    s.putLedger(entry("k-s", { state: "skipped", dueAt: at(1) }), token);
    s.putLedger(entry("k-a", { state: "open", dueAt: at(4) }), token);
    expect(s.unfinishedEntries().map((e) => e.key)).toEqual(["k-b", "k-c", "k-e", "k-a"]);
  });

  it("appends journal entries with increasing seq, newest first, per customer, limited", () => {
    const { s, token } = held();
    s.appendJournal([
      { at: "2025-08-10T09:00:00.000Z", kind: "reconcile", message: "reconcile started" },
      { at: "2025-08-10T09:00:01.000Z", customer: "acme", kind: "send", message: "report sent", data: { ticketId: 9, lines: [1] } },
    ], token);
    s.appendJournal([{ at: "2025-08-10T09:00:02.000Z", customer: "beta", kind: "state", message: "state changed", data: null }], token);
    const all = s.journal();
    expect(all.map((e) => e.message)).toEqual(["state changed", "report sent", "reconcile started"]);
    expect(all[0]!.seq! > all[1]!.seq! && all[1]!.seq! > all[2]!.seq!).toBe(true);
    expect(all[1]).toStrictEqual({ seq: all[1]!.seq, at: "2025-08-10T09:00:01.000Z", customer: "acme", kind: "send", message: "report sent", data: { ticketId: 9, lines: [1] } });
    expect(Object.keys(all[2]!).sort()).toEqual(["at", "kind", "message", "seq"]);
    expect(all[0]!.data).toBeNull();
    expect(s.journal({ customer: "acme" }).map((e) => e.message)).toEqual(["report sent"]);
    expect(s.journal({ limit: 1 }).map((e) => e.message)).toEqual(["state changed"]);
  });

  it("round-trips meta values", () => {
    const { s, token } = held();
    expect(s.getMeta("repo.url")).toBeUndefined();
    s.setMeta("repo.url", "git@example.com:msp/customers.git", token);
    s.setMeta("repo.url", "https://example.com/msp/customers.git", token);
    expect(s.getMeta("repo.url")).toBe("https://example.com/msp/customers.git");
  });
});

describe("state store files", () => {
  it("creates the directory, migrates to the latest version, and keeps data when reopened", () => {
    const dir = join(tempDir(), "nested", "state");
    const { s, token } = held(dir);
    expect(s.schemaVersion).toBe(LATEST_SCHEMA_VERSION);
    s.putLedger(entry(keyOf(1)), token);
    s.close();

    const raw = rawDb(join(dir, "state.db"));
    expect(pragma(raw, "user_version")).toBe(LATEST_SCHEMA_VERSION);
    expect(pragma(raw, "journal_mode")).toBe("wal");
    raw.close();

    const again = open(dir);
    expect(again.schemaVersion).toBe(LATEST_SCHEMA_VERSION);
    expect(again.ledgerEntries([keyOf(1)])).toEqual([entry(keyOf(1))]);
    const r = again.acquireLease(`${process.pid}@${HOST}`, TTL, T0 + 1);
    expect(r).toEqual({ ok: true, token: token + 1 });
  });

  it("refuses a state directory written by a newer cwsync, naming the version it needs", () => {
    const dir = tempDir();
    open(dir).close();
    const raw = rawDb(join(dir, "state.db"));
    pragma(raw, `user_version = ${LATEST_SCHEMA_VERSION + 1}`);
    raw.prepare("UPDATE meta SET value = '9.4.0' WHERE key = 'schema.writtenBy'").run();
    raw.close();

    expect(() => openStateStore(dir)).toThrow(
      `the state in ${dir} was written by cwsync 9.4.0 (state schema ${LATEST_SCHEMA_VERSION + 1}); this cwsync ${cwsyncVersion()} knows state schema up to ${LATEST_SCHEMA_VERSION}. Run cwsync 9.4.0 or newer`,
    );
    const after = rawDb(join(dir, "state.db"));
    expect(pragma(after, "user_version")).toBe(LATEST_SCHEMA_VERSION + 1);
    after.close();
  });

  it("lets two stores on one directory (two processes) see each other's commits", () => {
    const { s: first, token, dir } = held();
    const second = open(dir);
    first.putLedger(entry(keyOf(7), { state: "done" }), token);
    expect(second.ledgerEntries([keyOf(7)])[0]?.state).toBe("done");

    first.releaseLease(token);
    const r = second.acquireLease(`other@${HOST}`, TTL, T0);
    if (!r.ok) throw new Error("lease not taken");
    second.appendJournal([{ at: "2025-08-10T09:00:00.000Z", kind: "lease", message: "lease taken" }], r.token);
    expect(first.journal().map((e) => e.message)).toEqual(["lease taken"]);
  });

  it("keeps customers and cursors in memory between reads, and sees another store's commits to them at once", () => {
    const { s: first, token, dir } = held();
    const second = open(dir);
    first.putCustomers([customer("acme"), customer("globex")], token);
    first.setCursors([{ customer: "acme", report: "billing", at: "2025-08-01T06:00:00.000Z" }], token);
    // read twice, unchanged: the same records (no re-read), frozen against changes by a caller
    expect(second.customers()).toBe(second.customers());
    expect(Object.isFrozen(second.customers()[0])).toBe(true);
    expect(second.cursors().get(cursorKey("acme", "billing"))).toBe("2025-08-01T06:00:00.000Z");

    first.putCustomers([customer("acme", { lastError: { at: "2025-08-10T09:00:00.000Z", message: "boom" } })], token);
    first.setCursors([{ customer: "acme", report: "billing", at: "2025-09-01T06:00:00.000Z" }], token);
    expect(second.customer("acme")?.lastError?.message).toBe("boom");
    expect(second.cursors().get(cursorKey("acme", "billing"))).toBe("2025-09-01T06:00:00.000Z");
    // its own writes, as a re-read would return them
    expect(first.customers().map((c) => c.name)).toEqual(["acme", "globex"]);
    expect(first.customer("acme")).toEqual(open(dir).customer("acme"));
  });

  it("keeps no stored record's observed text: compares by digest, reads it again by name, and writes a kept one as stored", () => {
    const { s, token, dir } = held();
    const observed = { company: { state: "found", id: 7 }, mappings: [{ product: "hes", message: "on “Default” — ok" }] };
    s.putCustomers([customer("acme", { observed, config: { name: "acme" } }), customer("globex")], token);
    const stored = open(dir).customer("acme")!;
    expect(stored.observed).toEqual(observed);
    expect(isStoredJson(stored, "observed", JSON.stringify(observed))).toBe(true);
    expect(isStoredJson(stored, "observed", JSON.stringify({ ...observed, company: { state: "found", id: 8 } }))).toBe(false);
    expect(isStoredJson(stored, "observed", undefined)).toBe(false);
    expect(isStoredJson(open(dir).customer("globex"), "observed", undefined)).toBe(true);
    expect(storedJson(open(dir).customer("acme"), "observed")).toBe(JSON.stringify(observed));

    // a new record keeping the stored observation: written as the stored text, never parsed for it
    const fresh = open(dir).customer("acme")!;
    const next: CustomerRecord = { ...customer("acme", { status: { state: "failing", reason: "send.failed", message: "m", since: "2025-08-02T00:00:00.000Z" } }) };
    Object.defineProperty(next, "observed", { enumerable: true, get: () => fresh.observed });
    keepStoredJson(next, "observed", fresh);
    const parse = JSON.parse;
    let parsed = 0;
    JSON.parse = ((...a: Parameters<typeof JSON.parse>) => (parsed++, parse(...a))) as typeof JSON.parse;
    try {
      s.putCustomers([next], token);
    } finally {
      JSON.parse = parse;
    }
    expect(parsed).toBe(0);
    const again = open(dir).customer("acme")!;
    expect(again.status.state).toBe("failing");
    expect(again.observed).toEqual(observed);
    const raw = rawDb(join(dir, "state.db"), true);
    expect(raw.prepare("SELECT observed FROM customers WHERE name = 'acme'").get()).toEqual({ observed: JSON.stringify(observed) });
    raw.close();
  });

  it("throws on use after close", () => {
    const s = open(tempDir());
    s.close();
    expect(() => s.customers()).toThrow(/finalized|not open/);
  });

  // speed is measured by `npm run bench`, not asserted here (timed tests flake on shared machines)
  it("commits 5,000 customers in one call and 500 separate ledger writes, all readable", () => {
    const { s, token } = held();
    s.putCustomers(Array.from({ length: 5000 }, (_, i) => customer(`c-${i}`, { config: { id: i, note: "x".repeat(200) } })), token);
    for (let i = 0; i < 500; i++) s.putLedger(entry(keyOf(i), { payload: { qty: i } }), token);
    expect(s.customers()).toHaveLength(5000);
    expect(s.ledgerEntries(Array.from({ length: 500 }, (_, i) => keyOf(i))).map((e) => (e.payload as { qty: number }).qty).sort((a, b) => a - b)).toEqual(Array.from({ length: 500 }, (_, i) => i));
  });
});

describe("state lease", () => {
  it("refuses a second holder, naming the holder and its times", () => {
    const { s } = held();
    expect(s.acquireLease(`4242@${HOST}`, TTL, T0 + 1000)).toEqual({
      ok: false,
      holder: `${process.pid}@${HOST}`,
      acquiredAt: new Date(T0).toISOString(),
      expiresAt: new Date(T0 + TTL).toISOString(),
    });
  });

  it("is taken when expired, with the next token, and the token survives release", () => {
    const { s, token } = held();
    expect(s.acquireLease(`1@elsewhere`, TTL, T0 + TTL)).toEqual({ ok: true, token: token + 1 });
    s.releaseLease(token + 1);
    expect(s.acquireLease(`2@elsewhere`, TTL, T0 + TTL)).toEqual({ ok: true, token: token + 2 });
    expect(s.acquireLease(`2@elsewhere`, TTL, T0 + TTL + 1)).toEqual({ ok: true, token: token + 3 });
  });

  it("is taken from a process of this host that no longer runs, not from a live one or another host's", async () => {
    const pid = await deadPid();
    const s = open(tempDir());
    expect(s.acquireLease(`${pid}@elsewhere`, TTL, T0).ok).toBe(true);
    expect(s.acquireLease(`${process.pid}@${HOST}`, TTL, T0).ok).toBe(false);

    const t = open(tempDir());
    expect(t.acquireLease(`${process.pid}@${HOST}`, TTL, T0).ok).toBe(true);
    expect(t.acquireLease(`${process.pid + 1}@${HOST}`, TTL, T0).ok).toBe(false);

    const u = open(tempDir());
    const first = u.acquireLease(`${pid}@${HOST}`, TTL, T0);
    expect(u.acquireLease(`${process.pid}@${HOST}`, TTL, T0 + 1)).toEqual({ ok: true, token: first.ok && first.token + 1 });
  });

  it("renews only with the current token", () => {
    const { s, token } = held();
    expect(s.renewLease(token, TTL, T0 + TTL - 1)).toBe(true);
    expect(s.acquireLease(`9@elsewhere`, TTL, T0 + TTL + 1).ok).toBe(false);
    expect(s.renewLease(token + 1, TTL, T0 + TTL)).toBe(false);
    s.releaseLease(token + 1);
    expect(s.acquireLease(`9@elsewhere`, TTL, T0 + TTL + 1).ok).toBe(false);
    s.releaseLease(token);
    expect(s.renewLease(token, TTL, T0)).toBe(false);
    expect(s.acquireLease(`9@elsewhere`, TTL, T0 + 1)).toEqual({ ok: true, token: token + 1 });
  });

  it("fences every write of a holder whose lease was taken over, writing nothing", () => {
    const { s: old, token: stale, dir } = held();
    old.putCustomers([customer("acme")], stale);
    const next = open(dir);
    const r = next.acquireLease(`7@elsewhere`, TTL, T0 + TTL);
    if (!r.ok) throw new Error("lease not taken");

    const writes: [string, () => void][] = [
      ["setMeta", () => old.setMeta("k", "v", stale)],
      ["putCustomers", () => old.putCustomers([customer("acme", { configHash: "new" }), customer("beta")], stale)],
      ["setCursors", () => old.setCursors([{ customer: "acme", report: "billing", at: "2025-08-01T00:00:00.000Z" }], stale)],
      ["putLedger", () => old.putLedger(entry(keyOf(1)), stale)],
      ["appendJournal", () => old.appendJournal([{ at: "2025-08-10T09:00:00.000Z", kind: "send", message: "report sent" }], stale)],
    ];
    for (const [name, write] of writes) {
      let thrown: unknown;
      try {
        write();
      } catch (e) {
        thrown = e;
      }
      expect(thrown, name).toBeInstanceOf(LeaseLostError);
      expect((thrown as LeaseLostError).current, name).toBe(r.token);
    }
    expect(next.getMeta("k")).toBeUndefined();
    expect(next.customers()).toEqual([customer("acme")]);
    expect(next.cursors().size).toBe(0);
    expect(next.ledgerEntries([keyOf(1)])).toEqual([]);
    expect(next.journal()).toEqual([]);
    old.releaseLease(stale);
    expect(next.renewLease(r.token, TTL, T0 + TTL)).toBe(true);

    next.releaseLease(r.token);
    expect(() => next.putLedger(entry(keyOf(2)), r.token)).toThrow(LeaseLostError);
    expect(next.ledgerEntries([keyOf(2)])).toEqual([]);
  });
});
