import type { SandboxState } from "./model.ts";
import type { Reply } from "./replies.ts";

/** One authenticated API request, as the route handlers see it. */
export interface RequestContext {
  state: SandboxState;
  method: string;
  query: URLSearchParams;
  /** The parsed JSON body (undefined when there was none). */
  body: unknown;
  /** `http://host:port/<codebase>/apis/3.0/<path>` of this request, without the query: Link and Location are built on it. */
  selfUrl: string;
  /** `pagination-type: forward-only` was asked for. */
  forwardOnly: boolean;
  now: () => Date;
  /** Written into `_info.updatedBy` / `enteredBy`. */
  member: string;
}

export type Handler = (ctx: RequestContext, params: string[]) => Reply;

/** A path under the API root (`^/company/companies/(\d+)$`, matched case-insensitively like IIS) and its methods. */
export interface Route {
  pattern: RegExp;
  methods: Partial<Record<"GET" | "POST" | "PATCH", Handler>>;
}

/** A collection as a list endpoint serves it. */
export interface Resource<T> {
  /** The fields `conditions` and `orderBy` may name. */
  fields: readonly string[];
  /** Adds computed fields (e.g. `billedQuantity`) to a stored record before it is served. */
  wire?: (row: T) => object;
}
