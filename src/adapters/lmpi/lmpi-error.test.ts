import { describe, expect, it } from "vitest";
import { ApiError } from "../../errors.ts";
import { lmpiErrorFromResponse } from "./lmpi-error.ts";

const PATH = "/LMPI/v3/reports/summary";

describe("LMPI error bodies → ApiError", () => {
  it("names LMPI, the documented error_subject and error_message, and what to do", () => {
    const e = lmpiErrorFromResponse("POST", PATH, 401, { error_subject: "AuthenticationFailurePosixTime", error_message: "Time out of range." }, false, []);
    expect(e).toBeInstanceOf(ApiError);
    expect(e.message).toBe(`LMPI POST ${PATH} answered 401 — AuthenticationFailurePosixTime: Time out of range. LMPI rejected the request time: this machine's clock is off; synchronise it (NTP) and retry`);
  });

  it("cuts our secrets out of whatever the server echoed", () => {
    const e = lmpiErrorFromResponse("POST", PATH, 401, { error_subject: "AuthenticationFailureSignature", error_message: "expected s3cr3t-key-value, got abc+/sig=" }, false, ["s3cr3t-key-value", "abc+/sig="]);
    expect(e.message).not.toContain("s3cr3t-key-value");
    expect(e.message).not.toContain("abc+/sig=");
    expect(e.apiMessage).toBe("expected [redacted], got [redacted]");
  });

  it("server failures keep the caller's retryable flag and say to retry later; unknown 401s point at both credentials", () => {
    const e500 = lmpiErrorFromResponse("POST", PATH, 500, { error_subject: "CSPIError", error_message: "boom" }, true, []);
    expect(e500).toMatchObject({ status: 500, code: "CSPIError", retryable: true });
    expect(e500.message).toContain("retry later");
    const e401 = lmpiErrorFromResponse("POST", PATH, 401, "<html>Unauthorized</html>", false, []);
    expect(e401.message).toContain("LMPI_ACCESS_TOKEN and LMPI_SECRET_KEY");
    expect(e401.apiMessage).toBe("<html>Unauthorized</html>");
  });
});
