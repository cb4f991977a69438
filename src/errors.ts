import type { Diagnostic } from "./config/diagnostic.ts";

/** Invalid configuration: show the diagnostics, exit 1. */
export class ConfigError extends Error {
  constructor(message: string, readonly diagnostics: readonly Diagnostic[] = []) {
    super(message);
    this.name = "ConfigError";
  }
}

/** A deliberate exit with a code, for the command line only (below it, throw a domain error: `exitCodeOf` maps them). */
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

/**
 * An operation that failed for a reason the user can act on (a customer without an applied
 * config, a held lease, a remote that refused): the message says what and how to fix it. Exit 1.
 */
export class OperationError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "OperationError";
  }
}

/** The state directory cannot be used as it is (written by a newer cwsync, corrupt, read-only): exit 1, nothing written. */
export class StateError extends OperationError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "StateError";
  }
}

/** Why the state cannot be used right now, in plain words. */
export type StateFailureCause = "disk full" | "read-only" | "corrupt" | "I/O error" | "cannot open";

/**
 * The state cannot be written or read (`state.unavailable`): the disk is full, it is read-only,
 * corrupt, or the disk fails. The message names the file, the cause and what to do. The CLI exits
 * 1; the daemon keeps running, sends nothing, and resumes when the cause is gone.
 */
export class StateUnavailableError extends StateError {
  readonly condition = "state.unavailable";
  constructor(message: string, readonly file: string, readonly reason: StateFailureCause, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "StateUnavailableError";
  }
}

/** A bug: exit 70 with a "please report" hint. */
export class InternalError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "InternalError";
  }
}

/** One ConnectWise error detail (`errors[]` of an error body). */
export interface ApiErrorDetail {
  code?: string;
  message?: string;
  resource?: string;
  field?: string;
}

/**
 * A remote API call that failed: what was called (method and path, never headers, query values
 * or credentials), the status, ConnectWise's `code`/`message`/`errors[]`, and whether retrying
 * later may help.
 */
export class ApiError extends Error {
  readonly status?: number;
  readonly code?: string;
  readonly apiMessage?: string;
  readonly errors: readonly ApiErrorDetail[];
  readonly method: string;
  readonly path: string;
  readonly retryable: boolean;
  /** Why no answer arrived (`connection refused`, `connection lost`, `timed out`); undefined when one did. */
  readonly reason?: string;

  constructor(init: {
    method: string;
    path: string;
    status?: number;
    code?: string;
    apiMessage?: string;
    errors?: readonly ApiErrorDetail[];
    retryable: boolean;
    reason?: string;
    cause?: unknown;
  }) {
    const what = init.status !== undefined ? `answered ${init.status}` : (init.reason ?? "failed");
    const detail = [init.code, init.apiMessage].filter(Boolean).join(": ");
    const fields = (init.errors ?? []).map((e) => [e.field, e.message].filter(Boolean).join(": ")).filter(Boolean);
    super(`ConnectWise ${init.method} ${init.path} ${what}${detail ? ` — ${detail}` : ""}${fields.length ? ` (${fields.join("; ")})` : ""}`, { cause: init.cause });
    this.name = "ApiError";
    this.status = init.status;
    this.code = init.code;
    this.apiMessage = init.apiMessage;
    this.errors = init.errors ?? [];
    this.method = init.method;
    this.path = init.path;
    this.retryable = init.retryable;
    this.reason = init.status === undefined ? init.reason : undefined;
  }
}
