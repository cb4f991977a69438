import { scrubSecrets } from "../scrub-secrets.ts";
import { ApiError } from "../../errors.ts";
import type { DetectionService } from "../../ports/detection-source.ts";
import { SERVICES } from "./services.ts";

type ApiErrorInit = ConstructorParameters<typeof ApiError>[0];

/**
 * A failed call to Trend Micro Email Security or Hosted Email Security. An `ApiError` (same
 * fields, same handling) whose message names the service, its `{code, message}` and what to do;
 * never a header, a query value or a credential.
 */
export class EmailSecurityApiError extends ApiError {
  readonly hint?: string;
  readonly service: DetectionService;

  constructor(service: DetectionService, init: ApiErrorInit & { hint?: string }) {
    super(init);
    this.service = service;
    this.hint = init.hint;
    const what = init.status !== undefined ? `answered ${init.status}` : (init.reason ?? "failed");
    const detail = [init.code, init.apiMessage].filter(Boolean).join(": ");
    const head = `${SERVICES[service].name} ${init.method} ${init.path} ${what}${detail ? ` — ${detail}` : ""}`;
    this.message = init.hint ? `${head}${/[.!?]$/.test(head) ? "" : "."} ${init.hint}` : head;
  }
}

/** The documented error body `{code, message}`; any other body becomes a short text. */
export function readErrorBody(body: unknown): { code?: string; apiMessage?: string } {
  if (body && typeof body === "object" && !Array.isArray(body)) {
    const b = body as Record<string, unknown>;
    return {
      code: typeof b.code === "string" ? b.code : undefined,
      apiMessage: typeof b.message === "string" ? b.message : undefined,
    };
  }
  if (typeof body === "string" && body.trim()) return { apiMessage: body.trim().replace(/\s+/g, " ").slice(0, 200) };
  return {};
}

/** What to do about a non-2xx answer (tmrm.md §5.3, API response codes), per service. */
function hintFor(service: DetectionService, status: number, code: string | undefined): string | undefined {
  const { env, urlExample } = SERVICES[service];
  if (status === 401) {
    return `check ${env}_ACCOUNT/${env}_API_KEY (the API key must be used with the administrator account that created it; see Administration > Service Integration > API Access)`;
  }
  if (status === 403) {
    return `the account ${env}_ACCOUNT may not read policy event logs: check that its API key is enabled (Administration > Service Integration > API Access) and that the administrator account has permission to manage the domain`;
  }
  if (status === 404 && (code === "ResourceNotAvailable" || code === undefined)) {
    return code === "ResourceNotAvailable"
      ? "log retrieval is not enabled for this account: enable it in Administration > Service Integration > Log Retrieval"
      : `check ${env}_URL: it must be scheme, host and optional port only (${urlExample})`;
  }
  if (status === 400) return "cwsync built a request the service does not accept: please report this";
  if (status >= 500) return "the service failed; retry later";
  return undefined;
}

/** The error for a non-2xx answer. `secrets` are scrubbed from whatever text the server echoed. */
export function errorFromResponse(
  service: DetectionService,
  method: string,
  path: string,
  status: number,
  body: unknown,
  retryable: boolean,
  secrets: readonly string[],
): EmailSecurityApiError {
  const { code, apiMessage } = readErrorBody(body);
  return new EmailSecurityApiError(service, {
    method, path, status, retryable, code,
    apiMessage: apiMessage && scrubSecrets(apiMessage, secrets),
    hint: hintFor(service, status, code),
  });
}

