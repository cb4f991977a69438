import { describe, expect, it } from "vitest";
import { reportTitle, sendKey, ticketSummary } from "./send-key.ts";

describe("send keys and ticket summaries (DESIGN §8)", () => {
  it("a key is cws- and 10 lowercase hex digits, stable, and different per customer, report and period", () => {
    const k = sendKey("acme-corp", "emailSecurity", "2027-W03");
    expect(k).toMatch(/^cws-[0-9a-f]{10}$/);
    expect(sendKey("acme-corp", "emailSecurity", "2027-W03")).toBe(k);
    const others = [sendKey("acme-corp", "emailSecurity", "2027-W04"), sendKey("acme-corp", "hostedEmailSecurity", "2027-W03"), sendKey("acme-corpx", "emailSecurity", "2027-W03")];
    expect(new Set([k, ...others]).size).toBe(4);
  });

  it("titles say the frequency; cron schedules have none", () => {
    expect(reportTitle("emailSecurity", { kind: "every", every: "week" })).toBe("Email Security weekly");
    expect(reportTitle("billing", { kind: "monthly-day", dayOfMonth: 31 })).toBe("Billing");
    expect(reportTitle("hostedEmailSecurity", { kind: "cron", expression: "0 8 * * 1-5" })).toBe("Hosted Email Security");
  });

  it("a summary reads like the example and fits 100 characters, shortening only the customer name", () => {
    expect(ticketSummary("Email Security weekly", "2027-W03", "Acme Corporation", "cws-3f9a1c02be")).toBe("Email Security weekly 2027-W03 Acme Corporation cws-3f9a1c02be");
    const long = ticketSummary("Hosted Email Security monthly", "2027-01", "The Extremely Long Name of a Holding Company and All of Its Subsidiaries Worldwide Ltd", "cws-0123456789");
    expect(long.length).toBeLessThanOrEqual(100);
    expect(long.startsWith("Hosted Email Security monthly 2027-01 The Extremely")).toBe(true);
    expect(long).toMatch(/… cws-0123456789$/);
  });
});
