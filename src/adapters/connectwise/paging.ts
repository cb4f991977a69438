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
