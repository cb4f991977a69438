import type { EffectiveCustomer } from "../config/resolve.ts";
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
}

export interface CustomerChange {
  name: string;
  kind: "added" | "removed" | "changed";
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

function moves(before: EffectiveCustomer | undefined, after: EffectiveCustomer | undefined, now: Date): SendMove[] {
  const first = (c: EffectiveCustomer | undefined) =>
    new Map((c ? previewCustomer(c, now, 1).reports : []).map((r) => [r.report, r.sends[0]] as const));
  const b = first(before);
  const a = first(after);
  const reports = [...new Set([...b.keys(), ...a.keys()])];
  return reports
    .map((report) => ({ report, before: b.get(report), after: a.get(report) }))
    .filter((mv) => mv.before?.due.getTime() !== mv.after?.due.getTime() || mv.before?.skipped !== mv.after?.skipped || mv.before?.periodKey !== mv.after?.periodKey);
}

/** Pure: what changes between two sets of effective customers, and how each change moves the next sends. */
export function diffConfigs(
  base: ReadonlyMap<string, EffectiveCustomer>,
  head: ReadonlyMap<string, EffectiveCustomer>,
  globalBefore: Map<string, string>,
  globalAfter: Map<string, string>,
  now: Date,
): ConfigDiff {
  const changes: CustomerChange[] = [];
  let unchanged = 0;
  const names = [...new Set([...base.keys(), ...head.keys()])].sort();
  for (const name of names) {
    const b = base.get(name);
    const h = head.get(name);
    const fields = diffMaps(b ? flattenCustomer(b) : new Map(), h ? flattenCustomer(h) : new Map());
    if (b && h && fields.length === 0) {
      unchanged++;
      continue;
    }
    changes.push({ name, kind: !b ? "added" : !h ? "removed" : "changed", fields, moves: moves(b, h, now) });
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
  return { global: diffMaps(globalBefore, globalAfter), changes, groups, unchanged };
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
