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
  provisioned: number;
  used: number;
  /** LMPI `unit` (what a license unit counts). */
  unit?: string;
  city?: string;
  state?: string;
  ownedByVendor?: string;
  createdByVendor?: string;
}

/** Where billed seat counts come from. Implemented over HTTP by `adapters/lmpi/`; faked on loopback by `sandbox/lmpi-sandbox.ts`. */
export interface LicenseSource {
  /**
   * Every row of the summary report for a report month (`month` 1–12), as the platform
   * returns them: rows are neither filtered nor summed, so the caller decides what a
   * missing or repeated (customer, product) means. Throws `ApiError` on failure.
   */
  summary(year: number, month: number, signal?: AbortSignal): Promise<LicenseRow[]>;
}
