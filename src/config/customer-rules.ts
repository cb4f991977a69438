import type { FileContext } from "./file-context.ts";
import { didYouMean } from "./hints.ts";
import { asRecord, checkNotificationBlock } from "./notification-rules.ts";
import type { GlobalFile } from "./model.ts";

const isRealDate = (s: string): boolean => {
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(s);
};

/** The global catalogue's product keys, listed once per `_global.yaml` (not once per customer file). */
const catalogues = new WeakMap<GlobalFile, { keys: string[]; set: Set<string> }>();
function catalogueOf(global: GlobalFile): { keys: string[]; set: Set<string> } {
  let c = catalogues.get(global);
  if (!c) {
    const keys = Object.keys(global.products);
    c = { keys, set: new Set(keys) };
    catalogues.set(global, c);
  }
  return c;
}

/** The semantic rules of one customer file (DESIGN §2, §8). `global` is undefined when `_global.yaml` is broken. */
export function checkCustomer(ctx: FileContext, data: unknown, expectedName: string, global: GlobalFile | undefined): void {
  const c = asRecord(data);
  if (!c) return;
  if (typeof c.name === "string" && c.name !== expectedName) {
    ctx.report(
      { code: "rule.name-mismatch", message: `\`name\` is \`${c.name}\` but the file is \`${expectedName}.yaml\``, hint: `set \`name: ${expectedName}\` or rename the file to \`${c.name}.yaml\`` },
      ["name"],
    );
  }
  const until = asRecord(c.suspend)?.until;
  if (typeof until === "string" && /^\d{4}-\d{2}-\d{2}$/.test(until) && !isRealDate(until)) {
    ctx.report({ code: "rule.invalid-date", message: `\`suspend.until\` \`${until}\` is not a calendar date`, hint: "use an existing date, e.g. `2027-01-15`" }, ["suspend", "until"]);
  }

  const agreements = asRecord(c.agreements) ?? {};
  const mapped = Object.keys(agreements);
  const known = global ? catalogueOf(global) : undefined;
  if (known) {
    const catalogue = known.keys;
    for (const product of mapped) {
      if (!known.set.has(product)) {
        ctx.report(
          { code: "rule.unknown-product", message: `\`${product}\` is not a product of the global catalogue`, hint: didYouMean(product, catalogue) ?? `known products: ${catalogue.join(", ")}` },
          ["agreements", product],
          { atKey: true },
        );
      }
    }
  }

  const trendMicro = asRecord(c.trendMicro);
  const domains = trendMicro?.emailDomains;
  // a `trendMicro` or `emailDomains` of the wrong shape is the schema's to report, not "no domains"
  const hasDomains = !trendMicro || (domains !== undefined && !Array.isArray(domains)) || (Array.isArray(domains) && domains.length > 0);
  const custom = asRecord(c.notifications);
  if (custom) {
    checkNotificationBlock(ctx, custom, ["notifications"]);
    const products = asRecord(custom.billing)?.products;
    if (Array.isArray(products)) {
      products.forEach((p, i) => {
        if (typeof p !== "string") return;
        if (known && !known.set.has(p)) {
          const catalogue = known.keys;
          ctx.report(
            { code: "rule.unknown-product", message: `billed product \`${p}\` is not in the global catalogue`, hint: didYouMean(p, catalogue) ?? `known products: ${catalogue.join(", ")}` },
            ["notifications", "billing", "products", i],
          );
        } else if (!mapped.includes(p)) {
          ctx.report(
            { code: "rule.billing-unmapped", message: `billed product \`${p}\` has no agreement mapping`, hint: `add \`agreements: { ${p}: default }\` or the agreement's type and name` },
            ["notifications", "billing", "products", i],
          );
        }
      });
    }
  }
  const settings = custom ?? (c.notifications === "global" ? global?.notifications : undefined);
  // a disabled integration sends nothing: inherited reports it cannot use are not worth a warning
  const enabled = asRecord(c.connectwise)?.enabled === true;
  if (!settings || (!custom && !enabled)) return;
  const inherited = !custom;
  const where = inherited ? ["notifications"] : undefined;
  for (const report of ["hostedEmailSecurity", "emailSecurity"] as const) {
    if (!asRecord((settings as Record<string, unknown>)[report]) || hasDomains) continue;
    ctx.report(
      {
        code: "rule.email-domains-required",
        severity: inherited ? "warning" : "error",
        message: inherited
          ? `the global settings send \`${report}\` reports but \`trendMicro.emailDomains\` is empty: this customer gets none`
          : `\`${report}\` needs \`trendMicro.emailDomains\``,
        hint: "add `emailDomains: [example.com]` under `trendMicro`",
      },
      where ?? ["notifications", report],
    );
  }
  const edition = asRecord((settings as Record<string, unknown>).emailSecurity)?.edition;
  const tmems = mapped.filter((p) => p.startsWith("tmems-"));
  // an edition that is neither `standard` nor `advanced` is the schema's to report
  const knownEdition = edition === "standard" || edition === "advanced";
  if (knownEdition && tmems.length > 0 && !tmems.includes(`tmems-${edition}`)) {
    ctx.report(
      {
        code: "rule.edition-mismatch",
        severity: inherited ? "warning" : "error",
        message: `\`emailSecurity.edition\` is \`${edition}\` but the customer maps ${tmems.map((t) => `\`${t}\``).join(", ")}`,
        hint: `set \`edition: ${tmems[0].slice("tmems-".length)}\` or map \`tmems-${edition}\``,
      },
      where ?? ["notifications", "emailSecurity", "edition"],
    );
  }
}
