import { resolve } from "node:path";
import { UnsafeConditionValue } from "../../adapters/connectwise/conditions.ts";
import { loadConfig } from "../../config/load.ts";
import { didYouMean } from "../../config/hints.ts";
import { asRecord } from "../../config/notification-rules.ts";
import { loadSchema } from "../../config/schema.ts";
import { checkCompany, type CompanyCheck } from "../../core/connectwise-checks.ts";
import { OperationError, UsageError } from "../../errors.ts";
import { openConnectWise } from "../../app/connectwise-session.ts";
import type { Deps } from "../../app/deps.ts";

export interface VerifyOptions {
  customer?: string;
  company?: string;
  repo: string;
  sandbox: boolean;
  format: "text" | "json";
}

/** The customer's company ID as its file states it (even when another part of the file is invalid). */
function companyIdOf(name: string, repo: string, io: Deps): { id: string; note?: string } {
  const { groups } = io.readWorkingFiles(["customers"], resolve(io.cwd, repo));
  const g = groups[0];
  const result = g ? loadConfig(g.files, g.globalPath) : undefined;
  const c = result?.customers.find((x) => x.name === name);
  if (!c) {
    const hint = didYouMean(name, result?.customers.map((x) => x.name) ?? []);
    throw new OperationError(`no customer \`${name}\` in customers/${hint ? ` — ${hint}` : ""}`);
  }
  const cw = asRecord(asRecord(c.data)?.connectwise);
  if (typeof cw?.companyId !== "string") throw new OperationError(`${c.file} has no \`connectwise.companyId\` to verify`);
  const notes = [c.config ? undefined : `${c.file} has errors (run \`cwsync validate\`)`, cw.enabled === false ? "its integration is disabled" : undefined].filter(Boolean);
  return { id: cw.companyId, note: notes.join("; ") || undefined };
}

interface StringRule { description: string; minLength: number; maxLength: number; pattern: string }

/**
 * `--company ID` against the rule customer files apply to `connectwise.companyId` (read from the
 * customer schema, so the two cannot drift): a value no file could hold is a usage error before any request.
 */
function checkCompanyFlag(id: string): void {
  const cw = (loadSchema("customer").properties as Record<string, { properties: Record<string, StringRule> }>).connectwise;
  const rule = cw.properties.companyId;
  const pattern = new RegExp(rule.pattern, "u");
  const length = [...id].length; // JSON Schema counts code points
  const bad = [...new Set([...id].filter((c) => !pattern.test(c)))];
  const problem =
    length === 0 ? "it is empty"
    : length < rule.minLength || length > rule.maxLength ? `it has ${length} characters`
    : bad.length > 0 ? `it contains ${bad.map((c) => `\`${c}\``).join(" ")}`
    : !pattern.test(id) ? `it does not match ${rule.pattern}`
    : undefined;
  if (!problem) return;
  // the rule as the schema states it, without its advice on YAML quoting
  const statement = rule.description.replace(/\s*Quote numeric IDs\.?$/, "");
  throw new UsageError(`--company: not a valid company ID (${problem}); as in connectwise.companyId of a customer file: ${statement}`);
}

const VERDICT: Record<CompanyCheck["state"], string> = {
  found: "found and active",
  "not-found": "not found",
  deleted: "deleted in ConnectWise",
  inactive: "inactive in ConnectWise",
};

/** `cwsync verify`: the seed's Verify button. Exit 0 only when the company is found and active. */
export async function verifyCommand(opts: VerifyOptions, io: Deps): Promise<number> {
  if ((opts.customer === undefined) === (opts.company === undefined)) throw new UsageError("verify takes a CUSTOMER or --company ID (one of them)");
  if (opts.company !== undefined) checkCompanyFlag(opts.company);
  const { id, note } = opts.company !== undefined ? { id: opts.company, note: undefined } : companyIdOf(opts.customer!, opts.repo, io);
  const session = await openConnectWise({ sandbox: opts.sandbox, repo: opts.repo }, io);
  try {
    let check: CompanyCheck;
    try {
      const [companies, statuses] = await Promise.all([session.cw.findCompanies([id]), session.cw.companyStatuses()]);
      check = checkCompany(id, companies, statuses);
    } catch (e) {
      if (e instanceof UnsafeConditionValue) throw new OperationError(`company ID \`${id}\` cannot be looked up: ${e.message.split(": ").slice(1).join(": ")}`);
      throw e;
    }
    if (opts.format === "json") {
      io.stdout(JSON.stringify({ companyId: id, customer: opts.customer ?? null, state: check.state, company: "company" in check ? check.company : null, note: note ?? null }, null, 2) + "\n");
    } else {
      const c = "company" in check ? check.company : undefined;
      const who = opts.customer ? `${opts.customer} (company ID ${id})` : `company ID ${id}`;
      io.stdout(`${check.state === "found" ? "✔" : "✖"} ${who}: ${VERDICT[check.state]} in ${session.target}\n`);
      if (c) io.stdout(`  #${c.id} “${c.name}” — status ${c.status?.name ?? "unknown"}${c.deletedFlag ? ", deleted" : ""}\n`);
      if (note) io.stdout(`  note: ${note}\n`);
    }
    return check.state === "found" ? 0 : 1;
  } finally {
    await session.close();
  }
}
