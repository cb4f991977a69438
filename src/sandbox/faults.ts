/** Which requests a fault applies to, and how often. */
export interface FaultTarget {
  /** HTTP method, any case; absent: every method. */
  method?: string;
  /** The path under the API root (`/finance/agreements/812/additions`), exactly, or a RegExp tested on it. Absent: every path. */
  path?: string | RegExp;
  /** How many requests it hits before it is spent: default 1, or unlimited when `probability` is set. `Infinity` for ever. */
  times?: number;
  /** 0..1: each matching request is hit with this probability (drawn from the controller's seeded generator). */
  probability?: number;
}

export type FaultSpec = FaultTarget & (
  /** Answer with this status before doing anything; `body` defaults to ConnectWise's own for the status. */
  | { kind: "status"; status: 429 | 500 | 502 | 503 | 504; retryAfter?: number; body?: string | object }
  /** A Cloudflare-style HTML rate-limit page (`text/html`, `Retry-After`), not ConnectWise JSON. */
  | { kind: "html429"; retryAfter?: number }
  /** Wait `ms` before handling (then the request proceeds, or meets the next fault). */
  | { kind: "latency"; ms: number }
  /** Destroy the connection before handling: nothing happened. */
  | { kind: "reset" }
  /** Handle the request (a POST creates its record), then destroy the connection without answering. */
  | { kind: "reset-after-commit" }
  /** Handle the request, then answer a create with 302 to `http://…/<path>/<newId>` as cloud proxies do. */
  | { kind: "redirect-after-commit" }
  /**
   * Destroy the connection at once, and handle the request `ms` later: a server still committing
   * a request its client gave up on (a look right after the reset finds nothing yet).
   */
  | { kind: "commit-late"; ms: number }
  /** A proxy's or a login page's HTML, answered 200 `text/html` instead of the request's answer (nothing handled). */
  | { kind: "html200" }
  /** Handle the request, then answer 200/201 with the first half of its JSON: a cut connection behind a proxy. */
  | { kind: "truncated-json" }
  /** Answer 302 to a login page on another host; nothing handled (an SSO proxy in front of the API). */
  | { kind: "redirect-to-login" }
  /** Answer 200 with a JSON list of about `bytes` bytes, streamed; nothing handled. */
  | { kind: "huge-body"; bytes: number }
  /** Handle a list as if `page` were absent: every page is the first (a server that ignores paging). */
  | { kind: "ignore-page" }
  /** Handle the request and answer as usual, but keep nothing: a write that ConnectWise then does not show. */
  | { kind: "lost-write" }
  /** Answer `status` (default 400) with a body that echoes the request's Authorization header, as some gateways do. */
  | { kind: "echo-auth"; status?: number }
  /**
   * ConnectWise's throttle: a token bucket refilled at `perMinute` requests a minute (default
   * 1,000) holding at most `burst` (default a twentieth of `perMinute`). A request that finds it
   * empty is answered 429 with `Retry-After` (whole seconds until a token) and ConnectWise's JSON
   * body before anything is handled, and takes no token. Unlimited `times` by default.
   */
  | { kind: "throttle"; perMinute?: number; burst?: number }
);

export const THROTTLE_PER_MINUTE = 1000;

export type FaultKind = FaultSpec["kind"];

/** A fault as added: how many times it may still fire and how many times it did. */
export interface Fault {
  readonly spec: FaultSpec;
  remaining: number;
  fired: number;
}

export interface FaultController {
  /** Adds a fault; faults are tried in the order added. */
  add(spec: FaultSpec): Fault;
  /** Removes every fault (not `latencyMs`). */
  clear(): void;
  /** Delay applied to every request, in ms (default 0). */
  latencyMs: number;
  /** A further delay drawn for each request between 0 and this, in ms (default 0): latency that varies. */
  latencyJitterMs: number;
  /** The faults not yet spent. */
  readonly active: readonly Fault[];
  /** Restarts the generator behind `probability`, for a reproducible run. */
  reseed(seed: number): void;
}

/** mulberry32: small, fast, and the same sequence for the same seed on every platform. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NON_LATENCY_DEFAULT_TIMES = 1;

/** A throttle fault's bucket. */
interface Bucket {
  tokens: number;
  at: number;
}

export class Faults implements FaultController {
  latencyMs = 0;
  latencyJitterMs = 0;
  private faults: Fault[] = [];
  private random: () => number;
  private readonly buckets = new WeakMap<Fault, Bucket>();

  constructor(seed = 1, private readonly now: () => number = Date.now) {
    this.random = mulberry32(seed);
  }

  get active(): readonly Fault[] {
    return this.faults;
  }

  add(spec: FaultSpec): Fault {
    if (spec.probability !== undefined && !(spec.probability >= 0 && spec.probability <= 1)) {
      throw new RangeError(`fault probability must be between 0 and 1, got ${spec.probability}`);
    }
    const unlimited = spec.probability !== undefined || spec.kind === "throttle";
    const fault: Fault = { spec, remaining: spec.times ?? (unlimited ? Infinity : NON_LATENCY_DEFAULT_TIMES), fired: 0 };
    this.faults.push(fault);
    return fault;
  }

  clear(): void {
    this.faults = [];
  }

  reseed(seed: number): void {
    this.random = mulberry32(seed);
  }

  /**
   * The faults that hit this request: a throttle whose bucket is empty (then nothing else: the
   * request is refused before it is handled; `retryAfter` in seconds), or else every matching
   * latency fault (their delays add up) and at most one other fault, the first matching one.
   * Spent faults are dropped.
   */
  take(method: string, path: string): { delayMs: number; fault?: FaultSpec; retryAfter?: number } {
    let delayMs = this.latencyMs + (this.latencyJitterMs > 0 ? Math.floor(this.random() * this.latencyJitterMs) : 0);
    for (const f of this.faults) {
      if (f.spec.kind !== "throttle" || f.remaining <= 0 || !matches(f.spec, method, path)) continue;
      const retryAfter = this.throttle(f, f.spec);
      if (retryAfter === undefined) continue;
      f.remaining--;
      f.fired++;
      this.faults = this.faults.filter((x) => x.remaining > 0);
      return { delayMs, fault: f.spec, retryAfter };
    }
    let hit: FaultSpec | undefined;
    for (const f of this.faults) {
      if (f.spec.kind === "throttle" || f.remaining <= 0 || !matches(f.spec, method, path)) continue;
      if (hit !== undefined && f.spec.kind !== "latency") continue;
      if (f.spec.probability !== undefined && this.random() >= f.spec.probability) continue;
      f.remaining--;
      f.fired++;
      if (f.spec.kind === "latency") delayMs += f.spec.ms;
      else hit = f.spec;
    }
    this.faults = this.faults.filter((f) => f.remaining > 0);
    return { delayMs, fault: hit };
  }

  /** Takes a token from the throttle's bucket; without one, the seconds until there is one. */
  private throttle(f: Fault, spec: Extract<FaultSpec, { kind: "throttle" }>): number | undefined {
    const perMs = (spec.perMinute ?? THROTTLE_PER_MINUTE) / 60_000;
    const burst = spec.burst ?? (spec.perMinute ?? THROTTLE_PER_MINUTE) / 20;
    const now = this.now();
    const b = this.buckets.get(f) ?? { tokens: burst, at: now };
    b.tokens = Math.min(burst, b.tokens + Math.max(0, now - b.at) * perMs);
    b.at = now;
    this.buckets.set(f, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return undefined;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / perMs / 1000));
  }
}

function matches(spec: FaultTarget, method: string, path: string): boolean {
  if (spec.method !== undefined && spec.method.toUpperCase() !== method.toUpperCase()) return false;
  if (spec.path === undefined) return true;
  if (typeof spec.path === "string") return spec.path.replace(/^\/?/, "/").toLowerCase() === path.toLowerCase();
  spec.path.lastIndex = 0;
  return spec.path.test(path);
}
