import type { ServerResponse } from "node:http";

export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", "x-content-type-options": "nosniff", ...headers });
  res.end(JSON.stringify(body) + "\n");
}

export function text(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" });
  res.end(body);
}

export function accepted(res: ServerResponse, ok: boolean): void {
  if (ok) json(res, 202, { accepted: true });
  else json(res, 503, { accepted: false, error: "the daemon is shutting down" });
}

export function notAllowed(res: ServerResponse, allow: string): void {
  json(res, 405, { error: `method not allowed; use ${allow}` }, { allow });
}
