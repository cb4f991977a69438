import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { loadConfig, type SourceFile } from "../config/load.ts";
import { asRecord } from "../config/notification-rules.ts";
import type { GlobalFile } from "../config/model.ts";
import { checkCompany } from "../core/connectwise-checks.ts";
import {
  draftText, matchImports, namesakes, sameLmpName, splitConfigured,
  type CandidateCompany, type CompanyEvidence, type ExistingCustomer, type ImportOutcome, type LmpCustomer,
} from "../core/import-match.ts";
import { ConfigError, OperationError, UsageError } from "../errors.ts";
import type { Agreement, ConnectWise } from "../ports/connectwise.ts";
import type { LicenseRow } from "../ports/license-source.ts";
import type { Deps } from "./deps.ts";

export interface ImportOptions {
  /** The repository holding customers/ and _global.yaml. */
  repo: string;
  /** Where drafts are written (default: the repository's customers/). */
  out?: string;
  /** The LMP report month `YYYY-MM` (default: the month of `at`, UTC). */
  month?: string;
  at?: Date;
  sandbox: boolean;
}

export type ImportEntry = ImportOutcome & { file?: string };

export interface ImportResult {
  month: string;
  target: string;
  out: string;
  entries: ImportEntry[];
}

const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;

function reportMonth(month: string | undefined, now: Date): [number, number] {
  if (month === undefined) return [now.getUTCFullYear(), now.getUTCMonth() + 1];
  const m = MONTH.exec(month);
  if (!m) throw new UsageError(`--month: \`${month}\` is not a month; use YYYY-MM, e.g. 2027-01`);
  return [Number(m[1]), Number(m[2])];
}

/** The report's customers (first spelling of each), with the catalogue products their rows show. */
function lmpCustomers(rows: readonly LicenseRow[], global: GlobalFile): LmpCustomer[] {
  const out: LmpCustomer[] = [];
  for (const r of rows) {
    if (r.customerName.trim() === "") continue;
    let c = out.find((x) => sameLmpName(x.name, r.customerName));
    if (!c) out.push((c = { name: r.customerName, products: [] }));
    for (const [key, p] of Object.entries(global.products)) if (sameLmpName(p.lmp.productName, r.productName) && !c.products.includes(key)) c.products.push(key);
  }
  return out.map((c) => ({ ...c, products: c.products.sort() }));
}

const isActive = (a: Agreement) => a.cancelledFlag !== true && (a.agreementStatus === undefined || a.agreementStatus === "Active");

/**
 * `cwsync import`: drafts customer files from ConnectWise and the LMP report (DESIGN §10). Reads
 * every remote, writes only new local files: each draft is suspended, never overwrites a file and
 * passes the same validation as `cwsync validate` together with the files already there.
 */
export async function importCustomers(opts: ImportOptions, deps: Deps): Promise<ImportResult> {
  const repo = resolve(deps.cwd, opts.repo);
  const now = opts.at ?? new Date(deps.clock.now());
  const [year, month] = reportMonth(opts.month, now);
  const monthKey = `${year}-${String(month).padStart(2, "0")}`;
  const { groups } = deps.readWorkingFiles(["customers"], repo);
  const group = groups[0];
  if (!group) throw new UsageError(`no customers/ folder in ${repo}`);
  const loaded = loadConfig(group.files, group.globalPath);
  const global = loaded.global;
  if (!global) throw new ConfigError(`${loaded.globalFile} is missing or invalid: run \`cwsync validate\``, loaded.diagnostics.filter((d) => d.file === loaded.globalFile));
  const out = opts.out === undefined ? join(repo, dirname(group.globalPath)) : resolve(deps.cwd, opts.out);
  const existing: ExistingCustomer[] = loaded.customers.map((c) => {
    const data = asRecord(c.data);
    const tm = asRecord(data?.trendMicro);
    const cw = asRecord(data?.connectwise);
    return {
      file: c.file, name: c.name,
      lmpCustomer: typeof tm?.customer === "string" ? tm.customer : undefined,
      companyId: typeof cw?.companyId === "string" ? cw.companyId : undefined,
    };
  });
  // with --out elsewhere, the files already there are never overwritten either
  if (existsSync(out)) {
    for (const f of readdirSync(out)) {
      const name = f.replace(/\.ya?ml$/, "");
      if (name !== f && !existing.some((e) => e.name === name)) existing.push({ file: relative(deps.cwd, join(out, f)) || f, name });
    }
  }

  const session = await deps.openSources({ sandbox: opts.sandbox, repo: opts.repo, license: true, now: () => now.getTime() });
  try {
    const { cw, license } = session;
    const [rows, changed, statuses] = await Promise.all([
      license!.summary(year, month),
      // every company: changed at some point since the epoch (the port has no plain listing)
      cw.changedSince(new Date(0)),
      cw.companyStatuses(),
    ]);
    const lmp = lmpCustomers(rows, global);
    const companies: CandidateCompany[] = changed.companies.map((company) => {
      const check = checkCompany(company.identifier, [company], statuses);
      return { company, state: check.state === "found" || check.state === "not-found" ? "found" : check.state };
    });
    const { open } = splitConfigured(lmp, existing);
    const ids = [...new Set(open.flatMap((c) => namesakes(c.name, companies).filter((x) => x.state === "found").map((x) => x.company.id)))];
    const evidence = await readEvidence(ids, now, session.cw);
    const outcomes = matchImports({ lmp, existing, companies, evidence, global });
    const entries = writeDrafts(outcomes, { group, out, now, cwd: deps.cwd });
    return { month: monthKey, target: session.target, out: relative(deps.cwd, out) || ".", entries };
  } finally {
    await session.close();
  }
}

async function readEvidence(ids: readonly number[], now: Date, cw: ConnectWise): Promise<Map<number, CompanyEvidence>> {
  const evidence = new Map<number, CompanyEvidence>();
  if (ids.length === 0) return evidence;
  const agreements = await cw.agreementsOf(ids);
  const day = now.toISOString().slice(0, 10);
  for (const id of ids) evidence.set(id, { agreements: agreements.filter((a) => a.company.id === id), additions: [] });
  await Promise.all(agreements.filter(isActive).map(async (a) => {
    const live = (await cw.additionsOf(a.id)).filter((x) => !x.cancelledDate || x.cancelledDate.slice(0, 10) > day);
    evidence.get(a.company.id)?.additions.push(...live.map((x) => ({ agreementId: a.id, catalogItem: x.product.identifier })));
  }));
  return evidence;
}

/**
 * Validates every draft with the files already there (the loader `cwsync validate` runs) and writes
 * the valid ones, never over an existing file; a draft that fails either is reported, not written.
 */
function writeDrafts(outcomes: ImportOutcome[], ctx: { group: { files: readonly SourceFile[]; globalPath: string }; out: string; now: Date; cwd: string }): ImportEntry[] {
  const folder = dirname(ctx.group.globalPath);
  const texts = new Map<string, { path: string; text: string }>();
  for (const o of outcomes) {
    if (o.kind !== "matched") continue;
    const text = draftText(o.draft, ctx.now);
    texts.set(o.lmpCustomer, { path: join(folder, `${o.draft.name}.yaml`), text });
  }
  const drafts: SourceFile[] = [...texts.values()].map((t) => ({ path: t.path, size: Buffer.byteLength(t.text), text: t.text }));
  const check = loadConfig([...ctx.group.files, ...drafts], ctx.group.globalPath);
  return outcomes.map((o): ImportEntry => {
    if (o.kind !== "matched") return o;
    const { path, text } = texts.get(o.lmpCustomer)!;
    const errors = check.customers.find((c) => c.file === path)?.diagnostics.filter((d) => d.severity === "error") ?? [];
    if (errors.length) {
      return { kind: "skipped", lmpCustomer: o.lmpCustomer, reason: `its draft ${o.draft.name}.yaml would not validate: ${errors.map((d) => `${d.code} ${d.message}`).join("; ")}` };
    }
    const target = join(ctx.out, basename(path));
    const shown = relative(ctx.cwd, target) || target;
    try {
      mkdirSync(ctx.out, { recursive: true });
      writeFileSync(target, text, { flag: "wx" });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "EEXIST") return { kind: "skipped", lmpCustomer: o.lmpCustomer, reason: `${shown} exists (never overwritten)` };
      throw new OperationError(`cannot write ${shown}: ${(e as Error).message}`);
    }
    return { ...o, file: shown };
  });
}
