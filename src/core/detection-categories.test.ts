import { describe, expect, it } from "vitest";
import { CATEGORY_EVENT, categorize, eventsFor } from "./detection-categories.ts";

describe("the detection category table (DESIGN §2, Trend Micro's request/response mapping)", () => {
  it("asks web-reputation and scan-exceptions under `threat`, with the other threat categories", () => {
    expect(CATEGORY_EVENT["web-reputation"]).toBe("threat");
    expect(CATEGORY_EVENT["scan-exceptions"]).toBe("threat");
    expect(eventsFor(["web-reputation", "scan-exceptions", "malware"])).toEqual(["threat"]);
    expect(eventsFor(["web-reputation", "graymail"])).toEqual(["spam", "threat"]);
  });

  it("counts each logged `threat` type in its category", () => {
    const threat = (type: string, sub?: string) => categorize("threat", type, sub).category;
    expect(threat("Web Reputation")).toBe("web-reputation");
    expect(threat("Scan Exception", "Virtual Analyzer scan exception")).toBe("scan-exceptions");
    expect(threat("Scan Exception", "Password-protected attachment")).toBe("scan-exceptions");
    expect(threat("Malware", "Predictive Machine Learning")).toBe("malware");
    expect(threat("Ransomware")).toBe("ransomware");
    expect(threat("Suspicious Objects", "URLs")).toBe("suspicious-objects");
    expect(threat("Advanced Persistent Threat", "Probable Advanced Threats")).toBe("advanced-threats");
    expect(categorize("threat", "Something New")).toEqual({ category: "other:threat", unknown: "Something New" });
  });

  it("keeps a spam subtype Web Reputation, and the syslog spellings of spam kinds, in their categories", () => {
    expect(categorize("spam", "Spam", "Web Reputation").category).toBe("web-reputation");
    expect(categorize("spam", "Graymail").category).toBe("graymail");
    expect(categorize("spam", "Business Email Compromise (BEC)").category).toBe("bec");
    expect(categorize("spam", "Spam", "Unusual signal")).toEqual({ category: "spam", unknown: "Spam/Unusual signal" });
    expect(categorize("content_filter", "Attachment").category).toBe("content-filter");
    expect(categorize("content_filter", "Content Filtering").category).toBe("content-filter");
  });
});
