import type { LedgerEntry } from "../ports/state-store.ts";
import type { BillingLine } from "./actions.ts";

/** A decrease held under `decreases: hold` by a billing send that went out, not released yet. */
export interface HeldDecrease {
  /** The billing send that held it. */
  key: string;
  periodKey: string;
  product: string;
  productName: string;
  agreementId: number;
  additionId: number;
  /** The addition's quantity when the send held the decrease. */
  previous: number;
  /** The lower quantity a release sets. */
  quantity: number;
  message: string;
}

/** A held decrease applied by `cwsync release`, as kept in its billing entry's result (`released`). */
export interface Release {
  product: string;
  additionId: number;
  quantity: number;
  at: string;
  by: string;
}

const releasedOf = (e: LedgerEntry): Release[] => ((e.result as { released?: Release[] } | undefined)?.released ?? []);

/**
 * Pure: the held decreases a customer still owes a release, from its ledger entries (any order).
 * Only the latest billing send that went out counts (or the latest of `month`, `YYYY-MM`): a later
 * month's billing holds its own decreases again, or sets the addition, and replaces the earlier ones.
 */
export function heldDecreases(entries: readonly LedgerEntry[], month?: string): HeldDecrease[] {
  const billed = entries
    .filter((e) => e.report === "billing" && e.state === "done" && (month === undefined || e.periodKey.startsWith(month)))
    .sort((a, b) => b.dueAt.localeCompare(a.dueAt) || b.createdAt.localeCompare(a.createdAt));
  const latest = billed[0];
  if (!latest) return [];
  const released = new Set(releasedOf(latest).map((r) => r.product));
  const lines = (latest.payload as { lines?: BillingLine[] } | undefined)?.lines ?? [];
  return lines.flatMap((l) =>
    l.op === "held" && !released.has(l.product) && l.agreementId !== undefined && l.additionId !== undefined && l.previous !== undefined && l.quantity !== undefined
      ? [{
        key: latest.key, periodKey: latest.periodKey, product: l.product, productName: l.productName, agreementId: l.agreementId,
        additionId: l.additionId, previous: l.previous, quantity: l.quantity,
        message: l.message ?? `${l.productName}: ${l.previous} → ${l.quantity} seats is a decrease; held for a human (decreases: hold)`,
      }]
      : [],
  );
}

/** The billing entry with these releases recorded in its result: the decreases they name are no longer held. */
export function withReleases(entry: LedgerEntry, releases: readonly Release[], at: string): LedgerEntry {
  const result = (entry.result ?? {}) as Record<string, unknown>;
  return { ...entry, result: { ...result, released: [...releasedOf(entry), ...releases] }, updatedAt: at };
}
