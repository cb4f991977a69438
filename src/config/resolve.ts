import type { ScheduleSpec } from "../core/schedule.ts";
import type { AgreementMapping, CustomerFile, GlobalFile, NotificationSettings, ReportKind } from "./model.ts";

export interface EffectiveReport {
  report: ReportKind;
  spec: ScheduleSpec;
  /** billing: the billed product keys; detection reports: the categories. */
  products?: string[];
  detections?: string[];
  edition?: "standard" | "advanced";
  /** billing: which month's LMP summary report the seats come from (DESIGN §10); absent: `current-month`. */
  seatsFrom?: SeatsFrom;
}

export type SeatsFrom = "current-month" | "previous-month";

/** A customer with its notification settings resolved (global or custom): what the reconciler acts on. */
export interface EffectiveCustomer {
  name: string;
  displayName: string;
  owner?: string;
  suspend?: { reason: string; until?: string };
  lmpCustomer: string;
  emailDomains: string[];
  enabled: boolean;
  companyId?: string;
  agreements: Record<string, AgreementMapping>;
  settings: "global" | "custom";
  timezone: string;
  at: string;
  reports: EffectiveReport[];
}

function specOf(r: { dayOfMonth?: number; every?: "day" | "week" | "month"; schedule?: string }): ScheduleSpec {
  if (r.schedule !== undefined) return { kind: "cron", expression: r.schedule };
  if (r.dayOfMonth !== undefined) return { kind: "monthly-day", dayOfMonth: r.dayOfMonth };
  return { kind: "every", every: r.every ?? "day" };
}

/** Resolves `notifications: global` through the global block; `billing.products: all` to every mapped product. */
export function resolveCustomer(c: CustomerFile, g: GlobalFile): EffectiveCustomer {
  const settings: NotificationSettings = c.notifications === "global" ? g.notifications : c.notifications;
  const agreements = c.agreements ?? {};
  const mapped = Object.keys(agreements).sort();
  const domains = c.trendMicro.emailDomains ?? [];
  const reports: EffectiveReport[] = [];
  if (settings.billing) {
    const listed = settings.billing.products;
    // a global product list bills the listed products the customer maps; `all` bills every mapped one
    const products = listed === "all" ? mapped : listed.filter((p) => mapped.includes(p));
    const seatsFrom = settings.billing.seatsFrom;
    if (products.length > 0) reports.push({ report: "billing", spec: specOf(settings.billing), products, ...(seatsFrom ? { seatsFrom } : {}) });
  }
  if (settings.hostedEmailSecurity && domains.length > 0) {
    reports.push({ report: "hostedEmailSecurity", spec: specOf(settings.hostedEmailSecurity), detections: [...settings.hostedEmailSecurity.detections] });
  }
  if (settings.emailSecurity && domains.length > 0) {
    const es = settings.emailSecurity;
    reports.push({ report: "emailSecurity", spec: specOf(es), detections: [...es.detections], edition: es.edition });
  }
  return {
    name: c.name,
    displayName: c.displayName ?? c.trendMicro.customer,
    owner: c.owner,
    suspend: c.suspend,
    lmpCustomer: c.trendMicro.customer,
    emailDomains: [...domains],
    enabled: c.connectwise.enabled,
    companyId: c.connectwise.companyId,
    agreements,
    settings: c.notifications === "global" ? "global" : "custom",
    timezone: settings.timezone,
    at: settings.at,
    reports,
  };
}
