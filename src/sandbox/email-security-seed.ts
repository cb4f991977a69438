import type { DetectionService, PolicyEvent, PolicyEventKind } from "../ports/detection-source.ts";
import { stableHash } from "./seed-builder.ts";

/** One policy event log as the fake serves it: the port's fields and a few more a real log has. */
export interface SeededLog extends PolicyEvent {
  domainName: string;
  direction: "in" | "out";
  timestamp: string;
  mailID: string;
  sender: string;
  recipient: string[];
  subject: string;
  policyName: string;
  policyAction: string;
}

export interface EventSeedOptions {
  service: DetectionService;
  seed: number | string;
  /** The most events of the busiest kind (spam) per domain and hour; the other kinds get a fraction. */
  eventsPerHour: number;
  /** Every second event of a kind with several types shares the message of the one before, with another type. */
  multiEventMessages?: boolean;
}

type Draw = { type: string; subtype?: string; weight: number };

/**
 * The logged types and subtypes per `event` (tmrm.md §4: the API's request-to-response mapping and
 * the spam criteria; Web Reputation and Scan Exception come back under `threat`), with how often
 * each is drawn. "Unusual signal" is a spam criterion cwsync's
 * table does not name: rare, so that unknown-subtype handling is exercised.
 */
const VOCABULARY: Readonly<Record<PolicyEventKind, readonly Draw[]>> = {
  spam: [
    { type: "Spam", subtype: "Spam", weight: 40 },
    { type: "Spam", subtype: "Graymail", weight: 20 },
    { type: "Spam", subtype: "Business Email Compromise", weight: 6 },
    { type: "Spam", subtype: "High Profile Users", weight: 4 },
    { type: "Spam", subtype: "Social engineering attack", weight: 6 },
    { type: "Spam", subtype: "Unusual signal", weight: 1 },
  ],
  phishing: [{ type: "Phishing", weight: 1 }],
  threat: [
    { type: "Malware", subtype: "Pattern-based scanning", weight: 30 },
    { type: "Malware", subtype: "Predictive Machine Learning", weight: 15 },
    { type: "Ransomware", weight: 10 },
    { type: "Suspicious Objects", subtype: "Files", weight: 10 },
    { type: "Suspicious Objects", subtype: "URLs", weight: 5 },
    { type: "Advanced Persistent Threat", subtype: "Analyzed Advanced Threats (Files)", weight: 4 },
    { type: "Advanced Persistent Threat", subtype: "Probable Advanced Threats", weight: 2 },
    // Trend Micro's request/response mapping lists these under `threat` too
    { type: "Web Reputation", weight: 8 },
    { type: "Scan Exception", subtype: "Virtual Analyzer scan exception", weight: 2 },
    { type: "Scan Exception", subtype: "Password-protected attachment", weight: 2 },
  ],
  anti_spoof: [
    { type: "Domain-based Authentication", subtype: "Sender IP Match", weight: 3 },
    { type: "Domain-based Authentication", subtype: "SPF", weight: 5 },
    { type: "Domain-based Authentication", subtype: "DKIM", weight: 3 },
    { type: "Domain-based Authentication", subtype: "DMARC", weight: 4 },
  ],
  content_filter: [{ type: "Content Filtering", weight: 1 }],
  dlp: [{ type: "Data Loss Prevention", weight: 1 }],
};

/** Share of `eventsPerHour` per kind: spam is the bulk of any mailbox's detections. */
const SCALE: Readonly<Record<PolicyEventKind, number>> = { spam: 1, phishing: 0.25, threat: 0.5, anti_spoof: 0.5, content_filter: 0.25, dlp: 0.25 };
/** Share of outgoing mail per kind: DLP watches what leaves. */
const OUTGOING: Readonly<Record<PolicyEventKind, number>> = { spam: 0.05, phishing: 0, threat: 0.05, anti_spoof: 0, content_filter: 0.5, dlp: 0.8 };
const ACTION: Readonly<Record<PolicyEventKind, string>> = {
  spam: "Quarantine", phishing: "Delete entire message", threat: "Delete entire message",
  anti_spoof: "Quarantine", content_filter: "Tag subject", dlp: "Quarantine",
};

const HOUR = 3_600_000;

/** FNV-1a, then murmur3's finaliser so that every bit of the result is usable. */
function hash(text: string): number {
  let h = stableHash(text);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function draw(kind: PolicyEventKind, h: number): Draw {
  const table = VOCABULARY[kind];
  let n = h % table.reduce((s, d) => s + d.weight, 0);
  for (const d of table) {
    if (n < d.weight) return d;
    n -= d.weight;
  }
  return table[0];
}

const hex = (n: number) => n.toString(16).padStart(8, "0");

/**
 * The events of one domain, kind and UTC hour (`hour` = epoch ms / 3,600,000), sorted: a stable
 * hash of seed, service, domain, kind and hour decides how many (a quarter of the hours have
 * none), when (ms precision; in a third of the busy hours the first one falls exactly on
 * `HH:00:00.000Z`, so window boundaries are exercised) and what each is.
 */
export function eventsInHour(o: EventSeedOptions, domain: string, kind: PolicyEventKind, hour: number): SeededLog[] {
  const d = domain.toLowerCase();
  const key = `${o.seed}|${o.service}|${d}|${kind}|${hour}`;
  const h = hash(key);
  if (h % 4 === 0) return [];
  const max = Math.max(1, Math.round(o.eventsPerHour * SCALE[kind]));
  const count = 1 + ((h >>> 2) % max);
  const onTheHour = (h >>> 20) % 3 === 0;
  const logs: SeededLog[] = [];
  for (let i = 0; i < count; i++) {
    const e = hash(`${key}|${i}`);
    const e2 = hash(`${key}|${i}|more`);
    const at = hour * HOUR + (i === 0 && onTheHour ? 0 : e % HOUR);
    const genTime = new Date(at).toISOString();
    const what = draw(kind, e2);
    const out = (e2 >>> 8) % 100 < OUTGOING[kind] * 100;
    const local = `user${(e2 >>> 16) % 40}`;
    const outsider = `sender${(e >>> 12) % 500}@${["mailer", "promo", "notice", "billing"][e2 % 4]}.example.org`;
    const log: SeededLog = {
      genTime,
      timestamp: genTime,
      // unique: service, domain, kind, hour and index all appear in it
      messageID: `<${hex(e)}.${hour.toString(36)}.${i}.${kind}.${o.service}@sandbox.${d}>`,
      mailID: `${hex(e)}-${hex(e2)}-${hour.toString(16)}-${i}`,
      domainName: d,
      direction: out ? "out" : "in",
      sender: out ? `${local}@${d}` : outsider,
      recipient: [out ? outsider : `${local}@${d}`],
      subject: `Sandbox message ${i + 1} of hour ${new Date(hour * HOUR).toISOString().slice(0, 13)}`,
      eventType: what.type,
      policyName: `Sandbox ${what.type} policy`,
      policyAction: ACTION[kind],
    };
    if (what.subtype) log.eventSubtype = what.subtype;
    const prev = logs[i - 1];
    if (o.multiEventMessages && i % 2 === 1 && VOCABULARY[kind].length > 1) {
      // the same message, caught a second time by another rule of this kind
      Object.assign(log, { messageID: prev.messageID, mailID: prev.mailID, genTime: prev.genTime, timestamp: prev.timestamp, direction: prev.direction, sender: prev.sender, recipient: prev.recipient, subject: prev.subject });
      if (log.eventType === prev.eventType && log.eventSubtype === prev.eventSubtype) {
        const other = VOCABULARY[kind].find((d) => d.type !== prev.eventType || d.subtype !== prev.eventSubtype)!;
        log.eventType = other.type;
        if (other.subtype) log.eventSubtype = other.subtype;
        else delete log.eventSubtype;
        log.policyName = `Sandbox ${other.type} policy`;
      }
    }
    logs.push(log);
  }
  return logs.sort(byTime);
}

type Ordered = { genTime: string; messageID: string; eventType: string; eventSubtype?: string };

/** What orders logs of one instant, and what a page token resumes after: one message may carry several events. */
export const orderKey = (l: Ordered) => `${l.messageID}\u0000${l.eventType}\u0000${l.eventSubtype ?? ""}`;

/** Ascending genTime, then messageID (then type and subtype): the order the fake serves and pages in. */
export function byTime(a: Ordered, b: Ordered): number {
  if (a.genTime !== b.genTime) return a.genTime < b.genTime ? -1 : 1;
  const [x, y] = [orderKey(a), orderKey(b)];
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Every seeded event of a domain and kind with `from <= genTime < to` (epoch ms), sorted. */
export function eventsInRange(o: EventSeedOptions, domain: string, kind: PolicyEventKind, from: number, to: number): SeededLog[] {
  if (to <= from) return [];
  const out: SeededLog[] = [];
  for (let hour = Math.floor(from / HOUR); hour <= Math.floor((to - 1) / HOUR); hour++) {
    for (const log of eventsInHour(o, domain, kind, hour)) {
      const t = Date.parse(log.genTime);
      if (t >= from && t < to) out.push(log);
    }
  }
  return out;
}

/** The port's view of a served log: what a client reading the same answer returns. */
export function asPolicyEvent(log: SeededLog): PolicyEvent {
  const e: PolicyEvent = { messageID: log.messageID, genTime: log.genTime, eventType: log.eventType };
  if (log.eventSubtype) e.eventSubtype = log.eventSubtype;
  e.domainName = log.domainName;
  e.direction = log.direction;
  return e;
}
