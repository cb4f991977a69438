import { categorize } from "../core/detection-categories.ts";
import type { PollTarget } from "../core/poll-targets.ts";
import { offsetAt } from "../core/zoned-time.ts";
import { ApiError } from "../errors.ts";
import { LOOK_BACK_MS, type DetectionService, type DetectionSource, type PolicyEvent } from "../ports/detection-source.ts";
import { LeaseLostError, type DetectionCount, type PollCursor, type PollGap, type StateStore } from "../ports/state-store.ts";

export interface PollDeps {
  sources: Partial<Record<DetectionService, DetectionSource>>;
  store: StateStore;
  token: number;
  /** Poll up to this instant (`--at` moves it; DESIGN §8). */
  now: Date;
  /** Real time, for when a gap was found. */
  realNow: () => number;
  concurrency?: number;
  signal?: AbortSignal;
  /** Overrides each source's `lagMs` (tests); default DEFAULT_POLL_LAG_MS. */
  lagMs?: number;
}

export interface PollResult {
  targets: number;
  /** Targets polled (each may take several pages). */
  polls: number;
  events: number;
  gaps: number;
  /**
   * Per customer and service, why polling failed (the counters stay where they were); `reason` is
   * the status reason when it is more precise than `detections.unavailable` (an unreadable answer,
   * endless paging).
   */
  errors: { customer: string; service: DetectionService; domain: string; message: string; reason?: string }[];
  /** What the targets without an error were read up to (`now`); their cursors stay `lag` behind it. */
  readTo: string;
}

/** The status reason of a polling failure: the adapter's own code for an answer it could not read or that paged for ever. */
function failureReason(e: unknown): { reason?: string } {
  const code = e instanceof ApiError ? e.code : undefined;
  return code === "email-security.unreadable" || code === "email-security.endless-paging" ? { reason: code } : {};
}

/** Before this, nothing was polled: a report of a period reaching back there says its data is incomplete. */
export const BEFORE_POLLING = "1970-01-01T00:00:00.000Z";
const BOUNDARY_MS = 1000;
/** `CWSYNC_POLL_LAG` unset: events reach the log API up to 10 minutes late (DESIGN §4). */
export const DEFAULT_POLL_LAG_MS = 10 * 60_000;

/** An event's identity: one message may carry several policy events, and each counts. */
export const eventIdentity = (e: Pick<PolicyEvent, "messageID" | "eventType" | "eventSubtype">) => `${e.messageID}\u0000${e.eventType}\u0000${e.eventSubtype ?? ""}`;
const HOUR_MS = 3600_000;

const keyOf = (t: Pick<PollTarget, "customer" | "service" | "domain" | "event">) => `${t.customer}\u0000${t.service}\u0000${t.domain}\u0000${t.event}`;

/**
 * Counts one window's events into local-hour buckets; events already counted (the cursor's
 * identities of the overlap) and repeats are skipped. A cursor written before identities were
 * kept holds bare message ids: those still match by message id.
 */
export function countEvents(t: PollTarget, events: readonly PolicyEvent[], skip: ReadonlySet<string>): { counts: DetectionCount[]; counted: PolicyEvent[] } {
  const seen = new Set<string>();
  const buckets = new Map<string, DetectionCount>();
  const offsets = new Map<number, number>();
  const counted: PolicyEvent[] = [];
  const add = (category: string, hour: string) => {
    const k = `${category}\u0000${hour}`;
    const b = buckets.get(k);
    if (b) b.count++;
    else buckets.set(k, { customer: t.customer, service: t.service, domain: t.domain, category, hour, count: 1 });
  };
  for (const e of events) {
    const id = eventIdentity(e);
    if (seen.has(id) || skip.has(id) || skip.has(e.messageID)) continue;
    seen.add(id);
    counted.push(e);
    const ms = Date.parse(e.genTime);
    const utcHour = Math.floor(ms / HOUR_MS);
    // the zone's offset only changes at transitions (on whole hours in practice); once per UTC hour keeps a big window cheap
    let offset = offsets.get(utcHour);
    if (offset === undefined) offsets.set(utcHour, (offset = offsetAt(utcHour * HOUR_MS, t.timezone)));
    const hour = new Date(Math.floor((ms + offset) / HOUR_MS) * HOUR_MS - offset).toISOString();
    const c = categorize(t.event, e.eventType, e.eventSubtype);
    add(c.category, hour);
    if (c.unknown) add(`unknown:${c.unknown}`, hour);
  }
  return { counts: [...buckets.values()], counted };
}

async function pollOne(t: PollTarget, cursor: PollCursor | undefined, deps: PollDeps, result: PollResult, signal?: AbortSignal): Promise<void> {
  const source = deps.sources[t.service];
  if (!source) return;
  const end = deps.now;
  const oldest = new Date(end.getTime() - LOOK_BACK_MS);
  const gaps: PollGap[] = [];
  const detectedAt = new Date(deps.realNow()).toISOString();
  let start = cursor ? new Date(cursor.at) : oldest;
  if (!cursor) gaps.push({ customer: t.customer, service: t.service, domain: t.domain, event: t.event, start: BEFORE_POLLING, end: oldest.toISOString(), detectedAt });
  else if (start < oldest) {
    // resumed after the look-back passed: those events are gone; say so in every report that needed them
    gaps.push({ customer: t.customer, service: t.service, domain: t.domain, event: t.event, start: start.toISOString(), end: oldest.toISOString(), detectedAt });
    start = oldest;
  }
  if (start >= end) return;
  const events = await source.policyEvents({ domain: t.domain, event: t.event, start, end }, signal);
  result.polls++;
  const unserved = events.unservedBefore;
  if (unserved && unserved > start) {
    // the service no longer keeps that part of the window (`--at` in the past, or its clock ahead):
    // a gap, never zeros
    gaps.push({ customer: t.customer, service: t.service, domain: t.domain, event: t.event, start: start.toISOString(), end: new Date(Math.min(unserved.getTime(), end.getTime())).toISOString(), detectedAt });
  }
  const { counts, counted } = countEvents(t, events, new Set(cursor?.boundaryIds ?? []));
  // events reach the log late: the cursor stays `lag` behind, and the next poll reads that span
  // again, skipping what this one counted there (never moving back over an earlier cursor)
  const lag = Math.max(0, deps.lagMs ?? source.lagMs ?? DEFAULT_POLL_LAG_MS);
  const at = Math.max(start.getTime(), end.getTime() - lag);
  // everything read in the overlap, counted now or before: a third poll may read it again
  const boundaryIds = [...new Set(events.filter((e) => Date.parse(e.genTime) >= at - BOUNDARY_MS).map(eventIdentity))];
  deps.store.commitPoll({ cursor: { customer: t.customer, service: t.service, domain: t.domain, event: t.event, at: new Date(at).toISOString(), boundaryIds }, counts, gaps }, deps.token);
  result.events += counted.length;
  result.gaps += gaps.filter((g) => g.start !== BEFORE_POLLING).length;
}

/**
 * Polls every target from its stored cursor to `now`, moves the cursor to `now − lag`, and stores
 * counters, cursor and gaps in one transaction per target: a crash before the commit loses nothing
 * (the next poll starts from the old cursor) and counts nothing twice. A failing target is
 * reported and leaves its cursor alone.
 */
export async function pollDetections(targets: readonly PollTarget[], deps: PollDeps): Promise<PollResult> {
  const cursors = new Map(deps.store.pollCursors().map((c) => [keyOf(c), c]));
  const result: PollResult = { targets: targets.length, polls: 0, events: 0, gaps: 0, errors: [], readTo: deps.now.toISOString() };
  const queue = [...targets];
  let fatal: unknown;
  // a service that answered one window with an unreadable or endless answer is not asked for the
  // rest of this poll (the windows under way are stopped): an endless-token service costs one
  // window's page cap per poll, not one per window
  const failed = new Map<DetectionService, { domain: string; message: string; reason?: string }>();
  const stops = new Map<DetectionService, AbortController>();
  const stopOf = (s: DetectionService) => stops.get(s) ?? stops.set(s, new AbortController()).get(s)!;
  await Promise.all(Array.from({ length: Math.min(deps.concurrency ?? 8, queue.length) }, async () => {
    for (let t = queue.shift(); t && fatal === undefined; t = queue.shift()) {
      const where = { customer: t.customer, service: t.service, domain: t.domain };
      const stop = stopOf(t.service);
      let failure: { message: string; reason?: string } | undefined;
      if (!failed.has(t.service)) {
        try {
          await pollOne(t, cursors.get(keyOf(t)), deps, result, deps.signal ? AbortSignal.any([deps.signal, stop.signal]) : stop.signal);
          continue;
        } catch (e) {
          if (e instanceof LeaseLostError) {
            fatal = e;
            continue;
          }
          // stopped because another window of the service failed: reported as that failure
          if (!failed.has(t.service) || deps.signal?.aborted) failure = { message: e instanceof Error ? e.message : String(e), ...failureReason(e) };
        }
      }
      if (failure?.reason && !failed.has(t.service)) {
        failed.set(t.service, { domain: t.domain, ...failure });
        stop.abort();
      }
      const first = failed.get(t.service)!;
      result.errors.push({ ...where, ...(failure ?? { message: `not polled: the service failed for ${first.domain} in this poll — ${first.message}`, reason: first.reason }) });
    }
  }));
  if (fatal !== undefined) throw fatal;
  return result;
}
