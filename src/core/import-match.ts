import { stringify } from "yaml";
import type { GlobalFile } from "../config/model.ts";
import type { Agreement, Company } from "../ports/connectwise.ts";
import { checkMapping } from "./connectwise-checks.ts";

/**
 * Legal-form suffixes that do not tell two companies apart, as they read after `normaliseName`
 * has dropped dots and punctuation ("S.r.l." → "srl", "Pty. Ltd." → "pty ltd"). Longest first.
 */
export const LEGAL_SUFFIXES: readonly string[] = [
  "pty ltd", "corporation", "limited", "gmbh", "corp", "inc", "llc", "ltd", "srl", "sa", "ag", "bv", "co",
];

/** The reason every draft is suspended with: merging a draft bills nothing until a person removes it. */
export const IMPORT_SUSPEND_REASON = "imported: review before billing";

/** How LMP customer files are matched to files for billing (`billing-lines.ts`): case and whitespace only. */
export const sameLmpName = (a: string, b: string) => light(a) === light(b);
const light = (s: string) => s.normalize("NFC").replace(/\s+/g, " ").trim().toLowerCase();

/**
 * A company or customer name for matching: case, accents, punctuation and whitespace folded, and
 * trailing legal suffixes dropped ("Acme, Inc." and "ACME inc" → "acme"), never down to nothing.
 */
export function normaliseName(name: string): string {
  let words = name
    .normalize("NFKD")
    .replace(/\p{M}/gu, "")
    .toLowerCase()
    .replace(/[.'’]/g, "") // "S.r.l." is one word, "O'Brien" too
    .replace(/[^\p{L}\p{N}]+/gu, " ")
    .trim()
    .split(" ")
    .filter(Boolean);
  for (let cut = true; cut; ) {
    cut = false;
    for (const suffix of LEGAL_SUFFIXES) {
      const parts = suffix.split(" ");
      if (words.length > parts.length && words.slice(-parts.length).join(" ") === suffix) {
        words = words.slice(0, -parts.length);
        cut = true;
        break;
      }
    }
  }
  return words.join(" ");
}

/** A customer file name from a company name: [a-z0-9-], 1–63 characters; undefined when nothing is left. */
export function slugName(name: string): string | undefined {
  const slug = normaliseName(name).replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "");
  const cut = slug.length > 63 ? slug.slice(0, 63).replace(/-[^-]*$/, "") || slug.slice(0, 63) : slug;
  return cut.replace(/-+$/, "") || undefined;
}

export interface LmpCustomer {
  /** The name exactly as the LMP report spells it. */
  name: string;
  /** The catalogue products (keys of `_global.yaml`'s products) its report rows show. */
  products: string[];
}

export interface ExistingCustomer {
  file: string;
  name: string;
  lmpCustomer?: string;
  companyId?: string;
}

export interface CandidateCompany {
  company: Company;
  /** "found" (active), or why it cannot be matched: deleted, or its status is flagged inactive. */
  state: "found" | "deleted" | "inactive";
}

/** What ConnectWise shows of a candidate company: its agreements and the catalogue items their live additions bill. */
export interface CompanyEvidence {
  agreements: Agreement[];
  /** Live additions (not cancelled) on active agreements: agreement id and catalogue item identifier. */
  additions: { agreementId: number; catalogItem: string }[];
}

export type AgreementMapping = "default" | { type: string; name: string };

export interface Draft {
  name: string;
  displayName: string;
  lmpCustomer: string;
  companyId: string;
  agreements: Record<string, AgreementMapping>;
  /** What the draft leaves for the reviewer (a product it could not map, and why). */
  notes: string[];
}

export type ImportOutcome =
  | { kind: "matched"; lmpCustomer: string; company: Company; reason: string; draft: Draft }
  | { kind: "ambiguous"; lmpCustomer: string; candidates: Company[]; reason: string }
  | { kind: "unmatched"; lmpCustomer: string; reason: string }
  | { kind: "skipped"; lmpCustomer: string; reason: string };

const describe = (c: Company) => `“${c.name}” (${c.identifier}, #${c.id})`;
const listing = (xs: readonly string[]) => xs.join(", ");

/** The LMP customers no existing file configures by name (the others are skipped, naming the file). */
export function splitConfigured(lmp: readonly LmpCustomer[], existing: readonly ExistingCustomer[]): { open: LmpCustomer[]; skipped: ImportOutcome[] } {
  const open: LmpCustomer[] = [];
  const skipped: ImportOutcome[] = [];
  for (const c of lmp) {
    const by = existing.find((e) => e.lmpCustomer !== undefined && sameLmpName(e.lmpCustomer, c.name));
    if (by) skipped.push({ kind: "skipped", lmpCustomer: c.name, reason: `already configured by ${by.file}` });
    else open.push(c);
  }
  return { open, skipped };
}

/** Companies (any state) whose name normalises to the same as the LMP customer's. */
export function namesakes(lmpName: string, companies: readonly CandidateCompany[]): CandidateCompany[] {
  const want = normaliseName(lmpName);
  return want === "" ? [] : companies.filter((c) => normaliseName(c.company.name) === want);
}

export interface MatchInput {
  lmp: readonly LmpCustomer[];
  existing: readonly ExistingCustomer[];
  companies: readonly CandidateCompany[];
  /** By company id: only companies that are the active namesake of an open LMP customer need one. */
  evidence: ReadonlyMap<number, CompanyEvidence>;
  global: Pick<GlobalFile, "products" | "connectwise">;
}

/**
 * Pure: pairs each LMP customer with at most one active company and drafts its file. Never guesses:
 * several namesakes are settled only by one alone holding additions for the customer's products;
 * a company two LMP customers pair with, a company a file already uses, a file name that exists or
 * that two drafts would share: each is reported with its reason and drafts nothing.
 */
export function matchImports(input: MatchInput): ImportOutcome[] {
  const { open, skipped } = splitConfigured(input.lmp, input.existing);
  const out: ImportOutcome[] = [...skipped];
  const paired: { lmp: LmpCustomer; company: Company; reason: string }[] = [];
  const catalogOf = (product: string) => input.global.products[product]?.catalogItem.toLowerCase();
  const holds = (c: Company, products: readonly string[]) => {
    const items = new Set((input.evidence.get(c.id)?.additions ?? []).map((a) => a.catalogItem.toLowerCase()));
    return products.filter((p) => items.has(catalogOf(p) ?? "\u0000"));
  };
  for (const lmp of open) {
    const all = namesakes(lmp.name, input.companies);
    const active = all.filter((c) => c.state === "found").map((c) => c.company);
    const normalised = `“${normaliseName(lmp.name)}” after normalising`;
    if (active.length === 0) {
      const others = all.map((c) => `${describe(c.company)} is ${c.state}`);
      out.push({ kind: "unmatched", lmpCustomer: lmp.name, reason: others.length ? `no active company named ${normalised}: ${listing(others)}` : `no active company named ${normalised}` });
      continue;
    }
    if (active.length === 1) {
      paired.push({ lmp, company: active[0], reason: `the one active company named ${normalised}` });
      continue;
    }
    const holding = active.filter((c) => holds(c, lmp.products).length > 0);
    if (holding.length === 1) {
      paired.push({ lmp, company: holding[0], reason: `${active.length} active companies named ${normalised}; only this one holds additions for ${listing(holds(holding[0], lmp.products))}` });
      continue;
    }
    const why = holding.length === 0 ? "none holds additions for its products" : `${holding.length} hold additions for its products`;
    out.push({ kind: "ambiguous", lmpCustomer: lmp.name, candidates: active, reason: `${active.length} active companies named ${normalised}; ${why}` });
  }

  const claims = new Map<number, string[]>();
  for (const p of paired) claims.set(p.company.id, [...(claims.get(p.company.id) ?? []), p.lmp.name]);
  const drafts: { lmp: LmpCustomer; company: Company; reason: string; draft: Draft }[] = [];
  for (const p of paired) {
    const used = input.existing.find((e) => e.companyId !== undefined && e.companyId.toLowerCase() === p.company.identifier.toLowerCase());
    if (used) {
      out.push({ kind: "skipped", lmpCustomer: p.lmp.name, reason: `its company ${describe(p.company)} is already configured by ${used.file}${used.lmpCustomer ? ` (trendMicro.customer “${used.lmpCustomer}”)` : ""}` });
      continue;
    }
    const rivals = claims.get(p.company.id)!.filter((n) => n !== p.lmp.name);
    if (rivals.length) {
      out.push({ kind: "ambiguous", lmpCustomer: p.lmp.name, candidates: [p.company], reason: `LMP customer${rivals.length > 1 ? "s" : ""} ${listing(rivals.map((n) => `“${n}”`))} pair${rivals.length > 1 ? "" : "s"} with the same company` });
      continue;
    }
    const name = slugName(p.company.name) ?? slugName(p.company.identifier);
    if (!name) {
      out.push({ kind: "skipped", lmpCustomer: p.lmp.name, reason: `no file name ([a-z0-9-]) can be made from ${describe(p.company)}` });
      continue;
    }
    drafts.push({ ...p, draft: draftFor(name, p.lmp, p.company, input) });
  }

  const byName = new Map<string, string[]>();
  for (const d of drafts) byName.set(d.draft.name, [...(byName.get(d.draft.name) ?? []), d.lmp.name]);
  for (const d of drafts) {
    const file = input.existing.find((e) => e.name === d.draft.name);
    const twins = byName.get(d.draft.name)!.filter((n) => n !== d.lmp.name);
    if (file) out.push({ kind: "skipped", lmpCustomer: d.lmp.name, reason: `its draft ${d.draft.name}.yaml would overwrite ${file.file} (never overwritten); write it by hand` });
    else if (twins.length) out.push({ kind: "skipped", lmpCustomer: d.lmp.name, reason: `its draft would be named ${d.draft.name}.yaml, as that of ${listing(twins.map((n) => `“${n}”`))}; neither is written: write them by hand` });
    else out.push({ kind: "matched", lmpCustomer: d.lmp.name, company: d.company, reason: d.reason, draft: d.draft });
  }
  return out.sort((a, b) => a.lmpCustomer.localeCompare(b.lmpCustomer));
}

/** The mappings the company's additions show: `default` where that resolves to the agreement holding them, else its type and name. */
function draftFor(name: string, lmp: LmpCustomer, company: Company, input: MatchInput): Draft {
  const evidence = input.evidence.get(company.id) ?? { agreements: [], additions: [] };
  const defaults = input.global.connectwise.defaultAgreementTypes;
  const notes: string[] = [];
  const held = new Map<string, Agreement[]>();
  for (const [product, p] of Object.entries(input.global.products).sort(([x], [y]) => x.localeCompare(y))) {
    const ids = new Set(evidence.additions.filter((a) => a.catalogItem.toLowerCase() === p.catalogItem.toLowerCase()).map((a) => a.agreementId));
    const agreements = evidence.agreements.filter((a) => ids.has(a.id));
    if (agreements.length === 1) held.set(product, agreements);
    else if (agreements.length > 1) notes.push(`${product}: additions on ${agreements.length} agreements (${listing(agreements.map((a) => `“${a.name}”`))}); map it by hand`);
  }
  const isDefaultType = (a: Agreement) => defaults.some((t) => t.toLowerCase() === a.type.name.toLowerCase());
  const named = (a: Agreement): AgreementMapping => ({ type: a.type.name, name: a.name });
  // `default` can mean one agreement only: try each default-type agreement holding additions (most
  // products first), the others named by type and name; where none resolves, every mapping is named
  const pool = [...new Set([...held.values()].map(([a]) => a).filter(isDefaultType))]
    .map((a) => ({ a, count: [...held.values()].filter(([x]) => x.id === a.id).length }))
    .sort((x, y) => y.count - x.count || x.a.id - y.a.id);
  const attempt = (chosen: Agreement | undefined) => new Map([...held].map(([product, [a]]) => [product, a.id === chosen?.id ? "default" as const : named(a)]));
  let proposed = attempt(undefined);
  for (const { a } of pool) {
    const trial = attempt(a);
    const explicit = [...trial.values()].filter((m): m is { type: string; name: string } => m !== "default");
    if ([...held].every(([product, [x]]) => trial.get(product) !== "default" || resolvesTo(product, "default", x, evidence.agreements, defaults, explicit))) {
      proposed = trial;
      break;
    }
  }
  const explicit = () => [...proposed.values()].filter((m): m is { type: string; name: string } => m !== "default");
  const agreements: Record<string, AgreementMapping> = {};
  for (const [product, [a]] of held) {
    const m = proposed.get(product)!;
    if (resolvesTo(product, m, a, evidence.agreements, defaults, explicit())) agreements[product] = m;
    else notes.push(`${product}: agreement “${a.name}” (${a.type.name}) cannot be named unambiguously; map it by hand`);
  }
  for (const product of lmp.products) {
    if (!(product in agreements) && !held.has(product) && !notes.some((n) => n.startsWith(`${product}:`))) notes.push(`${product}: in the LMP report, but no addition in ConnectWise shows its agreement; map it by hand`);
  }
  return { name, displayName: company.name, lmpCustomer: lmp.name, companyId: company.identifier, agreements, notes };
}

function resolvesTo(product: string, m: AgreementMapping, a: Agreement, all: readonly Agreement[], defaults: readonly string[], explicit: { type: string; name: string }[]): boolean {
  const check = checkMapping(product, m, all, defaults, explicit);
  return check.state === "resolved" && check.agreements[0].id === a.id;
}

/** The draft as a customer file (the format of DESIGN §2), suspended until a person reviews it. */
export function draftText(d: Draft, at: Date): string {
  const body = {
    apiVersion: "cwsync/v1",
    kind: "Customer",
    name: d.name,
    displayName: d.displayName,
    suspend: { reason: IMPORT_SUSPEND_REASON },
    trendMicro: { customer: d.lmpCustomer },
    connectwise: { enabled: true, companyId: d.companyId },
    ...(Object.keys(d.agreements).length ? { agreements: d.agreements } : {}),
    notifications: "global",
  };
  const notes = d.notes.map((n) => `# - ${n.replace(/[\r\n]+/g, " ")}\n`).join("");
  return (
    "# yaml-language-server: $schema=../schemas/customer.schema.json\n" +
    `# Drafted by \`cwsync import\` on ${at.toISOString().slice(0, 10)} from ConnectWise and the LMP report: review it, then remove \`suspend\`.\n` +
    (notes ? `# Left for the reviewer:\n${notes}` : "") +
    stringify(body, { lineWidth: 0 })
  );
}
