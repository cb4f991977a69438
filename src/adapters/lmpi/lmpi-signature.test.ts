import { createHash, createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { contentMd5, lmpiSignature, LMPI_SUMMARY_PATH, signedHeaders, stringToSign } from "./lmpi-signature.ts";

const SECRET = "test-secret-key";
const BODY = '{"report_cycle_year":"2025","report_cycle_month":"07","language_code":"en-US"}';
// 2025-07-01T12:00:00Z
const T = 1751371200;

describe("LMPI request signing (tmrm.md §5.2)", () => {
  it("matches the recipe computed by hand: base64(HMAC-SHA256(secret, posix_time + METHOD + request_uri + base64(MD5(body))))", () => {
    const md5 = createHash("md5").update(Buffer.from(BODY, "utf8")).digest("base64");
    const message = `${T}POST/LMPI/v3/reports/summary${md5}`;
    const byHand = createHmac("sha256", Buffer.from(SECRET, "utf8")).update(Buffer.from(message, "utf8")).digest("base64");
    expect(lmpiSignature(SECRET, T, { method: "POST", requestUri: LMPI_SUMMARY_PATH, body: BODY })).toBe(byHand);
  });

  it("reproduces vectors computed independently with openssl", () => {
    // printf '%s' "$body" | openssl dgst -md5 -binary | base64
    expect(contentMd5(BODY)).toBe("1oxpULl91QddsPS4TMGrwg==");
    expect(stringToSign(T, { method: "post", requestUri: LMPI_SUMMARY_PATH, body: Buffer.from(BODY) }))
      .toBe("1751371200POST/LMPI/v3/reports/summary1oxpULl91QddsPS4TMGrwg==");
    // printf '%s' "$stringToSign" | openssl dgst -sha256 -hmac test-secret-key -binary | base64
    expect(lmpiSignature(SECRET, T, { method: "POST", requestUri: LMPI_SUMMARY_PATH, body: BODY })).toBe("rQiIhGjrrts0QoxZxiV5BvjVf5QoyY0rIgTQvhJdKsQ=");
    expect(lmpiSignature(SECRET, T, { method: "GET", requestUri: "/LMPI/v3/me/serviceplans" })).toBe("20SDubVDWI/3LjuF+PCqUT1HUdQHeuc2aU5OEieICtM=");
  });

  it("adds no MD5 for an empty body, and signs the query as part of the request URI", () => {
    expect(stringToSign(T, { method: "GET", requestUri: "/x?page=2", body: "" })).toBe("1751371200GET/x?page=2");
    expect(lmpiSignature(SECRET, T, { method: "GET", requestUri: "/x?page=2" })).not.toBe(lmpiSignature(SECRET, T, { method: "GET", requestUri: "/x?page=3" }));
  });

  it("every input changes the signature", () => {
    const base = { method: "POST", requestUri: LMPI_SUMMARY_PATH, body: BODY };
    const sig = lmpiSignature(SECRET, T, base);
    expect(lmpiSignature("other-secret", T, base)).not.toBe(sig);
    expect(lmpiSignature(SECRET, T + 1, base)).not.toBe(sig);
    expect(lmpiSignature(SECRET, T, { ...base, body: BODY.replace("07", "08") })).not.toBe(sig);
    expect(lmpiSignature(SECRET, T, { ...base, requestUri: "/LMPI/v2/reports/summary" })).not.toBe(sig);
  });

  it("headers: token, whole seconds of the given clock, the given trace id, JSON content type", () => {
    const headers = signedHeaders({ accessToken: "tok-1", secretKey: SECRET }, { method: "POST", requestUri: LMPI_SUMMARY_PATH, body: BODY }, T * 1000 + 999, "6f1c0a52-7d1e-4b8e-9a0b-1f2e3d4c5b6a");
    expect(headers).toEqual({
      "content-type": "application/json",
      "x-access-token": "tok-1",
      "x-posix-time": "1751371200",
      "x-traceid": "6f1c0a52-7d1e-4b8e-9a0b-1f2e3d4c5b6a",
      "x-signature": "rQiIhGjrrts0QoxZxiV5BvjVf5QoyY0rIgTQvhJdKsQ=",
    });
    expect(Object.values(headers)).not.toContain(SECRET);
  });
});
