/** What a sandbox handler answers; the server adds the ConnectWise headers and writes it. */
export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface ValidationError {
  code: "MissingRequiredField" | "InvalidField" | "ObjectExists" | "OutOfRange" | "UnsupportedFormat";
  message: string;
  field: string;
}

/** The error bodies ConnectWise answers with, word for word where the reference quotes them. */
export const replies = {
  ok: (body: unknown): Reply => ({ status: 200, body }),
  created: (body: unknown): Reply => ({ status: 201, body }),
  notFound: (what: string, id: number | string): Reply => ({ status: 404, body: { code: "NotFound", message: `${what} ${id} not found` } }),
  noRoute: (path: string): Reply => ({
    status: 404,
    body: { code: "NotFound", message: `No HTTP resource was found that matches the request URI '${path}'.` },
  }),
  methodNotAllowed: (method: string, allowed: readonly string[]): Reply => ({
    status: 405,
    headers: { Allow: allowed.join(", ") },
    body: { code: "MethodNotAllowed", message: `The requested resource does not support http method '${method}'.` },
  }),
  unauthenticated: (): Reply => ({ status: 401, body: { code: "ConnectWiseApi", message: "UserNotAuthenticated" } }),
  noClientId: (): Reply => ({ status: 403, body: { code: "Unauthorized", message: "clientId header is required" } }),
  condition: (message: string): Reply => ({ status: 400, body: { code: "ApiFindCondition", message } }),
  invalidObject: (resource: string, errors: readonly ValidationError[]): Reply => ({
    status: 400,
    body: { code: "InvalidObject", message: `${resource} object is invalid`, errors: errors.map((e) => ({ code: e.code, message: e.message, resource, field: e.field })) },
  }),
  badRequest: (message: string): Reply => ({ status: 400, body: { code: "BadRequest", message } }),
  serverError: (message: string): Reply => ({ status: 500, body: { code: "ConnectWiseApi", message } }),
};
