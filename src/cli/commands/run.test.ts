import { describe, expect, it } from "vitest";
import type { SendNowResult } from "../../daemon/api-types.ts";
import { sendNowForDashboard } from "./run.ts";

const control = (result: SendNowResult) => ({ requestSendNow: async () => result });

describe("the daemon's own dashboard, s (send now)", () => {
  it("shows a send that went out as done, and one that did not as the failure it is, with each report's line", async () => {
    const sent: SendNowResult = { ok: true, customer: "acme-corp", message: "billing 2026-12: sent, ticket #100000", sends: [] };
    await expect(sendNowForDashboard(control(sent), "acme-corp", "billing")).resolves.toBe("billing 2026-12: sent, ticket #100000");

    const failed: SendNowResult = {
      ok: false,
      customer: "acme-corp",
      message: "billing 2026-12: sent, ticket #100000\nemailSecurity 2026-12-05: failed — ConnectWise answered 500",
      sends: [],
    };
    await expect(sendNowForDashboard(control(failed), "acme-corp")).rejects.toThrow("emailSecurity 2026-12-05: failed — ConnectWise answered 500");
  });
});
