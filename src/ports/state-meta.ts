import type { GlobalFile } from "../config/model.ts";
import type { StateStore } from "./state-store.ts";

/**
 * The state's `meta` table, typed: every key cwsync keeps there, in one place, with the type of
 * its value. Nothing else names a meta key.
 */
const KEYS = {
  /** The last revision a whole reconcile applied. */
  appliedRevision: "revision.applied",
  /** The last valid `_global.yaml`, parsed, as JSON, and the revision it came from. */
  global: "global.config",
  globalRevision: "global.revision",
  /** When the detection counters were last pruned (ISO UTC). */
  prunedAt: "detections.prunedAt",
  /** The ConnectWise the state belongs to (its ledger says what was sent there). */
  target: "target",
  /** Where the daemon holding the lease answers, as JSON. */
  daemon: "daemon",
} as const;

type Meta = Pick<StateStore, "getMeta" | "setMeta">;

export interface StateMeta {
  appliedRevision(): string | undefined;
  setAppliedRevision(revision: string, token: number): void;
  /** The last valid `_global.yaml` applied, and its revision. */
  lastGlobal(): { config: GlobalFile; revision: string } | undefined;
  /** The revision of the last valid `_global.yaml`, without parsing it. */
  globalRevision(): string | undefined;
  setLastGlobal(config: GlobalFile, revision: string, token: number): void;
  prunedAt(): string | undefined;
  setPrunedAt(at: string, token: number): void;
  target(): string | undefined;
  setTarget(target: string, token: number): void;
  /** The daemon address record, parsed; undefined when absent or unreadable. */
  daemon(): unknown;
  setDaemon(address: unknown, token: number): void;
}

function parsed(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

export function stateMeta(store: Meta): StateMeta {
  return {
    appliedRevision: () => store.getMeta(KEYS.appliedRevision),
    setAppliedRevision: (revision, token) => store.setMeta(KEYS.appliedRevision, revision, token),
    lastGlobal: () => {
      const text = store.getMeta(KEYS.global);
      return text ? { config: JSON.parse(text) as GlobalFile, revision: store.getMeta(KEYS.globalRevision) ?? "" } : undefined;
    },
    globalRevision: () => store.getMeta(KEYS.globalRevision),
    setLastGlobal: (config, revision, token) => {
      store.setMeta(KEYS.global, JSON.stringify(config), token);
      store.setMeta(KEYS.globalRevision, revision, token);
    },
    prunedAt: () => store.getMeta(KEYS.prunedAt),
    setPrunedAt: (at, token) => store.setMeta(KEYS.prunedAt, at, token),
    target: () => store.getMeta(KEYS.target),
    setTarget: (target, token) => store.setMeta(KEYS.target, target, token),
    daemon: () => parsed(store.getMeta(KEYS.daemon)),
    setDaemon: (address, token) => store.setMeta(KEYS.daemon, JSON.stringify(address), token),
  };
}
