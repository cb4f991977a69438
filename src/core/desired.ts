import { createHash } from "node:crypto";
import type { Diagnostic } from "../config/diagnostic.ts";
import type { LoadResult } from "../config/load.ts";
import type { CustomerFile, GlobalFile } from "../config/model.ts";
import { resolveCustomer, type EffectiveCustomer } from "../config/resolve.ts";
import type { CustomerRecord } from "../ports/state-store.ts";

/** Why the config a customer is acted on is not simply the one in the new revision. */
export type DesiredSource =
  /** The file in the new revision, valid. */
  | "current"
  /** The file is invalid (or `_global.yaml` is): the last valid config keeps running. */
  | "last-valid"
  /** Deleted in a revision that removes too many customers: held until `--allow-mass-removal`. */
  | "removal-held"
  /** Deleted: no more sends. */
  | "removed"
  /** Invalid and never valid before: nothing to act on. */
  | "none";

export interface DesiredCustomer {
  name: string;
  file: string;
  source: DesiredSource;
  /** The config acted on (absent for `removed` and `none`). */
  customer?: EffectiveCustomer;
  /** The customer file behind `customer`, and the hash of its text: stored as the last valid config. */
  config?: CustomerFile;
  configHash?: string;
  /** The revision `config` comes from. */
  revision?: string;
  /** The first error, when the file (or `_global.yaml`) is invalid. */
  problem?: { code: "config.invalid" | "global.invalid"; message: string; location: string };
  /** When this customer's history started (now, for a new customer). */
  firstAppliedAt: Date;
}

export interface Desired {
  revision: string;
  /** The global file acted on: the new one, or the last valid one when the new one is broken. */
  global?: GlobalFile;
  globalRevision?: string;
  globalProblem?: { message: string; location: string };
  customers: DesiredCustomer[];
  /** Set when a mass removal is held: which customers and out of how many. */
  massRemoval?: { removed: string[]; of: number; held: boolean };
}

export interface DesiredInputs {
  revision: string;
  load: LoadResult;
  /** The customers as the state store knows them (from the last applied revisions). */
  previous: readonly CustomerRecord[];
  lastGlobal?: { config: GlobalFile; revision: string };
  allowMassRemoval: boolean;
  now: Date;
}

export const MASS_REMOVAL_SHARE = 0.25;

export const textHash = (text: string) => createHash("sha256").update(text).digest("hex");

const locationOf = (d: Diagnostic) => `${d.file}${d.line ? `:${d.line}:${d.col ?? 1}` : ""}`;

const firstError = (ds: readonly Diagnostic[]) => ds.find((d) => d.severity === "error");

function fromRecord(r: CustomerRecord, global: GlobalFile | undefined): Pick<DesiredCustomer, "customer" | "config" | "configHash" | "revision"> {
  if (!r.config || !global) return {};
  const config = r.config as CustomerFile;
  return { config, customer: resolveCustomer(config, global), configHash: r.configHash, revision: r.appliedRevision };
}

/**
 * Pure: what each customer is acted on in this revision — per-customer last-known-good, a broken
 * `_global.yaml` holding everyone on their last valid config, deletions and the mass-removal guard.
 */
export function assembleDesired(inp: DesiredInputs): Desired {
  const { load, revision, now } = inp;
  const byName = new Map(inp.previous.map((r) => [r.name, r]));
  const globalBroken = load.blocked || !load.global;
  const global = globalBroken ? inp.lastGlobal?.config : load.global;
  const globalRevision = globalBroken ? inp.lastGlobal?.revision : revision;
  const gErr = globalBroken ? firstError(load.diagnostics.filter((d) => d.file === load.globalFile)) : undefined;
  const globalProblem = globalBroken
    ? { message: gErr?.message ?? `${load.globalFile} is invalid`, location: gErr ? locationOf(gErr) : load.globalFile }
    : undefined;

  const customers: DesiredCustomer[] = [];
  for (const c of load.customers) {
    const prev = byName.get(c.name);
    const firstAppliedAt = prev?.firstAppliedAt && !prev.removedAt ? new Date(prev.firstAppliedAt) : now;
    if (globalProblem) {
      const kept = prev && !prev.removedAt ? fromRecord(prev, global) : {};
      customers.push({
        name: c.name, file: c.file, source: kept.customer ? "last-valid" : "none", ...kept, firstAppliedAt,
        problem: { code: "global.invalid", ...globalProblem },
      });
      continue;
    }
    if (c.config && global) {
      customers.push({
        name: c.name, file: c.file, source: "current", firstAppliedAt,
        customer: resolveCustomer(c.config, global), config: c.config,
        configHash: textHash(c.source?.text ?? ""), revision,
      });
      continue;
    }
    const err = firstError(c.diagnostics);
    const kept = prev && !prev.removedAt ? fromRecord(prev, global) : {};
    customers.push({
      name: c.name, file: c.file, source: kept.customer ? "last-valid" : "none", ...kept, firstAppliedAt,
      problem: { code: "config.invalid", message: err?.message ?? "the file is invalid", location: err ? locationOf(err) : c.file },
    });
  }

  const present = new Set(load.customers.map((c) => c.name));
  const live = inp.previous.filter((r) => !r.removedAt);
  const gone = live.filter((r) => !present.has(r.name));
  if (globalProblem) {
    // a broken _global.yaml holds everything back, removals included
    for (const r of gone) {
      const kept = fromRecord(r, global);
      customers.push({
        name: r.name, file: r.file, source: kept.customer ? "last-valid" : "none", ...kept,
        firstAppliedAt: r.firstAppliedAt ? new Date(r.firstAppliedAt) : now, problem: { code: "global.invalid", ...globalProblem },
      });
    }
    customers.sort((a, b) => a.name.localeCompare(b.name));
    return { revision, global, globalRevision, globalProblem, customers };
  }
  const held = gone.length > 0 && gone.length > live.length * MASS_REMOVAL_SHARE && !inp.allowMassRemoval;
  for (const r of gone) {
    const kept = held ? fromRecord(r, global) : {};
    customers.push({
      name: r.name, file: r.file, source: held ? "removal-held" : "removed", ...kept,
      firstAppliedAt: r.firstAppliedAt ? new Date(r.firstAppliedAt) : now,
    });
  }
  customers.sort((a, b) => a.name.localeCompare(b.name));
  return {
    revision, global, globalRevision, globalProblem, customers,
    ...(gone.length > 0 ? { massRemoval: { removed: gone.map((r) => r.name), of: live.length, held } } : {}),
  };
}
