import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { assembleLoad, loadConfig, loadCustomerFile, loadGlobalFile, type LoadedCustomer, type LoadResult, type SourceFile } from "../config/load.ts";
import type { CustomerFile } from "../config/model.ts";
import type { RevisionFiles } from "../ports/git-source.ts";
import { cwsyncVersion } from "../version.ts";
import { loadSqlite, type DatabaseSync } from "./state-sqlite/sqlite-driver.ts";

/**
 * The validated customer files of earlier runs, in the state directory (`config-cache.db`), so that
 * an unchanged file is not parsed and validated again (issue 16).
 *
 * Why a file of its own next to `state.db`, not a table in it: the cache is disposable and the
 * state is not. A table would need a schema migration (and an older cwsync refuses a newer
 * schema), would be copied by `cwsync state backup`, and its writes would take the state's write
 * lock and lease fencing; a lost or corrupt cache must cost one slower run, never the ledger. One
 * SQLite file (rather than one file per entry) is read with 5,000 indexed lookups in a few
 * milliseconds and written one row per changed file, by the daemon and a one-shot command alike.
 *
 * An entry is the validated data of one customer file that had no diagnostic at all, under a key
 * of everything that result depends on: the file's git blob id (computed from the text that is
 * parsed, so a plain folder gets the same key as a commit: the cache works in folder mode too),
 * its path (the customer's name comes from it), the blob id of `_global.yaml` (the catalogue and
 * settings the rules read), the cwsync version and a digest of the loader's own code (a change of
 * the schema or a rule is a new key, even within a version). A file with any diagnostic is never
 * cached: it is loaded as always, so its diagnostics are exactly what they were. The cross-file
 * rules still run over every file, cached or not, and the file's text is still there for them.
 *
 * Reading never fails a command: a missing, unreadable or corrupt cache is a cache with nothing
 * in it; writing (`flush`) that fails removes the file, to be built again by a later run.
 */
export const CONFIG_CACHE_FILE = "config-cache.db";

/** Bumped when what an entry holds changes. */
const FORMAT = "1";
/** How long a cache write waits for another process's (the daemon's) write. */
const BUSY_MS = 250;

let codeDigest: string | undefined;

/** A digest of the config loader's code (every file of `config/` next to this build): a new rule or schema is a new key. */
function loaderDigest(): string {
  if (codeDigest !== undefined) return codeDigest;
  const h = createHash("sha256").update(FORMAT).update("\0").update(cwsyncVersion()).update("\0");
  try {
    const dir = new URL("../config/", import.meta.url);
    for (const name of readdirSync(dir).sort()) {
      if (!/\.(c?js|ts|json)$/.test(name) || /\.test\./.test(name)) continue;
      h.update(name).update("\0").update(readFileSync(new URL(name, dir))).update("\0");
    }
  } catch {
    // a build without its sources to read: the version alone keys it (and a random part: nothing is reused)
    h.update(String(Math.random()));
  }
  codeDigest = h.digest("hex");
  return codeDigest;
}

/** Git's blob id of a text (`git hash-object`): the same for a commit's file and a folder's. */
export function blobIdOf(text: string): string {
  const bytes = Buffer.from(text, "utf8");
  return createHash("sha1").update(`blob ${bytes.length}\0`).update(bytes).digest("hex");
}

/** What `_global.yaml` contributes to a key: its blob id, or why it has none. */
function globalPart(source: SourceFile | undefined): string {
  if (!source) return "missing";
  if (source.text === undefined) return `unread:${source.size}:${source.notRegular ?? ""}`;
  return blobIdOf(source.text);
}

export interface ConfigCache {
  /** Hits and misses of the last `load` (for tests and the benchmark). */
  readonly stats: { hits: number; misses: number; stored: number };
  /** `loadConfig(files, globalPath)`'s result, the clean customer files taken from the cache. */
  load(files: RevisionFiles): LoadResult;
  /** A small named value kept with the cache (the last verification's inputs), or undefined. */
  hint(name: string): unknown;
  setHint(name: string, value: unknown): void;
  /** Writes what changed (nothing when nothing did); never throws. */
  flush(): void;
  close(): void;
}

interface Pending {
  entries: Map<string, string>;
  hints: Map<string, string>;
}

/**
 * The cache in `stateDir` (nothing is created until `flush` has something to write, and only in
 * a directory that exists: a dry run's caller simply never flushes).
 */
export function openConfigCache(stateDir: string): ConfigCache {
  const file = join(stateDir, CONFIG_CACHE_FILE);
  let db: DatabaseSync | undefined;
  let broken = false;
  const pending: Pending = { entries: new Map(), hints: new Map() };
  const used = new Set<string>();
  const stats = { hits: 0, misses: 0, stored: 0 };

  /** The open database, or undefined (no file yet, or unreadable: then it is treated as empty). */
  const reader = (): DatabaseSync | undefined => {
    if (db || broken) return db;
    if (!existsSync(file)) return undefined;
    try {
      db = openDb(file);
    } catch {
      broken = true;
    }
    return db;
  };
  /** The stored entries of these keys, in one query (none when there is no readable cache). */
  const lookup = (keys: readonly string[]): Map<string, string> => {
    const d = reader();
    if (!d || keys.length === 0) return new Map();
    try {
      const rows = d.prepare("SELECT key, config FROM entries WHERE key IN (SELECT value FROM json_each(?))").all(JSON.stringify(keys)) as { key: string; config: string }[];
      return new Map(rows.map((r) => [r.key, r.config]));
    } catch {
      broken = true;
      return new Map();
    }
  };

  return {
    stats,
    load(files) {
      stats.hits = stats.misses = stats.stored = 0;
      const { globalPath } = files;
      const globalSource = files.files.find((f) => f.path === globalPath);
      const globalLoaded = loadGlobalFile(globalSource, globalPath);
      const prefix = `${loaderDigest()}\0${globalPart(globalSource)}\0`;
      const keyOf = (source: SourceFile) => createHash("sha256").update(prefix).update(source.path).update("\0").update(blobIdOf(source.text!)).digest("hex");
      const cacheable = (source: SourceFile) => source !== globalSource && source.text !== undefined && source.notRegular === undefined;
      const keys = files.files.map((f) => (cacheable(f) ? keyOf(f) : undefined));
      for (const k of keys) if (k !== undefined) used.add(k);
      const stored = lookup(keys.filter((k): k is string => k !== undefined));
      const customers: LoadedCustomer[] = [];
      files.files.forEach((source, i) => {
        if (source === globalSource) return;
        const key = keys[i];
        const json = key === undefined ? undefined : stored.get(key);
        if (json !== undefined) {
          let config: CustomerFile | undefined;
          try {
            config = JSON.parse(json) as CustomerFile;
          } catch {
            config = undefined;
          }
          if (config !== undefined) {
            stats.hits++;
            const name = source.path.slice(source.path.lastIndexOf("/") + 1).replace(/\.yaml$/, "");
            // what loadCustomerFile gives a clean file (its anchors are computed from the text if a cross-file rule needs them)
            customers.push({ file: source.path, config, diagnostics: [], data: config, source, name });
            return;
          }
        }
        const loaded = loadCustomerFile(source, globalLoaded.config);
        if (key === undefined) {
          customers.push(loaded);
          return;
        }
        stats.misses++;
        if (loaded.config !== undefined && loaded.diagnostics.length === 0) {
          const text = JSON.stringify(loaded.config);
          // only what comes back from JSON exactly as it was (no NaN, no Infinity, no undefined)
          if (text !== undefined && isDeepStrictEqual(JSON.parse(text), loaded.config)) {
            pending.entries.set(key, text);
            stats.stored++;
          }
        }
        customers.push(loaded);
      });
      return assembleLoad(globalLoaded, customers, globalPath, globalSource !== undefined);
    },
    hint(name) {
      const fresh = pending.hints.get(name);
      if (fresh !== undefined) return JSON.parse(fresh) as unknown;
      const d = reader();
      if (!d) return undefined;
      try {
        const row = d.prepare("SELECT value FROM hints WHERE name = ?").get(name) as { value: string } | undefined;
        return row === undefined ? undefined : (JSON.parse(row.value) as unknown);
      } catch {
        return undefined;
      }
    },
    setHint(name, value) {
      const text = JSON.stringify(value);
      const d = reader();
      try {
        const row = d?.prepare("SELECT value FROM hints WHERE name = ?").get(name) as { value: string } | undefined;
        if (row?.value === text) return;
      } catch {
        // written below
      }
      pending.hints.set(name, text);
    },
    flush() {
      if (pending.entries.size === 0 && pending.hints.size === 0) return;
      if (!existsSync(stateDir)) return;
      const write = () => {
        db ??= openDb(file);
        const d = db;
        d.exec("BEGIN IMMEDIATE");
        try {
          const put = d.prepare("INSERT INTO entries (key, config) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET config = excluded.config");
          for (const [k, v] of pending.entries) put.run(k, v);
          // entries no file of this load uses any more go (the cache holds one revision's files, plus what changed)
          if (pending.entries.size > 0 && used.size > 0) d.prepare("DELETE FROM entries WHERE key NOT IN (SELECT value FROM json_each(?))").run(JSON.stringify([...used]));
          const hint = d.prepare("INSERT INTO hints (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value");
          for (const [k, v] of pending.hints) hint.run(k, v);
          d.exec("COMMIT");
        } catch (e) {
          try {
            d.exec("ROLLBACK");
          } catch {
            // already rolled back
          }
          throw e;
        }
      };
      try {
        if (broken) throw new Error("unreadable");
        write();
      } catch (e) {
        // busy (another process writes it): this run's entries are written by a later one
        if ((e as { errcode?: number }).errcode === 5) return;
        // unreadable or corrupt: removed, and built again from this run's entries
        try {
          db?.close();
        } catch {
          // closing a broken handle
        }
        db = undefined;
        broken = false;
        try {
          for (const f of [file, `${file}-wal`, `${file}-shm`, `${file}-journal`]) rmSync(f, { force: true });
          write();
        } catch {
          // a read-only or full state directory: the next run loads every file, as without a cache
          try {
            (db as DatabaseSync | undefined)?.close();
          } catch {
            // nothing more to do
          }
          db = undefined;
          broken = true;
        }
      } finally {
        pending.entries.clear();
        pending.hints.clear();
      }
    },
    close() {
      try {
        db?.close();
      } catch {
        // already closed
      }
      db = undefined;
    },
  };
}

/** No cache: every file is loaded (`loadConfig`), nothing is kept. */
export function noConfigCache(): ConfigCache {
  return {
    stats: { hits: 0, misses: 0, stored: 0 },
    load: (files) => loadConfig(files.files, files.globalPath),
    hint: () => undefined,
    setHint: () => undefined,
    flush: () => undefined,
    close: () => undefined,
  };
}

function openDb(file: string): DatabaseSync {
  const { DatabaseSync } = loadSqlite();
  const db = new DatabaseSync(file);
  try {
    db.exec(`PRAGMA busy_timeout = ${BUSY_MS}`);
    db.exec(`CREATE TABLE IF NOT EXISTS entries (key TEXT PRIMARY KEY, config TEXT NOT NULL) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS hints (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;`);
    return db;
  } catch (e) {
    db.close();
    throw e;
  }
}
