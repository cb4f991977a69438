// Generated from schemas/*.json by `npm run gen`. Do not edit.

/**
 * Version of the file format.
 */
export type APIVersion = "cwsync/v1";
/**
 * Always `Customer` in a customer file.
 */
export type Kind = "Customer";
/**
 * The customer's cwsync name; equals the file name without `.yaml`. Lowercase letters, digits and `-`, 1–63 characters, unique.
 */
export type Name = string;
/**
 * Human-readable name shown in the dashboard and in tickets.
 */
export type DisplayName = string;
/**
 * Team or person responsible; used as a dashboard filter and for alert routing.
 */
export type Owner = string;
/**
 * Why the customer is suspended; shown in `status` and the dashboard.
 */
export type Reason = string;
/**
 * Optional date (YYYY-MM-DD): suspended through that whole day in the customer's time zone, then resumes by itself.
 */
export type Until = string;
/**
 * The customer's name in Trend Micro's Licensing Management Platform; billing rows are matched on it.
 */
export type LMPCustomerName = string;
/**
 * Domains whose email-security detections are reported; required by the email reports.
 */
export type EmailDomains = string[];
/**
 * Enable the integration: verify the company, bill and send reports.
 */
export type Enabled = boolean;
/**
 * The ConnectWise company identifier (“Company ID”), 1–156 characters without `" ' \ [ ]`. Quote numeric IDs.
 */
export type CompanyID = string;
/**
 * The company's one active agreement of a default type (global `defaultAgreementTypes`).
 */
export type DefaultAgreement = "default";
/**
 * The ConnectWise agreement type name, as ConnectWise spells it (any printable characters, apostrophes included: it is matched by cwsync, never sent in a query).
 */
export type AgreementType = string;
/**
 * The ConnectWise agreement name, as ConnectWise spells it (any printable characters, apostrophes included: it is matched by cwsync, never sent in a query).
 */
export type AgreementName = string;
/**
 * `global` to use `customers/_global.yaml`'s settings, or a complete custom block (nothing is inherited; an absent report is not sent).
 */
export type Notifications =
  | "global"
  | {
      timezone: TimeZone;
      at: TimeOfDay;
      billing?: Billing;
      hostedEmailSecurity?: HostedEmailSecurityReport;
      emailSecurity?: TrendMicroEmailSecurityReport;
    };
/**
 * IANA time zone for every schedule of this customer.
 */
export type TimeZone = string;
/**
 * Local time of day (HH:MM, 24-hour) when due reports go out. Quote it.
 */
export type TimeOfDay = string;
/**
 * Product keys from the global `products` catalogue whose seats are billed; each needs a mapping in `agreements`.
 *
 * @minItems 1
 */
export type BilledProducts = [string, ...string[]];
/**
 * Day of the month (1–31) when billing quantities are sent; 29, 30 and 31 fall back to the last day of shorter months.
 */
export type DayOfMonth = number;
/**
 * A cron expression (5 or 6 fields) evaluated with cron-parser in the customer's `timezone`, used instead of `dayOfMonth`/`every`. It must fire at most once an hour.
 */
export type CustomSchedule = string;
/**
 * Which month's Licensing Management Platform summary report the seats are read from: `current-month` (the month of the billing day; the default) or `previous-month` (the last complete month). Billing on days 1–3 from `current-month` is warned about: that month's report has barely begun.
 */
export type SeatsFrom = "current-month" | "previous-month";
/**
 * `day`: yesterday, sent today at `at`; `week`: the last ISO week (Monday–Sunday), sent on Monday; `month`: last month, sent on the 1st.
 */
export type Frequency = "day" | "week" | "month";
/**
 * Which detection categories the report counts, from cwsync's one vocabulary for both email products.
 *
 * @minItems 1
 */
export type DetectionCategories = [
  (
    | "spam"
    | "graymail"
    | "web-reputation"
    | "bec"
    | "phishing"
    | "malware"
    | "ransomware"
    | "suspicious-objects"
    | "advanced-threats"
    | "scan-exceptions"
    | "spoofing"
    | "content-filter"
    | "dlp"
  ),
  ...(
    | "spam"
    | "graymail"
    | "web-reputation"
    | "bec"
    | "phishing"
    | "malware"
    | "ransomware"
    | "suspicious-objects"
    | "advanced-threats"
    | "scan-exceptions"
    | "spoofing"
    | "content-filter"
    | "dlp"
  )[]
];
/**
 * Trend Micro Email Security edition; must agree with the mapped `tmems-*` product.
 */
export type Edition = "standard" | "advanced";

/**
 * One customer's Trend Micro ↔ ConnectWise Manage integration: company, agreement mappings and notification settings.
 */
export interface CwsyncCustomer {
  apiVersion: APIVersion;
  kind: Kind;
  name: Name;
  displayName?: DisplayName;
  owner?: Owner;
  suspend?: Suspend;
  trendMicro: TrendMicro;
  connectwise: ConnectWiseManage;
  agreements?: Agreements;
  notifications: Notifications;
}
/**
 * While present, nothing is sent for this customer (the file is still validated). A period that falls due while suspended is not sent later.
 */
export interface Suspend {
  reason: Reason;
  until?: Until;
}
/**
 * How the customer is known on the Trend Micro side.
 */
export interface TrendMicro {
  customer: LMPCustomerName;
  emailDomains?: EmailDomains;
}
/**
 * The seed's “Enable integration” and “ConnectWise company ID + Verify”.
 */
export interface ConnectWiseManage {
  enabled: Enabled;
  companyId?: CompanyID;
}
/**
 * Trend Micro product (a key of the global `products` catalogue) → ConnectWise agreement: `default`, or the agreement's type and name.
 */
export interface Agreements {
  [k: string]: DefaultAgreement | Agreement;
}
/**
 * An agreement by type and name.
 */
export interface Agreement {
  type: AgreementType;
  name: AgreementName;
}
/**
 * Push billing quantities to ConnectWise agreement additions every month on `dayOfMonth` (or on a custom `schedule`) at `at`, then post a summary ticket. Absent: no billing.
 */
export interface Billing {
  products: BilledProducts;
  dayOfMonth?: DayOfMonth;
  schedule?: CustomSchedule;
  seatsFrom?: SeatsFrom;
}
/**
 * Hosted Email Security detection summary, one ticket per period. Absent: not sent.
 */
export interface HostedEmailSecurityReport {
  every?: Frequency;
  schedule?: CustomSchedule;
  detections: DetectionCategories;
}
/**
 * Trend Micro Email Security (Standard or Advanced) detection summary, one ticket per period. Absent: not sent.
 */
export interface TrendMicroEmailSecurityReport {
  edition: Edition;
  every?: Frequency;
  schedule?: CustomSchedule;
  detections: DetectionCategories;
}
