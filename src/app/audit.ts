import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { loadConfig, type LoadResult } from "../config/load.ts";
import { resolveCustomer, type EffectiveCustomer } from "../config/resolve.ts";
import { buildAudit, type Audit } from "../core/audit.ts";
import { checkCustomer } from "../core/connectwise-checks.ts";
import { OperationError, UsageError } from "../errors.ts";
import { observeConnectWise } from "../observe/observe-connectwise.ts";
import type { Addition, Agreement, ConnectWise } from "../ports/connectwise.ts";
import type { LicenseSource } from "../ports/license-source.ts";
import type { LedgerEntry, StateStore } from "../ports/state-store.ts";
import type { Deps } from "./deps.ts";
import { targetOf } from "./target.ts";

/** Billing entries read per customer: years of monthly sends. */
const LEDGER_DEPTH = 100;

export interface AuditReads {
  cw: ConnectWise;
  license: LicenseSource;
  /** The state, when there is one: what cwsync last set. */
  store?: StateStore;
  load: LoadResult;
  /** `YYYY-MM`. */
  month: string;
  at: Date;
  signal?: AbortSignal;
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** How many agreements' additions the audit reads at once. */
export const AUDIT_READS_AT_ONCE = 4;

async function pool<T>(items: readonly T[], n: number, fn: (t: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(Array.from({ length: Math.min(n, queue.length) }, async () => {
    for (let t = queue.shift(); t !== undefined; t = queue.shift()) await fn(t);
  }));
}

export function effectiveCustomersOf(load: LoadResult): EffectiveCustomer[] {
  const g = load.global;
  return g ? load.customers.flatMap((c) => (c.config ? [resolveCustomer(c.config, g)] : [])) : [];
}

/**
 * Reads what the audit needs, read-only (GETs and the ledger): the month's LMP report, the customers'
 * companies and agreements, every agreement of the tenant with its additions (the unmanaged ones
 * live on agreements no file maps), and each customer's billing ledger. Then `buildAudit`.
 */
export async function readAudit(r: AuditReads): Promise<Audit> {
  const global = r.load.global;
  if (!global) throw new OperationError(`${r.load.globalFile} is missing or invalid: there is no catalogue to audit against (run \`cwsync validate\`)`);
  const customers = effectiveCustomersOf(r.load);
  const enabled = customers.filter((c) => c.enabled);
  const [year, month] = r.month.split("-").map(Number);
  const [rows, snapshot, everything] = await Promise.all([
    r.license.summary(year, month, r.signal),
    observeConnectWise(r.cw, enabled, global, r.signal),
    // every company and agreement: changed since the epoch
    r.cw.changedSince(new Date(0), r.signal),
  ]);
  const checks = new Map(enabled.map((c) => [c.name, checkCustomer(c, global, snapshot)]));
  const notes: string[] = [];
  const invalid = r.load.customers.filter((c) => !c.config).map((c) => c.file);
  if (invalid.length > 0) notes.push(`invalid customer files are left out (their seats show as unbilled): ${invalid.join(", ")}`);
  const ids = new Set<number>([...snapshot.agreements.map((a) => a.id), ...everything.agreements.map((a) => a.id)]);
  const additions = new Map<number, Addition[]>();
  // 4 at a time: half of the ConnectWise client's 8 connections, so that a daemon's cycles (and
  // their due sends) beside the audit always find one free; 4 × a 100–200 ms answer still keeps
  // the limiter's 16 a second busy
  await pool([...ids], AUDIT_READS_AT_ONCE, async (id) => {
    try {
      additions.set(id, await r.cw.additionsOf(id, r.signal));
    } catch (e) {
      notes.push(`the additions of agreement #${id} could not be read: ${message(e)}`);
    }
  });
  notes.sort();
  // names only for the agreements that show: those with one of the catalogue's items and no customer file
  const items = new Set(Object.values(global.products).map((p) => p.catalogItem.toLowerCase()));
  const known = new Map<number, Pick<Agreement, "id" | "name" | "company">>(snapshot.agreements.map((a) => [a.id, a]));
  const wanted = everything.agreements.filter((a) => !known.has(a.id) && (additions.get(a.id) ?? []).some((x) => items.has(x.product.identifier.toLowerCase())));
  if (wanted.length > 0) {
    for (const a of await r.cw.agreementsOf([...new Set(wanted.map((a) => a.company.id))], r.signal)) known.set(a.id, a);
  }
  const companies = new Map([...everything.companies, ...snapshot.companies].map((c) => [c.id, c]));
  const agreements = everything.agreements.map((a) => {
    const full = known.get(a.id);
    const company = companies.get(a.company.id);
    return {
      id: a.id, ...(full?.name ? { name: full.name } : {}),
      company: { id: a.company.id, ...(company ? { identifier: company.identifier, name: company.name } : a.company.identifier ? { identifier: a.company.identifier } : {}) },
    };
  });
  // the customers' own agreements even if the epoch listing missed one
  for (const a of snapshot.agreements) if (!agreements.some((x) => x.id === a.id)) agreements.push({ id: a.id, name: a.name, company: { id: a.company.id } });
  const ledger: LedgerEntry[] | undefined = r.store
    ? customers.flatMap((c) => r.store!.ledgerOf(c.name, LEDGER_DEPTH).filter((e) => e.report === "billing"))
    : undefined;
  return buildAudit({ month: r.month, day: r.at.toISOString().slice(0, 10), global, customers, rows, checks, additions, agreements, ...(ledger ? { ledger } : {}), notes });
}

export interface AuditOnceOptions {
  repo: string;
  month?: string;
  at?: Date;
  sandbox: boolean;
}

/** `--month`: `YYYY-MM`, a real month. */
export function parseMonth(value: string): string {
  const m = /^(\d{4})-(\d{2})$/.exec(value);
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 12) throw new UsageError(`--month: \`${value}\` is not a month; use YYYY-MM, e.g. 2027-01`);
  return value;
}

/**
 * `cwsync audit` outside the daemon: the customer files of the working tree, ConnectWise and the LMP
 * report (the embedded fakes with `sandbox`), and the state's ledger when there is a state. Writes
 * nothing anywhere: no lease is taken, a missing state is not created.
 */
export async function auditOnce(opts: AuditOnceOptions, deps: Deps): Promise<Audit> {
  const at = opts.at ?? new Date(deps.clock.now());
  const month = opts.month ?? at.toISOString().slice(0, 7);
  const repo = resolve(deps.cwd, opts.repo);
  const g = deps.readWorkingFiles(["customers"], repo).groups[0];
  if (!g) throw new UsageError(`no customers/ folder in ${repo}`);
  const load = loadConfig(g.files, g.globalPath);
  const sources = await deps.openSources({ sandbox: opts.sandbox, repo, license: true });
  try {
    const hasState = existsSync(join(deps.settings.stateDir, "state.db"));
    const state = hasState ? deps.openState(targetOf(opts.sandbox, deps.settings.env)) : undefined;
    try {
      return await readAudit({ cw: sources.cw, license: sources.license!, ...(state ? { store: state.store } : {}), load, month, at });
    } finally {
      state?.store.close();
    }
  } finally {
    await sources.close();
  }
}
