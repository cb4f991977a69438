/** `2026-01-05T07:00:00.000Z` → `01-05 07:00Z`: the year is noise on a live screen. */
export const shortTime = (iso: string | undefined): string => (iso ? `${iso.slice(5, 16).replace("T", " ")}Z` : "-");

export const shortRevision = (rev: string | undefined): string => (rev ? rev.slice(0, 12) : "none");

/** The report names as the tables show them (HES and TMES are how DESIGN and the env name them). */
export const REPORT_LABEL: Readonly<Record<string, string>> = { billing: "billing", hostedEmailSecurity: "HES", emailSecurity: "TMES" };

export const reportLabel = (report: string): string => REPORT_LABEL[report] ?? report;

/** Cuts `text` to `width` columns (with `…`) and pads it, so table columns line up. */
export function fit(text: string, width: number): string {
  if (width <= 0) return "";
  const flat = text.replace(/\s+/g, " ");
  return flat.length > width ? `${flat.slice(0, Math.max(0, width - 1))}…` : flat.padEnd(width);
}

export const durationText = (ms: number): string => (ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`);
