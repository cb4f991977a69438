import type { CustomerChecks } from "../core/connectwise-checks.ts";
import type { Desired, DesiredCustomer } from "../core/desired.ts";
import { acting } from "../core/plan.ts";
import { scheduleOf, suspendedUntil } from "../core/preview.ts";
import { nextSends } from "../core/schedule.ts";
import type { Agreement, Company } from "../ports/connectwise.ts";
import { cursorKey, isStoredJson, type CustomerRecord } from "../ports/state-store.ts";

interface Next {
  sig: string;
  /** The next scheduled send (after the cursor) of any report: due from then on until the cursor moves. */
  send: number;
  /** Whether that send is a detection report (its cycle polls first). */
  detection: boolean;
  /** When a suspension ends: the customer's state changes then, with nothing sent. */
  resumes?: number;
}

/**
 * When each customer next has something to do on its own — a scheduled send falling due, a
 * suspension ending — so that a daemon cycle looks only at those customers instead of walking
 * every schedule. An entry is recomputed when its config, the global config, its history start
 * or one of its cursors changed, which is what a full reconcile would see.
 */
export class DueIndex {
  private readonly next = new Map<string, Next>();
  /** When each customer was last in a cycle (a suspension that ended before then is done). */
  private readonly seen = new Map<string, number>();
  /**
   * Before this instant `due` names no one: computed by a walk over every entry after an update,
   * so that an idle cycle (no update since the last) does not walk 5,000 entries to find none.
   */
  private quietUntil?: number;

  update(customers: readonly DesiredCustomer[], cursors: ReadonlyMap<string, string>, globalRevision: string | undefined, now: number): void {
    this.quietUntil = undefined;
    for (const d of customers) {
      if (!acting(d)) {
        this.next.delete(d.name);
        continue;
      }
      const c = d.customer;
      const reportCursors = c.reports.map((r) => cursors.get(cursorKey(d.name, r.report)) ?? "");
      const sig = [d.configHash, d.revision, d.source, globalRevision, d.firstAppliedAt.getTime(), c.enabled, ...reportCursors].join("\u0000");
      if (this.next.get(d.name)?.sig !== sig) {
        let send = Infinity;
        let detection = false;
        c.reports.forEach((report, i) => {
          const cursor = reportCursors[i];
          const from = new Date(Math.max(cursor ? Date.parse(cursor) + 1 : 0, d.firstAppliedAt.getTime()));
          const due = nextSends(scheduleOf(report, c), from, 1)[0]?.due.getTime() ?? Infinity;
          if (due < send || (due === send && report.report !== "billing")) {
            send = due;
            detection = report.report !== "billing";
          }
        });
        const resumes = c.suspend ? suspendedUntil(c)?.getTime() : undefined;
        this.next.set(d.name, { sig, send, detection, ...(resumes !== undefined ? { resumes } : {}) });
      }
      this.seen.set(d.name, now);
    }
  }

  /** Customers with a send due at `now`, or whose suspension ended since their last cycle. */
  due(now: number): string[] {
    if (this.quietUntil !== undefined && now < this.quietUntil) return [];
    const out: string[] = [];
    let quietUntil = Infinity;
    for (const [name, n] of this.next) {
      const resumes = n.resumes !== undefined && n.resumes > (this.seen.get(name) ?? 0) ? n.resumes : Infinity;
      if (n.send <= now || resumes <= now) out.push(name);
      quietUntil = Math.min(quietUntil, n.send, resumes);
    }
    // nothing changes the entries but `update`: until it runs, no one is due before then
    this.quietUntil = quietUntil;
    return out;
  }

  /** Whether one of these customers has a detection report due (the cycle then polls before planning). */
  detectionDue(names: Iterable<string>, now: number): boolean {
    for (const name of names) {
      const n = this.next.get(name);
      if (n?.detection && n.send <= now) return true;
    }
    return false;
  }

  /** The earliest instant anything falls due. */
  earliest(): number {
    let min = Infinity;
    for (const n of this.next.values()) min = Math.min(min, n.send);
    return min;
  }
}

const norm = (identifier: string) => identifier.trim().toLowerCase();

/**
 * The customers a ConnectWise change could concern: those whose configured company identifier is
 * a changed company's (or a changed agreement's company), and those last verified against a
 * changed company id.
 */
export function touchedBy(
  changes: { companies: readonly Company[]; agreements: readonly Pick<Agreement, "company">[] },
  desired: Desired,
  records: readonly CustomerRecord[],
): Set<string> {
  const out = new Set<string>();
  if (changes.companies.length === 0 && changes.agreements.length === 0) return out;
  const ids = new Set<number>();
  const identifiers = new Set<string>();
  for (const c of changes.companies) {
    ids.add(c.id);
    if (c.identifier) identifiers.add(norm(c.identifier));
  }
  for (const a of changes.agreements) {
    ids.add(a.company.id);
    if (a.company.identifier) identifiers.add(norm(a.company.identifier));
  }
  for (const d of desired.customers) {
    if (acting(d) && d.customer.companyId && identifiers.has(norm(d.customer.companyId))) out.add(d.name);
  }
  for (const r of records) {
    const company = (r.observed as CustomerChecks | undefined)?.company;
    if (company && company.state !== "not-found" && ids.has(company.company.id)) out.add(r.name);
  }
  return out;
}

/**
 * Customers whose fresh checks differ from what their record holds (what a reconcile would store).
 * The fresh checks' text is compared with the stored one's digest first, as the reconcile's own
 * record step does: an unchanged customer's `observed` is then neither read again from the store
 * nor parsed (a parsed one stays on the record: ~83 a cycle, ~8 KB each, for as long as the
 * store's records are). Only a text that differs is compared as JSON (key order, absent fields).
 */
export function changedChecks(checks: ReadonlyMap<string, CustomerChecks>, record: (name: string) => CustomerRecord | undefined): Set<string> {
  const out = new Set<string>();
  for (const [name, c] of checks) {
    const r = record(name);
    if (r && isStoredJson(r, "observed", JSON.stringify(c))) continue;
    if (!sameJson(c, r?.observed)) out.add(name);
  }
  return out;
}

/** Deep equality as JSON sees it (absent and undefined alike), without building the strings. */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => sameJson(x, bb[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const keys = (o: Record<string, unknown>) => Object.keys(o).filter((k) => o[k] !== undefined);
  const ak = keys(ao);
  return ak.length === keys(bo).length && ak.every((k) => sameJson(ao[k], bo[k]));
}

/** Which of `n` slices a customer's full verification falls in: stable while customers come and go. */
export function sliceOf(name: string, n: number): number {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
  return (h >>> 0) % n;
}
