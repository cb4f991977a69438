import { ApiError } from "../../errors.ts";
import { scrubSecrets } from "../scrub-secrets.ts";

type ApiErrorInit = ConstructorParameters<typeof ApiError>[0];

const BUG = "cwsync built a request LMPI does not accept: please report this";

/** What to do about each documented `error_subject` (tmrm.md §5.2, LMPI general error codes). */
const HINTS: Readonly<Record<string, string>> = {
  AuthenticationFailureSignature:
    "LMPI rejected the request signature: check that LMPI_SECRET_KEY is the secret key of LMPI_ACCESS_TOKEN (no stray spaces or quotes) and that this machine's clock is correct (NTP)",
  AuthenticationFailurePosixTime: "LMPI rejected the request time: this machine's clock is off; synchronise it (NTP) and retry",
  AuthenticationFailureAccessToken: "LMPI does not know this access token: check LMPI_ACCESS_TOKEN (Licensing Management Platform API credentials)",
  InvalidHeaderAccessToken: "LMPI_ACCESS_TOKEN is malformed: copy it again from the Licensing Management Platform",
  MissingHeaderAccessToken: "LMPI_ACCESS_TOKEN is empty or was not sent",
  MissingHeaderPosixTime: BUG,
  MissingHeaderSignature: BUG,
  MissingHeaderTraceID: BUG,
  InvalidHeaderContentType: BUG,
  InternalError: "the Licensing Management Platform failed; retry later",
  CSPIError: "the Licensing Management Platform failed; retry later",
  ServerException: "the Licensing Management Platform failed; retry later",
};

/**
 * An LMPI call that failed. An `ApiError` (same fields, same handling), but the message names
 * LMPI, carries `error_subject`/`error_message` and says what to do; never a header value.
 */
export class LmpiApiError extends ApiError {
  readonly hint?: string;

  constructor(init: ApiErrorInit & { hint?: string }) {
    super(init);
    this.hint = init.hint;
    const what = init.status !== undefined ? `answered ${init.status}` : (init.reason ?? "failed");
    const detail = [init.code, init.apiMessage].filter(Boolean).join(": ");
    const head = `LMPI ${init.method} ${init.path} ${what}${detail ? ` — ${detail}` : ""}`;
    this.message = init.hint ? `${head}${/[.!?]$/.test(head) ? "" : "."} ${init.hint}` : head;
  }
}

/** The documented error body `{error_subject, error_message}`; any other body becomes a short text. */
export function readErrorBody(body: unknown): { code?: string; apiMessage?: string } {
  if (body && typeof body === "object" && !Array.isArray(body)) {
    const b = body as Record<string, unknown>;
    return {
      code: typeof b.error_subject === "string" ? b.error_subject : undefined,
      apiMessage: typeof b.error_message === "string" ? b.error_message : undefined,
    };
  }
  if (typeof body === "string" && body.trim()) return { apiMessage: body.trim().replace(/\s+/g, " ").slice(0, 200) };
  return {};
}

/** The error for a non-2xx answer. `secrets` are scrubbed from whatever text the server echoed. */
export function lmpiErrorFromResponse(method: string, path: string, status: number, body: unknown, retryable: boolean, secrets: readonly string[]): LmpiApiError {
  const { code, apiMessage } = readErrorBody(body);
  let hint = code ? HINTS[code] : undefined;
  if (!hint && status === 401) hint = "check LMPI_ACCESS_TOKEN and LMPI_SECRET_KEY";
  if (!hint && status === 404) hint = "check LMPI_URL: it must be scheme, host and optional port only (e.g. https://cspi.trendmicro.com)";
  return new LmpiApiError({ method, path, status, retryable, code, apiMessage: apiMessage && scrubSecrets(apiMessage, secrets), hint });
}

