import type { ConnectWise } from "../ports/connectwise.ts";
import type { Deps } from "./deps.ts";

export interface ConnectWiseSession {
  cw: ConnectWise;
  /** Where the calls go, for output: never credentials. */
  target: string;
  close(): Promise<void>;
}

/**
 * ConnectWise alone for a command (no licence counts, so LMPI is neither required nor started):
 * the embedded sandbox with `--sandbox`, otherwise the real one from the environment.
 */
export async function openConnectWise(opts: { sandbox: boolean; repo: string }, deps: Pick<Deps, "openSources">): Promise<ConnectWiseSession> {
  return deps.openSources({ ...opts, license: false });
}

/** What a reconcile's verification of ConnectWise asked for: the start of the next one asks for it again before the files are loaded. */
export interface VerificationHint {
  identifiers: string[];
  catalogItems: string[];
}

export const isVerificationHint = (v: unknown): v is VerificationHint => {
  const h = v as Partial<VerificationHint> | undefined;
  return typeof h === "object" && h !== null && Array.isArray(h.identifiers) && h.identifiers.every((x) => typeof x === "string")
    && Array.isArray(h.catalogItems) && h.catalogItems.every((x) => typeof x === "string");
};

export interface Prefetch {
  /** `cw` with the verification reads answered by the requests started early when they ask for the same. */
  cw: ConnectWise;
  /** What the verification asked for in this run (absent until it ran): the next run's hint. */
  asked(): VerificationHint | undefined;
  /** Stops the early requests nobody took (a run that ended, or failed, before its verification). */
  stop(): void;
}

type Key = "findCompanies" | "catalogItems" | "agreementTypes" | "companyStatuses" | "agreementsOf";

/**
 * Starts the reads a reconcile's verification of ConnectWise makes (companies by identifier, the
 * catalogue items, agreement types, company statuses, then the agreements of the companies found)
 * at once, with the arguments the last run used, so that they overlap loading the files and
 * reading the state instead of following them. The verification then calls `cw` as always: a call
 * with exactly the arguments started early takes that request's answer (read by the same client,
 * as strictly, through the same limiter), any other goes out as usual and the early request of
 * that read is aborted. Read-only: only GETs are started early.
 */
export function prefetchVerification(cw: ConnectWise, hint: VerificationHint | undefined): Prefetch {
  const early = new Map<Key, { args: string; promise: Promise<unknown>; abort: AbortController }>();
  const asked: Partial<VerificationHint> = {};
  const start = <T>(key: Key, args: unknown[], call: (signal: AbortSignal) => Promise<T>): Promise<T> => {
    const abort = new AbortController();
    const promise = call(abort.signal);
    // taken or not, a failure is never unhandled: the caller that takes it sees it
    promise.catch(() => undefined);
    early.set(key, { args: JSON.stringify(args), promise, abort });
    return promise;
  };
  // without a hint (the first run) nothing starts early: the calls are only recorded
  const companies = hint ? start("findCompanies", [hint.identifiers], (s) => cw.findCompanies(hint.identifiers, s)) : Promise.resolve([]);
  if (hint) {
    start("catalogItems", [hint.catalogItems], (s) => cw.catalogItems(hint.catalogItems, s));
    start("agreementTypes", [], (s) => cw.agreementTypes(s));
    start("companyStatuses", [], (s) => cw.companyStatuses(s));
  }
  // as observeConnectWise asks for them: the companies found that are not deleted
  const agreementsAbort = new AbortController();
  const taken = { agreements: !hint };
  let agreementIds: number[] | undefined;
  const agreements = companies.then((found) => {
    if (!hint) return [];
    agreementIds = found.filter((c) => !c.deletedFlag).map((c) => c.id);
    agreementsAbort.signal.throwIfAborted();
    return cw.agreementsOf(agreementIds, agreementsAbort.signal);
  });
  agreements.catch(() => undefined);

  /** The early answer of `key` when `args` are the same, else undefined (and the early request stops). */
  const take = (key: Key, args: unknown[], signal: AbortSignal | undefined): Promise<unknown> | undefined => {
    const e = early.get(key);
    if (!e) return undefined;
    early.delete(key);
    if (e.args !== JSON.stringify(args)) {
      e.abort.abort();
      return undefined;
    }
    return follow(e.promise, e.abort, signal);
  };
  const own: Partial<ConnectWise> = {
    findCompanies: (identifiers: readonly string[], signal?: AbortSignal) => {
      asked.identifiers = [...identifiers];
      return (take("findCompanies", [identifiers], signal) as ReturnType<ConnectWise["findCompanies"]> | undefined) ?? cw.findCompanies(identifiers, signal);
    },
    catalogItems: (identifiers: readonly string[], signal?: AbortSignal) => {
      asked.catalogItems = [...identifiers];
      return (take("catalogItems", [identifiers], signal) as ReturnType<ConnectWise["catalogItems"]> | undefined) ?? cw.catalogItems(identifiers, signal);
    },
    agreementTypes: (signal?: AbortSignal) => (take("agreementTypes", [], signal) as ReturnType<ConnectWise["agreementTypes"]> | undefined) ?? cw.agreementTypes(signal),
    companyStatuses: (signal?: AbortSignal) => (take("companyStatuses", [], signal) as ReturnType<ConnectWise["companyStatuses"]> | undefined) ?? cw.companyStatuses(signal),
    agreementsOf: async (companyIds: readonly number[], signal?: AbortSignal) => {
      if (!agreementsAbort.signal.aborted && !taken.agreements) {
        taken.agreements = true;
        // the early companies read answered (or failed) before the verification got here: its ids are known
        await companies.catch(() => undefined);
        if (agreementIds !== undefined && JSON.stringify(agreementIds) === JSON.stringify(companyIds)) return follow(agreements, agreementsAbort, signal);
        agreementsAbort.abort();
      }
      return cw.agreementsOf(companyIds, signal);
    },
  };
  // every other call goes to the client itself
  const wrapped = new Proxy(cw, {
    get: (target, key, receiver) => {
      if (Object.hasOwn(own, key)) return own[key as keyof ConnectWise];
      const v = Reflect.get(target, key, receiver) as unknown;
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return {
    cw: wrapped,
    asked: () => (asked.identifiers && asked.catalogItems ? { identifiers: asked.identifiers, catalogItems: asked.catalogItems } : undefined),
    stop: () => {
      for (const e of early.values()) e.abort.abort();
      early.clear();
      if (!taken.agreements) agreementsAbort.abort();
    },
  };
}

/** The early request's answer, stopped when the caller's signal stops (as the caller's own request would be). */
function follow<T>(promise: Promise<T>, abort: AbortController, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) abort.abort(signal.reason);
  else signal.addEventListener("abort", () => abort.abort(signal.reason), { once: true });
  return promise;
}
