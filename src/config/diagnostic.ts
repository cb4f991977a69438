/** One problem found in a configuration file. Lines and columns are 1-based. */
export interface Diagnostic {
  severity: "error" | "warning";
  /** Stable code, e.g. `schema.additionalProperties`, `rule.duplicate-company`, `yaml.DUPLICATE_KEY`. */
  code: string;
  /** Path of the file as given to the loader (repository-relative when loaded from a folder). */
  file: string;
  line?: number;
  col?: number;
  endLine?: number;
  endCol?: number;
  /** Location inside the document as a JSON pointer (`/notifications/at`); `""` for the whole file. */
  path: string;
  message: string;
  hint?: string;
}

export const isError = (d: Diagnostic): boolean => d.severity === "error";
