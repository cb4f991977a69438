import { request } from "undici";
import type { ConnectWiseSandbox } from "./connectwise-sandbox.ts";

export interface SandboxRequestOptions {
  query?: Record<string, string | number>;
  body?: unknown;
  /** Replaces the sandbox's Basic credentials; `false` sends none. */
  authorization?: string | false;
  /** `false` sends no clientId header. */
  clientId?: string | false;
  headers?: Record<string, string>;
}

export interface SandboxResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** The body parsed as JSON when it is JSON, else undefined. */
  json: unknown;
}

/** Basic `company+publicKey:privateKey`, as ConnectWise expects it. */
export function basicAuth(c: { company: string; publicKey: string; privateKey: string }): string {
  return `Basic ${Buffer.from(`${c.company}+${c.publicKey}:${c.privateKey}`).toString("base64")}`;
}

/**
 * One real HTTP request to a sandbox, authenticated as a well-behaved client would be; `path`
 * is under the API root (`/company/companies`) or an absolute URL. For tests and demos.
 */
export async function sandboxRequest(sandbox: ConnectWiseSandbox, method: string, path: string, opts: SandboxRequestOptions = {}): Promise<SandboxResponse> {
  const url = new URL(path.startsWith("http") ? path : `${sandbox.url}${path}`);
  for (const [k, v] of Object.entries(opts.query ?? {})) url.searchParams.set(k, String(v));
  const headers: Record<string, string> = { accept: "application/vnd.connectwise.com+json; version=2025.1", ...opts.headers };
  const authorization = opts.authorization ?? basicAuth(sandbox.credentials);
  if (authorization !== false) headers.authorization = authorization;
  const clientId = opts.clientId ?? sandbox.credentials.clientId;
  if (clientId !== false) headers.clientid = clientId;
  let body: string | undefined;
  if (opts.body !== undefined) {
    body = typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body);
    headers["content-type"] = "application/json";
  }
  const res = await request(url, { method: method as "GET", headers, body });
  const text = await res.body.text();
  let json: unknown;
  try {
    json = text === "" ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, headers: res.headers, text, json };
}
