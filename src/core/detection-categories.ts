import type { PolicyEventKind } from "../ports/detection-source.ts";

/** cwsync's detection vocabulary (DESIGN §2), one for both email products. */
export type DetectionCategory =
  | "spam" | "graymail" | "web-reputation" | "bec" | "phishing" | "malware" | "ransomware"
  | "suspicious-objects" | "advanced-threats" | "scan-exceptions" | "spoofing" | "content-filter" | "dlp";

/**
 * The `event` to ask for, per category: the table lives here and in the README. `web-reputation`
 * and `scan-exceptions` come back under `threat` (Trend Micro's "Mapping between event types in
 * the request and response").
 */
export const CATEGORY_EVENT: Readonly<Record<DetectionCategory, PolicyEventKind>> = {
  spam: "spam", graymail: "spam", bec: "spam",
  phishing: "phishing",
  "web-reputation": "threat", malware: "threat", ransomware: "threat", "suspicious-objects": "threat",
  "advanced-threats": "threat", "scan-exceptions": "threat",
  spoofing: "anti_spoof", "content-filter": "content_filter", dlp: "dlp",
};

const norm = (s: string | undefined) => (s ?? "").toLowerCase().replace(/[^a-z]+/g, " ").trim();

// a spam subtype Web Reputation (a spam-rule criterion) still counts as web reputation, should a
// service log it there; the documented place is eventType Web Reputation under `threat`
const SPAM_SUBTYPES: Readonly<Record<string, DetectionCategory>> = {
  graymail: "graymail",
  "web reputation": "web-reputation",
  "business email compromise": "bec",
  "business email compromise bec": "bec",
  "high profile users": "bec",
  "social engineering attack": "bec",
};

/** Where one logged event is counted. */
export interface Categorized {
  /** A category of the vocabulary, or `other:<event>` for an event type the table does not know. */
  category: DetectionCategory | `other:${PolicyEventKind}`;
  /** Set when the type or subtype is not in the table: `Spam/New Subtype`, shown in reports. */
  unknown?: string;
}

/**
 * The category of one logged event. A spam subtype the table does not know counts as spam (the
 * table says "subtype Spam or none of the three below") and is shown; an unknown event type counts
 * under its event kind as `other:<event>` and is shown — never dropped silently.
 */
export function categorize(event: PolicyEventKind, eventType: string, eventSubtype?: string): Categorized {
  const type = norm(eventType);
  const sub = norm(eventSubtype);
  const label = `${eventType}${eventSubtype ? `/${eventSubtype}` : ""}`;
  const other = { category: `other:${event}` as const, unknown: label };
  switch (event) {
    case "spam":
      if (SPAM_SUBTYPES[sub]) return { category: SPAM_SUBTYPES[sub] };
      // Trend Micro's syslog names graymail, BEC and web reputation as event types of their own;
      // should the log API do the same under `spam`, they still land in their category
      if (SPAM_SUBTYPES[type]) return { category: SPAM_SUBTYPES[type] };
      if (type === "spam" && (sub === "" || sub === "spam")) return { category: "spam" };
      return type === "spam" ? { category: "spam", unknown: label } : other;
    case "phishing":
      return type === "phishing" ? { category: "phishing" } : other;
    case "threat":
      if (type.startsWith("malware")) return { category: "malware" };
      if (type === "ransomware") return { category: "ransomware" };
      if (type.startsWith("suspicious object")) return { category: "suspicious-objects" };
      if (type.startsWith("advanced persistent threat") || type.includes("advanced threat")) return { category: "advanced-threats" };
      if (type === "web reputation") return { category: "web-reputation" };
      if (type.startsWith("scan exception")) return { category: "scan-exceptions" };
      return other;
    case "anti_spoof":
      return type === "domain based authentication" ? { category: "spoofing" } : other;
    case "content_filter":
      // the syslog feed says Content or Attachment for content-filter rules; all are content filtering
      return type === "content filtering" || type === "content" || type === "attachment" ? { category: "content-filter" } : other;
    case "dlp":
      return type === "data loss prevention" ? { category: "dlp" } : other;
  }
}

/** The event kinds to poll for a set of selected categories. */
export function eventsFor(categories: readonly string[]): PolicyEventKind[] {
  return [...new Set(categories.map((c) => CATEGORY_EVENT[c as DetectionCategory]).filter(Boolean))].sort();
}
