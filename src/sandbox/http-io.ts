import type { IncomingMessage, ServerResponse } from "node:http";
import type { Reply } from "./replies.ts";

export const MAX_BODY_BYTES = 1024 * 1024;
export const DEFAULT_API_VERSION = "2025.1";

/** The raw request body, or undefined when it is larger than we accept. */
export async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export const BAD_JSON = Symbol("bad JSON");

export function parseJson(raw: Buffer): unknown {
  if (raw.length === 0) return undefined;
  try {
    return JSON.parse(raw.toString("utf8"));
  } catch {
    return BAD_JSON;
  }
}

/** Whether `Authorization` is Basic `company+publicKey:privateKey` for these credentials (company case-insensitive). */
export function basicAuthMatches(header: string | undefined, creds: { company: string; publicKey: string; privateKey: string }): boolean {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? "");
  if (!m) return false;
  const decoded = Buffer.from(m[1], "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  const user = colon < 0 ? decoded : decoded.slice(0, colon);
  const plus = user.indexOf("+");
  if (colon < 0 || plus < 0) return false;
  return user.slice(0, plus).toLowerCase() === creds.company.toLowerCase()
    && user.slice(plus + 1) === creds.publicKey
    && decoded.slice(colon + 1) === creds.privateKey;
}

/** The model version the client pinned in `Accept` (any is accepted), else ours. */
export function apiVersion(accept: string | undefined): string {
  return /version=([\d.]+)/i.exec(accept ?? "")?.[1] ?? DEFAULT_API_VERSION;
}

/** Writes a reply with ConnectWise's headers; JSON bodies get the vendor content type. */
export function writeReply(res: ServerResponse, reply: Reply, version: string): void {
  if (res.destroyed) return;
  const headers: Record<string, string> = { "Cache-Control": "no-cache", "api-current-version": DEFAULT_API_VERSION };
  let payload = "";
  if (reply.body !== undefined) {
    if (typeof reply.body === "string") payload = reply.body;
    else {
      payload = JSON.stringify(reply.body);
      headers["Content-Type"] = `application/vnd.connectwise.com+json; version=${version}`;
    }
  }
  Object.assign(headers, reply.headers);
  headers["Content-Length"] = String(Buffer.byteLength(payload));
  res.writeHead(reply.status, headers);
  res.end(payload);
}
