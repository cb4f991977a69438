import { createRequire } from "node:module";
import type { DatabaseSync, StatementResultingChanges } from "node:sqlite";

export type { DatabaseSync } from "node:sqlite";

/** A prepared statement with its parameter and row types (node:sqlite's own types are untyped records). */
export interface Statement<P extends unknown[], R> {
  run(...params: P): StatementResultingChanges;
  get(...params: P): R | undefined;
  all(...params: P): R[];
  iterate(...params: P): IterableIterator<R>;
}

const require = createRequire(import.meta.url);
let sqlite: typeof import("node:sqlite") | undefined;

/**
 * node:sqlite, loaded on first use without its "experimental feature" warning: the warning is
 * about the API's stability, which our own tests cover, and a user reading it on every command
 * would think something is wrong with their state. Every other warning still reaches stderr.
 */
export function loadSqlite(): typeof import("node:sqlite") {
  if (sqlite) return sqlite;
  const emit = process.emitWarning;
  process.emitWarning = function filtered(this: unknown, warning: string | Error, ...rest: unknown[]) {
    const type = typeof rest[0] === "string" ? rest[0] : (rest[0] as { type?: string } | undefined)?.type;
    const text = typeof warning === "string" ? warning : warning.message;
    if ((type === "ExperimentalWarning" || (warning as Error).name === "ExperimentalWarning") && /SQLite/i.test(text)) return;
    return (emit as (...a: unknown[]) => void).call(process, warning, ...rest);
  } as typeof process.emitWarning;
  try {
    sqlite = require("node:sqlite") as typeof import("node:sqlite");
  } finally {
    process.emitWarning = emit;
  }
  return sqlite;
}

export function prepare<P extends unknown[] = [], R = never>(db: DatabaseSync, sql: string): Statement<P, R> {
  return db.prepare(sql) as unknown as Statement<P, R>;
}

/** A pragma's single value (`PRAGMA journal_mode = WAL` answers the mode now in force). */
export function pragma(db: DatabaseSync, text: string): unknown {
  const row = db.prepare(`PRAGMA ${text}`).get() as Record<string, unknown> | undefined;
  return row === undefined ? undefined : Object.values(row)[0];
}

/**
 * Runs `fn` in a `BEGIN IMMEDIATE` transaction: the write lock is taken before `fn` reads, so
 * what it reads cannot change under it before it commits. Rolls back when `fn` or the commit
 * throws (a full disk fails at COMMIT), and rethrows.
 */
export function immediate<T>(db: DatabaseSync, fn: () => T): T {
  db.exec("BEGIN IMMEDIATE");
  try {
    const result = fn();
    db.exec("COMMIT");
    return result;
  } catch (e) {
    try {
      db.exec("ROLLBACK");
    } catch {
      // SQLite already rolled back (some errors, SQLITE_FULL among them, end the transaction themselves).
    }
    throw e;
  }
}
