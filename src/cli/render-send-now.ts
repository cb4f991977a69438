import { sendLine } from "../app/send-now.ts";
import type { SendNowResult } from "../daemon/api-types.ts";

/** `send-now`'s output: a line per send, or (json) one object with every send's result. */
export function renderSendNow(r: Pick<SendNowResult, "customer" | "ok" | "at" | "revision" | "sends">, format: "text" | "json"): string {
  if (format === "text") return r.sends.map((s) => `${sendLine(s)}\n`).join("");
  return JSON.stringify({ customer: r.customer, ok: r.ok, at: r.at, revision: r.revision, sends: r.sends }, null, 2) + "\n";
}
