import type { LoadedCustomer } from "./load.ts";
import { asRecord } from "./notification-rules.ts";
import { anchorsOf } from "./anchors.ts";

function groupBy<T>(items: readonly T[], key: (t: T) => string | undefined): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    if (k === undefined) continue;
    const g = groups.get(k);
    if (g) g.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

const where = (c: LoadedCustomer, anchor: "name" | "companyId") => {
  const a = anchorsOf(c)[anchor];
  return `${c.file}${a?.line ? `:${a.line}:${a.col}` : ""}`;
};

const nameKey = (c: LoadedCustomer): string | undefined => {
  const name = asRecord(c.data)?.name;
  return typeof name === "string" ? name : undefined;
};

const companyKey = (c: LoadedCustomer): string | undefined => {
  const cw = asRecord(asRecord(c.data)?.connectwise);
  return cw?.enabled === true && typeof cw.companyId === "string" ? cw.companyId.toLowerCase() : undefined;
};

/** True when `checkCrossFile` would report something: two customers share a name or an enabled company ID. */
export function hasCrossFileConflicts(customers: readonly LoadedCustomer[]): boolean {
  // one pass for both keys: `validate` asks this of every folder, 10,000 customers at times
  const names = new Set<string>();
  const companies = new Set<string>();
  for (const c of customers) {
    const name = nameKey(c);
    if (name !== undefined) {
      if (names.has(name)) return true;
      names.add(name);
    }
    const company = companyKey(c);
    if (company !== undefined) {
      if (companies.has(company)) return true;
      companies.add(company);
    }
  }
  return false;
}

/** The customers `checkCrossFile` would report on: each shares its name or enabled company ID with another. */
export function crossFileConflicted<T extends LoadedCustomer>(customers: readonly T[]): T[] {
  const involved = new Set<T>();
  for (const key of [nameKey, companyKey]) {
    for (const group of groupBy(customers, key).values()) if (group.length > 1) for (const c of group) involved.add(c);
  }
  return [...involved];
}

/**
 * Rules across files: customer names unique, and an enabled company ID used by one customer only
 * (ConnectWise identifiers compare case-insensitively). Every file involved gets the diagnostic.
 */
export function checkCrossFile(customers: readonly LoadedCustomer[]): void {
  const byName = groupBy(customers, nameKey);
  for (const [name, group] of byName) {
    if (group.length < 2) continue;
    for (const c of group) {
      const others = group.filter((o) => o !== c).map((o) => where(o, "name"));
      c.diagnostics.push({
        severity: "error", code: "rule.duplicate-name", file: c.file, ...anchorsOf(c).name, path: "/name",
        message: `customer name \`${name}\` is also used by ${others.join(", ")}`,
        hint: "names are unique: rename one customer (and its file)",
      });
    }
  }
  const byCompany = groupBy(customers, companyKey);
  for (const group of byCompany.values()) {
    if (group.length < 2) continue;
    for (const c of group) {
      const id = asRecord(asRecord(c.data)?.connectwise)?.companyId as string;
      const others = group.filter((o) => o !== c).map((o) => where(o, "companyId"));
      c.diagnostics.push({
        severity: "error", code: "rule.duplicate-company", file: c.file, ...anchorsOf(c).companyId, path: "/connectwise/companyId",
        message: `company ID \`${id}\` is also used by ${others.join(", ")}`,
        hint: "each ConnectWise company is billed by one enabled customer: fix the ID, or set `enabled: false` on the old one",
      });
    }
  }
}
