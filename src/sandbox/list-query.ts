import { evaluate } from "./condition-eval.ts";
import { ConditionSyntaxError, MALFORMED_CONDITION, fieldsOf, parseConditions, type Condition } from "./condition-parser.ts";
import { SEED_INFO } from "./model.ts";
import { replies, type Reply } from "./replies.ts";
import type { RequestContext, Resource } from "./route.ts";

/** ConnectWise's list parameters: `conditions`, `orderBy`, `page`/`pageSize` (or forward-only `pageId`), `fields`. */

export const DEFAULT_PAGE_SIZE = 25;
export const MAX_PAGE_SIZE = 1000;

const collator = new Intl.Collator("en", { sensitivity: "accent" });

/** The value at a condition path; `lastUpdated` is ConnectWise's name for `_info/lastUpdated`. */
export function valueAt(row: unknown, field: string): unknown {
  const path = field === "lastUpdated" ? ["_info", "lastUpdated"] : field.split("/");
  let v: unknown = row;
  for (const key of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  if (v === undefined && field === "lastUpdated") return SEED_INFO.lastUpdated;
  return v;
}

/** Percent-encodes everything but unreserved characters, so a `Link` value never holds `,` `;` `<` `>` or quotes. */
const encode = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** This request's URL with every original parameter repeated (conditions included) and `set` replacing or adding some. */
export function linkUrl(ctx: RequestContext, set: Record<string, string>): string {
  const parts: string[] = [];
  const done = new Set<string>();
  for (const [k, v] of ctx.query) {
    if (k in set) {
      if (done.has(k)) continue;
      done.add(k);
      parts.push(`${encode(k)}=${encode(set[k])}`);
    } else parts.push(`${encode(k)}=${encode(v)}`);
  }
  for (const [k, v] of Object.entries(set)) if (!done.has(k)) parts.push(`${encode(k)}=${encode(v)}`);
  return `${ctx.selfUrl}?${parts.join("&")}`;
}

/** The rows `conditions` selects, or the 400 ConnectWise answers to a bad one. */
export function select<T>(ctx: RequestContext, rows: readonly T[], resource: Resource<T>): T[] | Reply {
  for (const unsupported of ["childConditions", "customFieldConditions"]) {
    if (ctx.query.get(unsupported)) return replies.condition(`${unsupported} is not supported by the sandbox.`);
  }
  const text = ctx.query.get("conditions") ?? "";
  if (text.trim() === "") return [...rows];
  let condition: Condition;
  try {
    condition = parseConditions(text);
  } catch (e) {
    if (e instanceof ConditionSyntaxError) return replies.condition(MALFORMED_CONDITION);
    throw e;
  }
  const unknown = fieldsOf(condition).find((f) => !resource.fields.includes(f));
  if (unknown !== undefined) return replies.condition(`${unknown} is not a recognized name.`);
  return rows.filter((row) => evaluate(condition, row, valueAt));
}

function sortKey(a: unknown, b: unknown): number {
  // SQL Server sorts NULL first
  if (a === undefined || a === null) return b === undefined || b === null ? 0 : -1;
  if (b === undefined || b === null) return 1;
  if (typeof a === "string" && typeof b === "string") return collator.compare(a, b);
  return a < b ? -1 : a > b ? 1 : 0;
}

function sorted<T>(ctx: RequestContext, rows: T[], resource: Resource<T>): T[] | Reply {
  const spec = ctx.query.get("orderBy")?.trim();
  if (!spec) return rows.sort((a, b) => sortKey(valueAt(a, "id"), valueAt(b, "id")));
  const keys: { field: string; dir: number }[] = [];
  for (const part of spec.split(",")) {
    const m = /^\s*([A-Za-z_][\w/]*)(?:\s+(asc|desc))?\s*$/i.exec(part);
    if (!m) return replies.badRequest(`orderBy ${JSON.stringify(spec)} is not valid: use "<field> asc" or "<field> desc".`);
    if (!resource.fields.includes(m[1])) return replies.condition(`${m[1]} is not a recognized name.`);
    keys.push({ field: m[1], dir: m[2]?.toLowerCase() === "desc" ? -1 : 1 });
  }
  return rows.sort((a, b) => {
    for (const k of keys) {
      const d = sortKey(valueAt(a, k.field), valueAt(b, k.field)) * k.dir;
      if (d !== 0) return d;
    }
    return 0;
  });
}

/** A record as served: computed fields, `_info`, and the `fields=` projection (which drops `_info` unless listed). */
export function serve<T>(ctx: RequestContext, row: T, resource: Resource<T>): object {
  const base = resource.wire ? resource.wire(row) : (row as object);
  const full = "_info" in base && base._info ? base : { ...base, _info: { ...SEED_INFO } };
  const fields = (ctx.query.get("fields") ?? "").split(",").map((f) => f.trim()).filter(Boolean);
  if (fields.length === 0) return full;
  const out: Record<string, unknown> = {};
  for (const field of fields) {
    const value = valueAt(full, field);
    if (value === undefined) continue;
    const path = field.split("/");
    let target = out;
    for (const key of path.slice(0, -1)) {
      const next = target[key];
      target = (next !== null && typeof next === "object" ? next : (target[key] = {})) as Record<string, unknown>;
    }
    target[path[path.length - 1]] = structuredClone(value);
  }
  return out;
}

function intParam(ctx: RequestContext, name: string): number | undefined {
  const raw = ctx.query.get(name);
  if (raw === null || !/^\s*\d+\s*$/.test(raw)) return undefined;
  return Number(raw);
}

/** A list endpoint: bare JSON array, `Link` header, `[]` past the end. */
export function listReply<T extends { id: number }>(ctx: RequestContext, rows: readonly T[], resource: Resource<T>): Reply {
  const selected = select(ctx, rows, resource);
  if (!Array.isArray(selected)) return selected;
  // pageSize above the limit is silently capped, as ConnectWise does
  const pageSize = Math.min(Math.max(intParam(ctx, "pageSize") ?? DEFAULT_PAGE_SIZE, 1), MAX_PAGE_SIZE);
  if (ctx.forwardOnly) return forwardOnly(ctx, selected, resource, pageSize);
  const ordered = sorted(ctx, selected, resource);
  if (!Array.isArray(ordered)) return ordered;
  const page = Math.max(intParam(ctx, "page") ?? 1, 1);
  const lastPage = Math.max(1, Math.ceil(ordered.length / pageSize));
  const links: string[] = [];
  const link = (p: number, rel: string) => links.push(`<${linkUrl(ctx, { page: String(p) })}>; rel="${rel}"`);
  if (page > 1) {
    link(1, "first");
    link(Math.min(page - 1, lastPage), "prev");
  }
  if (page < lastPage) {
    link(page + 1, "next");
    link(lastPage, "last");
  }
  const body = ordered.slice((page - 1) * pageSize, page * pageSize).map((r) => serve(ctx, r, resource));
  return { status: 200, body, headers: links.length ? { Link: links.join(", ") } : {} };
}

/** Keyset paging: `id > pageId`, ordered by id, `Link` next carries the last id (empty on the last page). */
function forwardOnly<T extends { id: number }>(ctx: RequestContext, rows: T[], resource: Resource<T>, pageSize: number): Reply {
  if (ctx.query.get("orderBy")) return replies.badRequest("orderBy cannot be used with forward-only pagination.");
  const after = intParam(ctx, "pageId") ?? 0;
  const rest = rows.filter((r) => r.id > after).sort((a, b) => a.id - b.id);
  const page = rest.slice(0, pageSize);
  const more = rest.length > pageSize;
  const link = more ? `<${linkUrl(ctx, { pageId: String(page[page.length - 1].id) })}>; rel="next"` : "";
  return { status: 200, body: page.map((r) => serve(ctx, r, resource)), headers: { Link: link } };
}

/** A `/count` endpoint: `{"count": n}` under the same `conditions`. */
export function countReply<T>(ctx: RequestContext, rows: readonly T[], resource: Resource<T>): Reply {
  const selected = select(ctx, rows, resource);
  return Array.isArray(selected) ? replies.ok({ count: selected.length }) : selected;
}
