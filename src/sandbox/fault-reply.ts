import type { FaultSpec } from "./faults.ts";
import type { Reply } from "./replies.ts";

const STATUS_TEXT: Record<number, string> = {
  500: "An error has occurred.",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

/** Retry-After when none is given: ConnectWise's own sample waits 30 s. */
const DEFAULT_RETRY_AFTER = 30;

function cloudflarePage(retryAfter: number): string {
  return [
    "<!DOCTYPE html>",
    '<html lang="en-US"><head><title>Access denied | api-na.myconnectwise.net used Cloudflare to restrict access</title></head>',
    '<body><div id="cf-wrapper"><h1><span class="cf-error-type">Error</span> <span class="cf-error-code">1015</span></h1>',
    "<h2>You are being rate limited</h2>",
    `<p>The owner of this website (api-na.myconnectwise.net) has banned you temporarily from accessing this website. Try again in ${retryAfter} seconds.</p>`,
    "</div></body></html>",
  ].join("\n");
}

/** The HTML a proxy or an SSO front answers 200 with instead of the API's JSON. */
export function loginPage(): Reply {
  return {
    status: 200,
    headers: { "Content-Type": "text/html; charset=UTF-8" },
    body: '<!DOCTYPE html>\n<html><head><title>Sign in</title></head><body><form action="/login" method="post"><input name="user"><input name="password" type="password"></form></body></html>',
  };
}

/** The first half of a reply's JSON, still labelled JSON: a body cut short. */
export function truncatedReply(reply: Reply): Reply {
  const text = JSON.stringify(reply.body ?? null);
  return { status: reply.status, headers: { ...reply.headers, "Content-Type": "application/json; charset=utf-8" }, body: text.slice(0, Math.max(1, Math.floor(text.length / 2))) };
}

/** The answer of a `status` or `html429` fault: ConnectWise's body for the status unless one is given. */
export function faultReply(spec: Extract<FaultSpec, { kind: "status" | "html429" }>): Reply {
  if (spec.kind === "html429") {
    const retryAfter = spec.retryAfter ?? 60;
    return { status: 429, headers: { "Content-Type": "text/html; charset=UTF-8", "Retry-After": String(retryAfter) }, body: cloudflarePage(retryAfter) };
  }
  const headers: Record<string, string> = spec.retryAfter !== undefined ? { "Retry-After": String(spec.retryAfter) } : {};
  if (typeof spec.body === "string") {
    headers["Content-Type"] = spec.body.trimStart().startsWith("<") ? "text/html; charset=UTF-8" : "text/plain; charset=UTF-8";
    return { status: spec.status, headers, body: spec.body };
  }
  // the 429 body says "error", not "code": quoted from the Developer Guide
  const body = spec.body ?? (spec.status === 429
    ? { error: "ConnectWiseAPI", message: `Too many requests. Please try again in ${spec.retryAfter ?? DEFAULT_RETRY_AFTER} seconds.` }
    : { code: "ConnectWiseApi", message: STATUS_TEXT[spec.status] ?? "An error has occurred." });
  return { status: spec.status, headers, body };
}
