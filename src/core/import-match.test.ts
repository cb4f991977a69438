import { describe, expect, it } from "vitest";
import type { GlobalFile } from "../config/model.ts";
import type { Agreement, Company } from "../ports/connectwise.ts";
import { draftText, LEGAL_SUFFIXES, matchImports, normaliseName, slugName, type CompanyEvidence, type MatchInput } from "./import-match.ts";

const global = {
  connectwise: { defaultAgreementTypes: ["Managed Service"], tickets: { board: "B" }, decreases: "apply" },
  products: {
    "wfbs-svc": { displayName: "WFBS", lmp: { productName: "WFBS" }, catalogItem: "TM-WFBSS", quantity: "used" },
    hes: { displayName: "HES", lmp: { productName: "HES" }, catalogItem: "TM-HES", quantity: "used" },
  },
} as unknown as Pick<GlobalFile, "products" | "connectwise">;

const company = (id: number, name: string, identifier = `C${id}`): Company => ({ id, identifier, name });
const agreement = (id: number, companyId: number, type: string, name: string, over: Partial<Agreement> = {}): Agreement =>
  ({ id, name, type: { id: 1, name: type }, company: { id: companyId }, agreementStatus: "Active", ...over });
const found = (...cs: Company[]) => cs.map((c) => ({ company: c, state: "found" as const }));

function input(over: Partial<MatchInput>): MatchInput {
  return { lmp: [], existing: [], companies: [], evidence: new Map(), global, ...over };
}

describe("normaliseName", () => {
  it("folds case, punctuation, accents and whitespace, and drops every listed legal suffix", () => {
    expect(normaliseName("  ACME,   Inc. ")).toBe("acme");
    expect(normaliseName("Café Rossi S.r.l.")).toBe("cafe rossi");
    expect(normaliseName("Outback Mining Pty. Ltd.")).toBe("outback mining");
    expect(normaliseName("Sakura Trading K.K.")).toBe(normaliseName("Sakura Trading KK"));
    const spelled = ["Inc", "Inc.", "LLC", "Ltd", "Limited", "GmbH", "S.r.l.", "S.A.", "SA", "AG", "BV", "Pty Ltd", "Corp", "Corporation", "Co"];
    for (const s of spelled) expect(normaliseName(`Fabrikam ${s}`), s).toBe("fabrikam");
    expect(LEGAL_SUFFIXES).toContain("pty ltd");
  });

  it("keeps a suffix that is the whole name, and words that only end like a suffix", () => {
    expect(normaliseName("Co")).toBe("co");
    expect(normaliseName("Acme Corporation UK")).toBe("acme corporation uk");
    expect(normaliseName("Taco")).toBe("taco");
  });
});

describe("slugName", () => {
  it("makes a file name of [a-z0-9-], at most 63 characters, or nothing", () => {
    expect(slugName("Bluewater Dental Group, Inc.")).toBe("bluewater-dental-group");
    expect(slugName("株式会社")).toBeUndefined();
    const long = slugName("word ".repeat(30))!;
    expect(long.length).toBeLessThanOrEqual(63);
    expect(long).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
  });
});

describe("matchImports", () => {
  const acme = company(1, "Acme Corp");
  const acme2 = company(2, "ACME, Inc.");
  const evidence = (agreements: Agreement[], items: [number, string][]): CompanyEvidence => ({ agreements, additions: items.map(([agreementId, catalogItem]) => ({ agreementId, catalogItem })) });

  it("pairs one namesake and drafts its mappings: `default` for the one default-type agreement, else type and name", () => {
    const ev = evidence([agreement(10, 1, "Managed Service", "Acme MS"), agreement(11, 1, "Email", "Acme Mail")], [[10, "TM-WFBSS"], [11, "TM-HES"]]);
    const [o] = matchImports(input({ lmp: [{ name: "Acme Corporation", products: ["wfbs-svc"] }], companies: found(acme), evidence: new Map([[1, ev]]) }));
    expect(o).toMatchObject({ kind: "matched", draft: { name: "acme", companyId: "C1", lmpCustomer: "Acme Corporation", agreements: { "wfbs-svc": "default", hes: { type: "Email", name: "Acme Mail" } } } });
    const text = draftText((o as { draft: Parameters<typeof draftText>[0] }).draft, new Date("2027-03-10T00:00:00Z"));
    expect(text).toContain('reason: "imported: review before billing"');
    expect(text).toContain("notifications: global");
  });

  it("settles several namesakes by additions for the customer's products, else reports them all", () => {
    const ev = new Map([[2, evidence([agreement(20, 2, "Managed Service", "A")], [[20, "TM-HES"]])]]);
    const lmp = [{ name: "Acme", products: ["hes"] }];
    expect(matchImports(input({ lmp, companies: found(acme, acme2), evidence: ev }))[0]).toMatchObject({ kind: "matched", company: { id: 2 } });
    const none = matchImports(input({ lmp: [{ name: "Acme", products: ["wfbs-svc"] }], companies: found(acme, acme2), evidence: ev }))[0];
    expect(none).toMatchObject({ kind: "ambiguous", candidates: [{ id: 1 }, { id: 2 }] });
  });

  it("skips what a file configures (by LMP name or company ID) and reports inactive namesakes as unmatched", () => {
    const out = matchImports(input({
      lmp: [{ name: "acme  corp", products: [] }, { name: "Acme Corporation", products: [] }, { name: "Dormant", products: [] }],
      existing: [{ file: "customers/x.yaml", name: "x", lmpCustomer: "Acme Corp", companyId: "c1" }],
      companies: [...found(acme), { company: company(3, "Dormant Ltd"), state: "inactive" }],
    }));
    expect(out).toEqual([
      { kind: "skipped", lmpCustomer: "acme  corp", reason: "already configured by customers/x.yaml" },
      expect.objectContaining({ kind: "skipped", lmpCustomer: "Acme Corporation", reason: expect.stringContaining("already configured by customers/x.yaml") }),
      expect.objectContaining({ kind: "unmatched", reason: expect.stringContaining("“Dormant Ltd” (C3, #3) is inactive") }),
    ]);
  });

  it("never drafts a company two LMP customers pair with, a file that exists, or a name two drafts share", () => {
    const shared = matchImports(input({ lmp: [{ name: "Acme Corp", products: [] }, { name: "Acme Inc", products: [] }], companies: found(acme) }));
    expect(shared.map((o) => o.kind)).toEqual(["ambiguous", "ambiguous"]);
    const exists = matchImports(input({ lmp: [{ name: "Acme", products: [] }], companies: found(acme), existing: [{ file: "customers/acme.yaml", name: "acme" }] }));
    expect(exists[0]).toMatchObject({ kind: "skipped", reason: expect.stringContaining("would overwrite customers/acme.yaml") });
    const twins = matchImports(input({ lmp: [{ name: "Ørsted", products: [] }, { name: "Rsted", products: [] }], companies: found(company(5, "Ørsted"), company(6, "Rsted")) }));
    // both would be rsted.yaml: neither is written, rather than one getting a made-up name
    expect(twins).toEqual([
      expect.objectContaining({ kind: "skipped", reason: expect.stringContaining("would be named rsted.yaml, as that of “Rsted”") }),
      expect.objectContaining({ kind: "skipped", reason: expect.stringContaining("would be named rsted.yaml, as that of “Ørsted”") }),
    ]);
  });
});
