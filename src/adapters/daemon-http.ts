import { request, type Dispatcher } from "undici";

export interface DaemonExchange {
  status: number;
  /** The body parsed as JSON, or undefined when it is not JSON (a proxy's HTML page, say). */
  json: unknown;
  text: string;
  headers: Dispatcher.ResponseData["headers"];
}

export interface DaemonHttpOptions {
  /** CWSYNC_API_TOKEN, sent as `Authorization: Bearer`. */
  token?: string;
  dispatcher?: Dispatcher;
  timeoutMs: number;
}

/**
 * One request to a running daemon's API, as the CLI (`--url`) and the attached dashboard make it:
 * JSON accepted, the bearer token when set, one timeout. Throws undici's error when nothing
 * answered; each caller turns that, and an unwanted status, into its own message.
 */
export async function daemonExchange(
  base: string, method: "GET" | "POST", path: string, opts: DaemonHttpOptions & { headers?: Record<string, string>; signal?: AbortSignal },
): Promise<DaemonExchange> {
  const headers: Record<string, string> = { accept: "application/json", ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  const res = await request(`${base}${path}`, { method, headers, signal: opts.signal, dispatcher: opts.dispatcher, headersTimeout: opts.timeoutMs, bodyTimeout: opts.timeoutMs });
  const text = await res.body.text().catch(() => "");
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, json, text, headers: res.headers };
}
