import type { ImportEntry, ImportResult } from "../app/import.ts";
import { escapeControls } from "./text-escape.ts";

const SECTIONS = [
  { kind: "matched", title: "Matched (draft written, suspended until reviewed)" },
  { kind: "ambiguous", title: "Ambiguous (nothing written: pick the company and write the file by hand)" },
  { kind: "unmatched", title: "Unmatched (no company found)" },
  { kind: "skipped", title: "Skipped" },
] as const;

const t = (s: string) => escapeControls(s);

function lines(e: ImportEntry): string[] {
  const head = `  ${t(e.lmpCustomer)}`;
  switch (e.kind) {
    case "matched":
      return [
        `${head} → ${t(e.company.name)} (${t(e.company.identifier)}): ${e.file ?? e.draft.name}`,
        `      ${t(e.reason)}`,
        ...Object.entries(e.draft.agreements).map(([p, m]) => `      ${p}: ${m === "default" ? "default" : `${t(m.type)} / ${t(m.name)}`}`),
        ...e.draft.notes.map((n) => `      note: ${t(n)}`),
      ];
    case "ambiguous":
      return [`${head}: ${t(e.reason)}`, ...e.candidates.map((c) => `      candidate: ${t(c.name)} (${t(c.identifier)}, #${c.id})`)];
    default:
      return [`${head}: ${t(e.reason)}`];
  }
}

/** `cwsync import`'s output: matched, ambiguous (with the candidates), unmatched and skipped, each with its reason. */
export function renderImport(r: ImportResult, format: "text" | "json"): string {
  if (format === "json") {
    const of = (kind: ImportEntry["kind"]) => r.entries.filter((e) => e.kind === kind);
    return JSON.stringify({
      month: r.month,
      out: r.out,
      matched: of("matched").map((e) => e.kind === "matched" && {
        lmpCustomer: e.lmpCustomer, company: pick(e.company), reason: e.reason, file: e.file, name: e.draft.name,
        agreements: e.draft.agreements, notes: e.draft.notes,
      }),
      ambiguous: of("ambiguous").map((e) => e.kind === "ambiguous" && { lmpCustomer: e.lmpCustomer, reason: e.reason, candidates: e.candidates.map(pick) }),
      unmatched: of("unmatched").map((e) => ({ lmpCustomer: e.lmpCustomer, reason: e.reason })),
      skipped: of("skipped").map((e) => ({ lmpCustomer: e.lmpCustomer, reason: e.reason })),
    }, null, 2) + "\n";
  }
  const out = [`LMP report ${r.month}, ConnectWise: ${r.target}; drafts go to ${r.out}`];
  for (const s of SECTIONS) {
    const es = r.entries.filter((e) => e.kind === s.kind);
    if (s.kind === "skipped" && es.length === 0) continue;
    out.push("", `${s.title}: ${es.length}`, ...es.flatMap(lines));
  }
  return out.join("\n") + "\n";
}

const pick = (c: { id: number; identifier: string; name: string }) => ({ id: c.id, identifier: c.identifier, name: c.name });
