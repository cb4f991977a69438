import type { SendNowResult, SendResult } from "../daemon/api-types.ts";

/** The line `cwsync send-now` prints for one send. */
export function sendLine(s: SendResult): string {
  if (s.result === "not-sent") return `${s.report}: not sent — ${s.message ?? s.reason ?? "unknown reason"}`;
  if (s.result === "sent") return `${s.report} ${s.periodKey}: sent${s.ticketId ? `, ticket #${s.ticketId}` : ""} (key ${s.key})`;
  return `${s.report} ${s.periodKey}: ${s.result === "not-attempted" ? "not attempted" : s.result}${s.message ? ` — ${s.message}` : ""}`;
}

/** `send-now`'s output: a line per send, or (json) one object with every send's result. */
export function renderSendNow(r: Pick<SendNowResult, "customer" | "ok" | "at" | "revision" | "sends">, format: "text" | "json"): string {
  if (format === "text") return r.sends.map((s) => `${sendLine(s)}\n`).join("");
  return JSON.stringify({ customer: r.customer, ok: r.ok, at: r.at, revision: r.revision, sends: r.sends }, null, 2) + "\n";
}
