import type { EmailSecuritySandbox } from "./email-security-sandbox.ts";
import type { FaultSpec } from "./faults.ts";
import type { SandboxCompanyStatus, SandboxState } from "./model.ts";
import type { Sandboxes } from "./start-sandboxes.ts";

/** A named way for the fakes to misbehave for their whole lifetime, as real services and their proxies do. */
export interface FaultPreset {
  name: string;
  /** What the fake then answers. */
  description: string;
  /** What cwsync then shows (its reason codes). */
  expect: string;
  /** Switches it on; a fake that is not running is left alone. */
  apply(sandboxes: Sandboxes): void;
}

/** Every agreement's additions list: what billing reads before it sets a quantity. */
const ADDITIONS_LIST = /^\/finance\/agreements\/\d+\/additions$/i;
/** What billing creates: tickets and additions. */
const CREATES = /^\/(service\/tickets|finance\/agreements\/\d+\/additions)$/i;
/** Additions created or changed. */
const ADDITION_WRITES = /^\/finance\/agreements\/\d+\/additions(\/\d+)?$/i;
/** Past cwsync's 32 MiB cap on an answer, and small enough for a shared machine. */
export const HUGE_BODY_BYTES = 40 * 1024 * 1024;
/** One more than a page of 1,000, so that a server ignoring `page` answers page 2 with page 1's rows. */
const FILLER_AGREEMENT_TYPES = 1000;

/** A tenant's own company status names; only `inactiveFlag` says whether a company is active. */
export const TENANT_COMPANY_STATUSES: readonly SandboxCompanyStatus[] = [
  { id: 1, name: "Active - Managed", inactiveFlag: false, defaultFlag: true },
  { id: 2, name: "Inactive - Former", inactiveFlag: true },
  { id: 4, name: "Client", inactiveFlag: false },
  { id: 5, name: "Credit Hold", inactiveFlag: true },
  { id: 6, name: "Not Approved", inactiveFlag: true },
];

const cw = (spec: FaultSpec) => (s: Sandboxes) => void s.connectwise.faults.add({ times: Infinity, ...spec });
const emailSecurity = (on: (fake: EmailSecuritySandbox) => void) => (s: Sandboxes) => {
  for (const fake of [s.tmes, s.hes]) if (fake) on(fake);
};

/** The seeded companies on tenant-named statuses: active ones on "Active - Managed" or "Client", DormantCo on "Credit Hold", deleted ones on "Inactive - Former". */
function useTenantStatuses(state: SandboxState): void {
  state.companyStatuses = TENANT_COMPANY_STATUSES.map((s) => ({ ...s }));
  const byId = new Map(TENANT_COMPANY_STATUSES.map((s) => [s.id, s]));
  const wasInactive = new Set([2, 5, 6]);
  state.companies.forEach((c, i) => {
    const id = c.deletedFlag ? 2 : wasInactive.has(c.status.id) ? 5 : i % 2 === 0 ? 1 : 4;
    c.status = { id, name: byId.get(id)!.name };
  });
}

function padAgreementTypes(state: SandboxState): void {
  const next = Math.max(0, ...state.agreementTypes.map((t) => t.id)) + 1;
  for (let i = 0; i < FILLER_AGREEMENT_TYPES; i++) state.agreementTypes.push({ id: next + i, name: `Legacy Type ${i + 1}`, inactiveFlag: true });
}

export const FAULT_PRESETS: readonly FaultPreset[] = [
  {
    name: "cw-html200",
    description: "ConnectWise answers every agreement's additions list with a login page's HTML, status 200",
    expect: "customers due for billing fail with connectwise.unreadable and nothing is written for them; the others go on",
    apply: cw({ kind: "html200", method: "GET", path: ADDITIONS_LIST }),
  },
  {
    name: "cw-truncated-json",
    description: "ConnectWise answers every agreement's additions list with the first half of its JSON",
    expect: "customers due for billing fail with connectwise.unreadable and nothing is written for them; the others go on",
    apply: cw({ kind: "truncated-json", method: "GET", path: ADDITIONS_LIST }),
  },
  {
    name: "cw-redirect-to-login",
    description: "ConnectWise answers every ticket or addition create with a 302 to a login page on another host, creating nothing",
    expect: "each create is unknown (never followed) and its customer stays pending send.unresolved; a run without the fault creates it once",
    apply: cw({ kind: "redirect-to-login", method: "POST", path: CREATES }),
  },
  {
    name: "cw-huge-body",
    description: "ConnectWise answers the company list with a 40 MiB JSON list",
    expect: "every customer fails with connectwise.unreadable (an answer larger than 32 MiB is refused); nothing is written",
    apply: cw({ kind: "huge-body", bytes: HUGE_BODY_BYTES, method: "GET", path: "/company/companies" }),
  },
  {
    name: "cw-ignore-page",
    description: "ConnectWise holds 1,000 more agreement types and answers every page of their list with the first",
    expect: "every customer fails with connectwise.unreadable naming finance/agreements/types; nothing is written",
    apply: (s) => {
      padAgreementTypes(s.connectwise.state);
      cw({ kind: "ignore-page", method: "GET", path: "/finance/agreements/types" })(s);
    },
  },
  {
    name: "cw-lost-write",
    description: "ConnectWise answers additions created or changed as usual but keeps none of them",
    expect: "a created addition is not there when read back: unknown, its customer pending send.unresolved (a changed one: failing send.failed); nothing is ticketed for it",
    apply: cw({ kind: "lost-write", path: ADDITION_WRITES }),
  },
  {
    name: "cw-tenant-statuses",
    description: "ConnectWise's company statuses carry tenant names (Active - Managed, Client, Credit Hold, Inactive - Former); the seeded companies use them",
    expect: "billing as usual: activity comes from inactiveFlag, not the name; DormantCo on Credit Hold is inactive (company.inactive)",
    apply: (s) => useTenantStatuses(s.connectwise.state),
  },
  {
    name: "cw-throttle",
    description: "ConnectWise throttles at 1,000 requests a minute (a token bucket holding 50): a request past it is answered 429 with Retry-After and ConnectWise's JSON body, and not processed",
    expect: "nothing fails: the limiter stays under it (16 a second after a burst of 30); a 429 slows the limiter and the request, a create too, is sent again after Retry-After",
    apply: cw({ kind: "throttle" }),
  },
  {
    name: "lmpi-html",
    description: "LMPI answers every report request with a sign-in page's HTML, status 200",
    expect: "customers due for billing wait, failing with lmpi.unreadable; nothing is billed from it",
    apply: (s) => s.lmpi?.setStandingFault({ kind: "html" }),
  },
  {
    name: "lmpi-truncated",
    description: "LMPI answers every report with the first half of its JSON",
    expect: "customers due for billing wait, failing with lmpi.unreadable; nothing is billed from it",
    apply: (s) => s.lmpi?.setStandingFault({ kind: "truncated" }),
  },
  {
    name: "lmpi-empty-summary",
    description: "LMPI answers every report with {\"summary\": []}: the month's report not generated yet",
    expect: "customers due for billing wait, failing with lmpi.empty-report, and are retried at the next reconcile",
    apply: (s) => s.lmpi?.setStandingFault({ kind: "empty-summary" }),
  },
  {
    name: "lmpi-used-null",
    description: "LMPI reports every row with \"used\": null",
    expect: "seat products are billed at provisioned, with the warning seats.used-unreported",
    apply: (s) => s.lmpi?.setStandingFault({ kind: "rows", set: { used: null } }),
  },
  {
    name: "lmpi-used-absurd",
    description: "LMPI reports every row with \"used\": 1e308",
    expect: "those lines are not billed (seats.invalid) and their customers fail; nothing is set for them",
    apply: (s) => s.lmpi?.setStandingFault({ kind: "rows", set: { used: 1e308 } }),
  },
  {
    name: "tmes-html",
    description: "Email Security (TMES and HES) answers every log request with a proxy's HTML page, status 200",
    expect: "polling fails: customers with email domains fail with email-security.unreadable; a report waits for the events it lacks",
    apply: emailSecurity((f) => f.setStandingFault({ kind: "html" })),
  },
  {
    name: "tmes-truncated",
    description: "Email Security (TMES and HES) answers every log request with the first half of its JSON",
    expect: "polling fails: customers with email domains fail with email-security.unreadable; a report waits for the events it lacks",
    apply: emailSecurity((f) => f.setStandingFault({ kind: "truncated" })),
  },
  {
    name: "tmes-endless-tokens",
    description: "Email Security (TMES and HES) answers every log request with no logs and a fresh nextToken, for ever",
    expect: "paging is stopped: customers with email domains fail with email-security.endless-paging; a report waits for the events it lacks",
    apply: emailSecurity((f) => f.setEndlessTokens(true)),
  },
  {
    name: "tmes-late-events",
    description: "Email Security (TMES and HES) shows one event in three only 5 minutes after its time",
    expect: "nothing fails: cwsync polls 10 minutes behind now (CWSYNC_POLL_LAG), so the daemon still counts them; with CWSYNC_POLL_LAG=0 a poll can miss them",
    apply: emailSecurity((f) => f.setLateEvents({ delayMs: 5 * 60_000, every: 3 })),
  },
  {
    name: "echo-auth",
    description: "ConnectWise (the company list), LMPI and Email Security answer with an error that quotes the request's credentials",
    expect: "customers fail (detections.unavailable, license.unavailable, connectwise.unavailable); the quoted secrets show only as [redacted]",
    apply: (s) => {
      cw({ kind: "echo-auth", status: 400, method: "GET", path: "/company/companies" })(s);
      s.lmpi?.setStandingFault({ kind: "echo-auth" });
      emailSecurity((f) => f.setStandingFault({ kind: "echo-auth" }))(s);
    },
  },
];

export const FAULT_PRESET_NAMES: readonly string[] = FAULT_PRESETS.map((p) => p.name);

/** The presets of these names, in catalogue order; an unknown name throws, listing the valid ones. */
export function faultPresets(names: readonly string[]): FaultPreset[] {
  const unknown = names.filter((n) => !FAULT_PRESET_NAMES.includes(n));
  if (unknown.length > 0) {
    throw new Error(`unknown sandbox fault ${unknown.map((n) => `\`${n}\``).join(", ")}: expected one of ${FAULT_PRESET_NAMES.join(", ")}`);
  }
  return FAULT_PRESETS.filter((p) => names.includes(p.name));
}
