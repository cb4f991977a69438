/**
 * One row of the Licensing Management Platform's Customer Summary report: a customer's
 * provisioned and used license units of one product (service plan) in one report month.
 * Names follow LMPI's fields (`customer`, `product_name`, …) in camelCase.
 */
export interface LicenseRow {
  /** LMPI `customer`: matched against a customer file's `trendMicro.customer`. */
  customerName: string;
  /** LMPI `product_name`: matched against the product's `lmp.productName`. */
  productName: string;
  /** LMPI `service_plan`; one product may appear in several rows, one per plan. */
  servicePlan?: string;
  /** Provisioned license units; 0 when the row is `invalid`. */
  provisioned: number;
  /**
   * Used license units; absent when LMPI reports none for the row (`null` or no field): not every
   * product reports usage, and Trend Micro then charges the provisioned amount.
   */
  used?: number;
  /**
   * Why the row's counts cannot be billed (negative, fractional, not a number, beyond
   * MAX_SEATS, no provisioned count): set instead of failing the whole report, so that only the
   * customer and product it belongs to fail.
   */
  invalid?: string;
  /** LMPI `unit` (what a license unit counts). */
  unit?: string;
  city?: string;
  state?: string;
  ownedByVendor?: string;
  createdByVendor?: string;
}

/** No customer holds more license units of one product than this: a larger count is a broken row, never a quantity. */
export const MAX_SEATS = 1_000_000;

/**
 * The `ApiError.code` of a 2xx answer whose body is not the report (not JSON, cut off, no
 * `summary` array): the billing that needed it fails and is retried, never read as an empty report.
 */
export const UNREADABLE_REPORT = "UnreadableReport";

/** Where billed seat counts come from. Implemented over HTTP by `adapters/lmpi/`; faked on loopback by `sandbox/lmpi-sandbox.ts`. */
export interface LicenseSource {
  /**
   * Every row of the summary report for a report month (`month` 1–12), as the platform
   * returns them: rows are neither filtered nor summed, so the caller decides what a
   * missing or repeated (customer, product) means; a row that cannot be read is kept and marked
   * `invalid`. Throws `ApiError` on failure (`code` UNREADABLE_REPORT for a 2xx that is not the report).
   */
  summary(year: number, month: number, signal?: AbortSignal): Promise<LicenseRow[]>;
}
