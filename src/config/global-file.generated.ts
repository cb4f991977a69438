// Generated from schemas/*.json by `npm run gen`. Do not edit.

/**
 * Version of the file format.
 */
export type APIVersion = "cwsync/v1";
/**
 * Always `Global` in `customers/_global.yaml`.
 */
export type Kind = "Global";
/**
 * Agreement types that an `agreements: { <product>: default }` mapping resolves through (the seed's “Default”).
 *
 * @minItems 1
 */
export type DefaultAgreementTypes = [string, ...string[]];
/**
 * ConnectWise service board name for report tickets.
 */
export type ServiceBoard = string;
/**
 * Status name new tickets get on that board (the board's default when absent).
 */
export type Status = string;
/**
 * `apply`: a lower seat count is billed like any other; `hold`: a decrease is recorded and shown, and waits for a human.
 */
export type SeatDecreases = "apply" | "hold";
/**
 * The product's name in tickets and the dashboard.
 */
export type DisplayName = string;
/**
 * The product name in LMP report rows; billing rows are matched on it.
 */
export type LMPProductName = string;
/**
 * ConnectWise product identifier of the agreement addition that carries this product's seats.
 */
export type CatalogueItem = string;
/**
 * Which LMP seat count is billed: `used` or `provisioned` seats.
 */
export type BilledQuantity = "used" | "provisioned";
/**
 * IANA time zone for every schedule of this setting.
 */
export type TimeZone = string;
/**
 * Local time of day (HH:MM, 24-hour) when due reports go out. Quote it.
 */
export type TimeOfDay = string;
/**
 * Product keys from the `products` catalogue whose seats are billed, or `all` for every product the customer maps in `agreements`.
 */
export type BilledProducts = "all" | [string, ...string[]];
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
 * Catch-up window for detection reports: a number and `h` or `d` (default `7d`).
 */
export type DetectionReports = string;

/**
 * Settings shared by every customer: ConnectWise defaults, the Trend Micro product catalogue and the global notification settings.
 */
export interface CwsyncGlobalSettings {
  apiVersion: APIVersion;
  kind: Kind;
  connectwise: ConnectWiseManage;
  products: ProductCatalogue;
  notifications: GlobalNotificationSettings;
  catchUp?: CatchUp;
}
/**
 * How cwsync uses ConnectWise: default agreement types, where tickets land, what happens to seat decreases.
 */
export interface ConnectWiseManage {
  defaultAgreementTypes: DefaultAgreementTypes;
  tickets: Tickets;
  decreases?: SeatDecreases;
}
/**
 * Where billing summaries and detection reports land.
 */
export interface Tickets {
  board: ServiceBoard;
  status?: Status;
}
/**
 * The Trend Micro products customer files refer to, by key.
 */
export interface ProductCatalogue {
  [k: string]: Product;
}
/**
 * One Trend Micro product and how it is billed.
 */
export interface Product {
  displayName: DisplayName;
  lmp: LicensingManagementPlatform;
  catalogItem: CatalogueItem;
  quantity: BilledQuantity;
}
/**
 * How the product appears in LMP summary reports.
 */
export interface LicensingManagementPlatform {
  productName: LMPProductName;
}
/**
 * The settings of every customer with `notifications: global`; same shape as a custom block, except `billing.products` may be `all`.
 */
export interface GlobalNotificationSettings {
  timezone: TimeZone;
  at: TimeOfDay;
  billing?: Billing;
  hostedEmailSecurity?: HostedEmailSecurityReport;
  emailSecurity?: TrendMicroEmailSecurityReport;
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
/**
 * How far back missed reports are still sent after downtime; older ones are recorded as missed. Billing months are never skipped.
 */
export interface CatchUp {
  detections?: DetectionReports;
}
