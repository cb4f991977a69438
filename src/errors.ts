import type { Diagnostic } from "./config/diagnostic.ts";

/** Invalid configuration: show the diagnostics, exit 1. */
export class ConfigError extends Error {
  constructor(message: string, readonly diagnostics: readonly Diagnostic[] = []) {
    super(message);
    this.name = "ConfigError";
  }
}

/** A deliberate exit with a code (64 usage, 1 failure, 2 changes). */
export class ExitError extends Error {
  constructor(readonly code: number, message = "") {
    super(message);
    this.name = "ExitError";
  }
}

/** Usage error: wrong flags or arguments (exit 64). */
export class UsageError extends ExitError {
  constructor(message: string) {
    super(64, message);
    this.name = "UsageError";
  }
}

/** A bug: exit 70 with a "please report" hint. */
export class InternalError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "InternalError";
  }
}
