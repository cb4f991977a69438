import { describe, expect, it } from "vitest";
import { GLOBAL_FILE, loadConfig, type LoadResult } from "../config/load.ts";
import { sourceNeeds, usedBy } from "./sources-env.ts";

const GLOBAL = `apiVersion: cwsync/v1
kind: Global
connectwise:
  defaultAgreementTypes: [Managed Service]
  tickets: { board: Managed Services, status: New }
products:
  wfbs-svc:
    displayName: Worry-Free Business Security Services
    lmp: { productName: Worry-Free Business Security Services }
    catalogItem: TM-WFBSS
    quantity: used
notifications:
  timezone: UTC
  at: "06:00"
  hostedEmailSecurity: { every: week, detections: [spam] }
`;

/** A customer on the global settings (HES only), or with `custom` as its notifications block. */
function customer(name: string, opts: { custom?: string; extra?: string; enabled?: boolean } = {}): string {
  return `apiVersion: cwsync/v1
kind: Customer
name: ${name}
${opts.extra ?? ""}trendMicro:
  customer: ${name} Ltd
  emailDomains: [${name}.example]
connectwise:
  enabled: ${opts.enabled ?? true}
  companyId: ${name.replace(/-/g, "")}
agreements:
  wfbs-svc: default
notifications: ${opts.custom ?? "global"}
`;
}

const BILLING_AND_TMES = `
  timezone: Europe/Rome
  at: "07:00"
  billing: { products: [wfbs-svc], dayOfMonth: 1 }
  emailSecurity: { edition: standard, every: day, detections: [spam] }`;

function load(files: Record<string, string>): LoadResult {
  return loadConfig(Object.entries({ [GLOBAL_FILE]: GLOBAL, ...files }).map(([name, text]) => ({ path: `customers/${name}`, size: Buffer.byteLength(text), text })), `customers/${GLOBAL_FILE}`);
}

const NOW = new Date("2027-01-15T12:00:00Z");

describe("sourceNeeds", () => {
  it("maps each report of every sending customer to its source, global settings resolved", () => {
    const l = load({ "b-co.yaml": customer("b-co", { custom: BILLING_AND_TMES }), "a-co.yaml": customer("a-co") });
    expect(l.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    expect(sourceNeeds(l, NOW)).toEqual({ lmpi: ["b-co"], tmes: ["b-co"], hes: ["a-co"] });
  });

  it("counts nothing for a suspended, a disabled or an invalid customer; a suspension counts again from the day after `until`", () => {
    const files = {
      "held.yaml": customer("held", { extra: "suspend: { reason: renegotiation }\n" }),
      "until.yaml": customer("until", { extra: "suspend: { reason: renegotiation, until: 2027-01-15 }\n" }),
      "off.yaml": customer("off", { enabled: false }),
      "broken.yaml": `${customer("broken")}colour: blue\n`,
    };
    const l = load(files);
    // only broken.yaml is invalid: the others count for nothing because of what they say
    expect([...new Set(l.diagnostics.filter((d) => d.severity === "error").map((d) => d.file))]).toEqual(["customers/broken.yaml"]);
    expect(sourceNeeds(l, NOW)).toEqual({ lmpi: [], tmes: [], hes: [] });
    // `until` is the last suspended day, in the customer's zone (UTC here)
    expect(sourceNeeds(l, new Date("2027-01-16T00:00:00Z")).hes).toEqual(["until"]);
  });

  it("needs nothing while _global.yaml is broken: every customer is held on its last valid config", () => {
    const l = loadConfig([{ path: `customers/${GLOBAL_FILE}`, size: 8, text: "kind: 1\n" }, { path: "customers/a-co.yaml", size: 1, text: customer("a-co") }], `customers/${GLOBAL_FILE}`);
    expect(l.blocked).toBe(true);
    expect(sourceNeeds(l, NOW)).toEqual({ lmpi: [], tmes: [], hes: [] });
  });
});

describe("usedBy", () => {
  it("names up to four customers, else the first three and how many more", () => {
    expect(usedBy("hes", ["a"])).toBe("Hosted Email Security is used by the hostedEmailSecurity reports of 1 customer: a");
    expect(usedBy("lmpi", ["a", "b", "c", "d"])).toBe("the Licensing Management Platform is used by the billing of 4 customers: a, b, c and d");
    expect(usedBy("tmes", ["a", "b", "c", "d", "e"])).toBe("Trend Micro Email Security is used by the emailSecurity reports of 5 customers: a, b, c and 2 more");
  });
});
