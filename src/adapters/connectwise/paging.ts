import type { ConnectWiseTransport, Query } from "./transport.ts";

export const PAGE_SIZE = 1000;

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
export async function fetchAll<T>(transport: ConnectWiseTransport, path: string, query: Query, signal?: AbortSignal): Promise<T[]> {
  const rows: T[] = [];
  for (let page = 1; ; ) {
    const res = await transport.send("GET", path, { query: { ...query, pageSize: PAGE_SIZE, page }, signal });
    const batch = Array.isArray(res.body) ? (res.body as T[]) : [];
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
