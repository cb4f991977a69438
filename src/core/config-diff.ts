import type { EffectiveCustomer } from "../config/resolve.ts";
import type { AtOnceSend, ChangeModel } from "./change-model.ts";
import { describeSchedule, previewCustomer, type PreviewSend } from "./preview.ts";

export interface FieldChange {
  field: string;
  before?: string;
  after?: string;
}

export interface SendMove {
  report: string;
  before?: PreviewSend;
  after?: PreviewSend;
  /** Sends the first reconcile after the merge makes at once: the new config made them due before the plan's instant. */
  atOnce?: AtOnceSend[];
}

export interface CustomerChange {
  name: string;
  kind: "added" | "removed" | "changed";
  /** A removal the mass-removal guard holds: the customer keeps running until `--allow-mass-removal`. */
  held?: boolean;
  fields: FieldChange[];
  moves: SendMove[];
}

/** Customers whose field changes are identical ("the same change to N customers"). */
export interface ChangeGroup {
  fields: FieldChange[];
  names: string[];
}

export interface ConfigDiff {
  global: FieldChange[];
  changes: CustomerChange[];
  groups: ChangeGroup[];
  unchanged: number;
  /** Set when the change deletes customers: which, out of how many, and whether the guard holds them. */
  massRemoval?: { removed: string[]; of: number; held: boolean };
}

/** One line per setting, as a person reads it; the unit of "changed field by field". */
export function flattenCustomer(c: EffectiveCustomer): Map<string, string> {
  const m = new Map<string, string>();
  const set = (k: string, v: unknown) => v !== undefined && m.set(k, Array.isArray(v) ? v.join(", ") : String(v));
  set("displayName", c.displayName);
  set("owner", c.owner);
  set("suspend", c.suspend && `${c.suspend.reason}${c.suspend.until ? ` (until ${c.suspend.until})` : ""}`);
  set("trendMicro.customer", c.lmpCustomer);
  set("trendMicro.emailDomains", c.emailDomains.length ? c.emailDomains : undefined);
  set("connectwise.enabled", c.enabled);
  set("connectwise.companyId", c.companyId);
  for (const [p, a] of Object.entries(c.agreements).sort(([x], [y]) => x.localeCompare(y))) {
    set(`agreements.${p}`, a === "default" ? "default" : `${a.type} / ${a.name}`);
  }
  set("notifications", c.settings);
  set("timezone", c.timezone);
  set("at", c.at);
  for (const r of c.reports) {
    set(`${r.report}.schedule`, describeSchedule(r, c));
    set(`${r.report}.products`, r.products);
    set(`${r.report}.edition`, r.edition);
    set(`${r.report}.detections`, r.detections);
  }
  return m;
}

export function diffMaps(before: Map<string, string>, after: Map<string, string>): FieldChange[] {
  const keys = [...new Set([...before.keys(), ...after.keys()])];
  return keys.filter((k) => before.get(k) !== after.get(k)).map((field) => ({ field, before: before.get(field), after: after.get(field) }));
}

function moves(before: EffectiveCustomer | undefined, after: EffectiveCustomer | undefined, now: Date, atOnce: readonly AtOnceSend[]): SendMove[] {
  const first = (c: EffectiveCustomer | undefined) =>
    new Map((c ? previewCustomer(c, now, 1).reports : []).map((r) => [r.report, r.sends[0]] as const));
  const b = first(before);
  const a = first(after);
  const reports = [...new Set([...b.keys(), ...a.keys()])];
  return reports
    .map((report) => {
      const due = atOnce.filter((x) => x.report === report);
      return { report, before: b.get(report), after: a.get(report), ...(due.length ? { atOnce: due } : {}) };
    })
    .filter((mv) => mv.atOnce || mv.before?.due.getTime() !== mv.after?.due.getTime() || mv.before?.skipped !== mv.after?.skipped || mv.before?.periodKey !== mv.after?.periodKey);
}

/**
 * Pure: what changes between two sets of effective customers, and how each change moves the next
 * sends. With the change model (`modelChange`), removals the guard holds are marked and the sends
 * the merge makes at once are named: the same rules the reconcile after the merge applies.
 */
export function diffConfigs(
  base: ReadonlyMap<string, EffectiveCustomer>,
  head: ReadonlyMap<string, EffectiveCustomer>,
  globalBefore: Map<string, string>,
  globalAfter: Map<string, string>,
  now: Date,
  model?: ChangeModel,
): ConfigDiff {
  const changes: CustomerChange[] = [];
  let unchanged = 0;
  const mass = model?.desired.massRemoval;
  const held = new Set(mass?.held ? mass.removed : []);
  const names = [...new Set([...base.keys(), ...head.keys()])].sort();
  for (const name of names) {
    const b = base.get(name);
    const h = head.get(name);
    const fields = diffMaps(b ? flattenCustomer(b) : new Map(), h ? flattenCustomer(h) : new Map());
    if (b && h && fields.length === 0) {
      unchanged++;
      continue;
    }
    const kind = !b ? "added" : !h ? "removed" : "changed";
    // a held removal keeps sending on its last config: its sends do not move
    const after = held.has(name) ? b : h;
    changes.push({ name, kind, ...(held.has(name) ? { held: true } : {}), fields, moves: moves(b, after, now, model?.atOnce.get(name) ?? []) });
  }
  const bySignature = new Map<string, ChangeGroup>();
  for (const c of changes) {
    if (c.kind !== "changed") continue;
    const sig = JSON.stringify(c.fields);
    const g = bySignature.get(sig) ?? { fields: c.fields, names: [] };
    g.names.push(c.name);
    bySignature.set(sig, g);
  }
  const groups = [...bySignature.values()].filter((g) => g.names.length > 1).sort((x, y) => y.names.length - x.names.length);
  return { global: diffMaps(globalBefore, globalAfter), changes, groups, unchanged, ...(mass ? { massRemoval: mass } : {}) };
}

/** `_global.yaml` flattened to one line per leaf: catalogue, defaults, board, global schedule. */
export function flattenGlobal(data: unknown): Map<string, string> {
  const m = new Map<string, string>();
  const walk = (v: unknown, path: string) => {
    if (Array.isArray(v) && v.every((x) => typeof x !== "object")) m.set(path, v.join(", "));
    else if (v !== null && typeof v === "object") for (const [k, x] of Object.entries(v)) walk(x, path ? `${path}.${k}` : k);
    else m.set(path, String(v));
  };
  walk(data, "");
  m.delete("apiVersion");
  m.delete("kind");
  return m;
}
