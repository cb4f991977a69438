import { mkdtempSync, openSync, rmSync, writeFileSync, writeSync, closeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { StateUnavailableError } from "../../errors.ts";
import { openStateStore } from "./open-state-store.ts";
import { loadSqlite } from "./sqlite-driver.ts";
import { probeDatabase, stateFailure } from "./state-failure.ts";

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "cwsync-state-failure-"));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** What node:sqlite throws for `sql` on a fresh database set up by `setup`. */
function sqliteError(setup: string, sql: string, options: { readOnly?: boolean } = {}): unknown {
  const { DatabaseSync } = loadSqlite();
  const file = join(tempDir(), "x.db");
  const w = new DatabaseSync(file);
  w.exec(setup);
  w.close();
  const db = new DatabaseSync(file, options);
  try {
    db.exec(sql);
  } catch (e) {
    return e;
  } finally {
    db.close();
  }
  throw new Error("no error");
}

describe("stateFailure", () => {
  it("names the file and the cause of what node:sqlite throws: full, read-only, not a database", () => {
    const full = stateFailure(sqliteError("CREATE TABLE t (x)", "PRAGMA max_page_count = 2; INSERT INTO t VALUES (randomblob(100000))"), "/s/state.db");
    expect(full).toBeInstanceOf(StateUnavailableError);
    expect(full?.reason).toBe("disk full");
    expect(full?.message).toMatch(/^the state \/s\/state\.db cannot be used: the disk is full: free space on its file system \(SQLite: database or disk is full\)/);

    const ro = stateFailure(sqliteError("CREATE TABLE t (x)", "INSERT INTO t VALUES (1)", { readOnly: true }), "/s/state.db");
    expect(ro?.reason).toBe("read-only");
    expect(ro?.message).toContain("it is read-only: make the state directory and state.db writable");

    const dir = tempDir();
    writeFileSync(join(dir, "state.db"), Buffer.alloc(8192, 0x41));
    let notadb: unknown;
    try {
      openStateStore(dir);
    } catch (e) {
      notadb = e;
    }
    expect(notadb).toBeInstanceOf(StateUnavailableError);
    expect((notadb as StateUnavailableError).reason).toBe("corrupt");
    expect((notadb as Error).message).toBe(`the state ${join(dir, "state.db")} cannot be used: it is corrupt (not a database, or a damaged page): stop cwsync and restore state.db from a backup (SQLite: file is not a database)`);
  });

  it("leaves other errors alone: a bug, a busy database", () => {
    expect(stateFailure(new TypeError("x is undefined"), "/s/state.db")).toBeUndefined();
    expect(stateFailure(Object.assign(new Error("database is locked"), { code: "ERR_SQLITE_ERROR", errcode: 5, errstr: "database is locked" }), "/s/state.db")).toBeUndefined();
    expect(stateFailure(Object.assign(new Error("no space"), { code: "ENOSPC" }), "/s/state.db")?.reason).toBe("disk full");
  });
});

describe("probeDatabase", () => {
  it("finds damaged pages that a cycle's reads may not touch, and a disk with no room left", () => {
    const { DatabaseSync } = loadSqlite();
    const file = join(tempDir(), "state.db");
    const db = new DatabaseSync(file);
    onTestFinished(() => db.close());
    db.exec("CREATE TABLE lease (id INTEGER PRIMARY KEY, expires_at TEXT); INSERT INTO lease VALUES (1, NULL); CREATE TABLE t (x)");
    for (let i = 0; i < 200; i++) db.prepare("INSERT INTO t VALUES (?)").run("y".repeat(200));
    expect(() => probeDatabase(db, file)).not.toThrow();
    expect(() => probeDatabase(db, file, () => 4096)).toThrow(/cannot be used: the disk is full.*4096 bytes free/);

    const fd = openSync(file, "r+");
    writeSync(fd, Buffer.alloc(4096 * 3, 0x5a), 0, 4096 * 3, 4096 * 2);
    closeSync(fd);
    const damaged = new DatabaseSync(file);
    onTestFinished(() => damaged.close());
    expect(() => probeDatabase(damaged, file)).toThrow(StateUnavailableError);
    expect(() => probeDatabase(damaged, file)).toThrow(/it is corrupt/);
  });
});
