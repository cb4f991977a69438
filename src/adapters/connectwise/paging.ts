import { ApiError } from "../../errors.ts";
import { readList, type Shape } from "./response-shapes.ts";
import type { ConnectWiseTransport, Query } from "./transport.ts";

export const PAGE_SIZE = 1000;
/** Pages read from one list before giving up: 500,000 rows is far beyond any list cwsync reads. */
export const MAX_PAGES = 500;

const listError = (path: string, apiMessage: string) =>
  new ApiError({ method: "GET", path, retryable: true, status: 200, code: "connectwise.unreadable", apiMessage });

/** The URL of `rel="next"` in an RFC 5988 `Link` header. */
export function nextLink(header: string | string[] | undefined): string | undefined {
  const v = Array.isArray(header) ? header.join(",") : header;
  if (!v) return undefined;
  for (const part of v.split(/,(?=\s*<)/)) {
    const m = /<([^>]*)>\s*;(.*)/.exec(part.trim());
    if (m && /rel\s*=\s*"?next"?/i.test(m[2])) return m[1];
  }
  return undefined;
}

/**
 * Every row of a list endpoint, 1,000 a page. Each page is our own URL with every parameter
 * (conditions included: a client that dropped them on page 2 restarted from the oldest rows);
 * only the page number is taken from `Link`, so a `Link` pointing elsewhere is never followed.
 */
export async function fetchAll<T>(
  transport: ConnectWiseTransport, path: string, query: Query, shape: Shape, signal?: AbortSignal, maxPages = MAX_PAGES,
): Promise<T[]> {
  const rows: T[] = [];
  let previous: string | undefined;
  for (let page = 1, count = 1; ; count++) {
    if (count > maxPages) {
      throw listError(path, `more than ${maxPages} pages of ${PAGE_SIZE} rows: stopped reading (a list that ignores \`page\` never ends)`);
    }
    const res = await transport.send("GET", path, { query: { ...query, pageSize: PAGE_SIZE, page }, signal });
    const batch = readList<T>(res.body, shape, "GET", path, res.status, (t) => transport.scrub(t));
    // a server that ignores `page` answers the same rows again: stop, do not count them twice
    const ids = batch.map((r) => (r as { id?: unknown }).id).join(",");
    if (batch.length > 0 && ids === previous) throw listError(path, `page ${page} repeats the rows of the page before: the server ignores \`page\``);
    previous = ids;
    rows.push(...batch);
    const next = nextLink(res.headers.link);
    const linked = next ? Number(new URL(next, "http://x/").searchParams.get("page")) : undefined;
    if (batch.length === 0 || (next === undefined && batch.length < PAGE_SIZE)) return rows;
    const following = linked && linked > page ? linked : page + 1;
    page = following;
  }
}

/**
 * Splits values into `in (…)` lists of at most `maxCount`, each keeping the request URL under
 * `maxUrl` characters (ConnectWise advises ~2,000; proxies cut longer ones).
 */
export function batches<T>(values: readonly T[], render: (v: T) => string, opts: { maxCount: number; budget: number }): T[][] {
  const out: T[][] = [];
  let current: T[] = [];
  let length = 0;
  for (const v of values) {
    // each value is URL-encoded in the query, plus a comma
    const cost = encodeURIComponent(render(v)).length + 3;
    if (current.length > 0 && (current.length >= opts.maxCount || length + cost > opts.budget)) {
      out.push(current);
      current = [];
      length = 0;
    }
    current.push(v);
    length += cost;
  }
  if (current.length) out.push(current);
  return out;
}

/** What a keyset read gave: the rows kept, and whether it reached the end of the list. */
export interface KeysetListing<T> {
  rows: T[];
  /** False when it stopped at `maxPages` before the end: the rows are a prefix of the list, not all of it. */
  complete: boolean;
  /** Rows read, kept or not. */
  seen: number;
  pages: number;
}

/**
 * Every row of a whole collection by keyset: `orderBy=id asc`, `page=1` each time, the first page
 * with no conditions and each next one with `conditions=id > <last id seen>`, so a row deleted
 * between two pages cannot shift another row out of the listing (as `page=N` would). `after`
 * (exclusive) and `upTo` (inclusive) read one id range only, as `id > a and id <= b`. Every page
 * must hold ids in strictly increasing order, inside the range, all above the last id of the page
 * before; anything else (a server that ignores `conditions` or `orderBy`) is
 * `connectwise.unreadable`. The list ends on an empty page, or a short one with no `rel="next"`.
 * `keep` picks the rows to return (the others are only counted), so a large collection is never
 * held in memory. After `maxPages` pages without an end it stops with `complete: false`.
 */
export async function fetchAllByKeyset<T extends { id: number }>(
  transport: ConnectWiseTransport, path: string, query: Omit<Query, "conditions" | "orderBy" | "page" | "pageSize">, shape: Shape,
  opts: { signal?: AbortSignal; maxPages?: number; keep?: (row: T) => boolean; after?: number; upTo?: number } = {},
): Promise<KeysetListing<T>> {
  const maxPages = Math.min(opts.maxPages ?? MAX_PAGES, MAX_PAGES);
  const { after, upTo } = opts;
  for (const bound of [after, upTo]) if (bound !== undefined && !Number.isSafeInteger(bound)) throw new TypeError(`not a whole id: ${bound}`);
  const rows: T[] = [];
  let last = after;
  let seen = 0;
  for (let pages = 0; ; ) {
    if (pages >= maxPages) return { rows, complete: false, seen, pages };
    const conditions = [last === undefined ? "" : `id > ${last}`, upTo === undefined ? "" : `id <= ${upTo}`].filter(Boolean).join(" and ");
    const res = await transport.send("GET", path, {
      query: { ...query, ...(conditions ? { conditions } : {}), orderBy: "id asc", pageSize: PAGE_SIZE, page: 1 }, signal: opts.signal,
    });
    pages++;
    const batch = readList<T>(res.body, shape, "GET", path, res.status, (t) => transport.scrub(t));
    for (const row of batch) {
      if (!Number.isSafeInteger(row.id)) throw listError(path, `id ${row.id} is not a whole number`);
      if ((last !== undefined && row.id <= last) || (upTo !== undefined && row.id > upTo)) {
        throw listError(path, `id ${row.id} in a listing of ${conditions || "every row"} ordered by id, after id ${last}: ids do not advance (the server ignores \`conditions\` or \`orderBy\`)`);
      }
      last = row.id;
      seen++;
      if (!opts.keep || opts.keep(row)) rows.push(row);
    }
    if (batch.length === 0 || (batch.length < PAGE_SIZE && nextLink(res.headers.link) === undefined)) return { rows, complete: true, seen, pages };
  }
}

/**
 * The highest id of a collection (`orderBy=id desc`, one row), or undefined when it is empty. Only
 * used to cut a listing into id ranges read side by side: a wrong answer makes the ranges uneven,
 * never a row missed (the last range has no upper bound).
 */
export async function highestId(transport: ConnectWiseTransport, path: string, signal?: AbortSignal): Promise<number | undefined> {
  const res = await transport.send("GET", path, { query: { fields: "id", orderBy: "id desc", pageSize: 1, page: 1 }, signal });
  const rows = readList<{ id: number }>(res.body, { id: "number" }, "GET", path, res.status, (t) => transport.scrub(t));
  const ids = rows.map((r) => r.id).filter((id) => Number.isSafeInteger(id));
  return ids.length ? Math.max(...ids) : undefined;
}

/**
 * The whole collection as `fetchAllByKeyset` reads it, cut into `ranges` id ranges below and
 * above `highest` that are read side by side, each by keyset; the last range has no upper
 * bound, so rows created meanwhile are not lost. Rows come back in id order.
 */
export async function fetchAllByKeysetRanges<T extends { id: number }>(
  transport: ConnectWiseTransport, path: string, query: Omit<Query, "conditions" | "orderBy" | "page" | "pageSize">, shape: Shape,
  opts: { signal?: AbortSignal; maxPagesPerRange?: number; keep?: (row: T) => boolean; ranges: number; highest: number },
): Promise<KeysetListing<T>> {
  const bounds = Array.from({ length: Math.max(1, opts.ranges) - 1 }, (_, i) => Math.floor((opts.highest * (i + 1)) / opts.ranges));
  const parts = await Promise.all([undefined, ...bounds].map((after, i) => fetchAllByKeyset<T>(transport, path, query, shape, {
    signal: opts.signal, keep: opts.keep, maxPages: opts.maxPagesPerRange, after, upTo: bounds[i],
  })));
  return {
    rows: parts.flatMap((p) => p.rows),
    complete: parts.every((p) => p.complete),
    seen: parts.reduce((n, p) => n + p.seen, 0),
    pages: parts.reduce((n, p) => n + p.pages, 0),
  };
}
