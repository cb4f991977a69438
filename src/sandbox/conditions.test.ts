import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConditionSyntaxError, MALFORMED_CONDITION, parseConditions } from "./condition-parser.ts";
import { startConnectWiseSandbox, type ConnectWiseSandbox } from "./connectwise-sandbox.ts";
import { sandboxRequest } from "./sandbox-request.ts";
import { SeedBuilder } from "./seed-builder.ts";

describe("conditions parser", () => {
  it("builds the tree: and binds tighter than or, parentheses override, keywords in any case", () => {
    expect(parseConditions('a = 1 OR b = "x" And c != null')).toEqual({
      kind: "or",
      left: { kind: "compare", field: "a", op: "=", value: { kind: "number", value: 1 } },
      right: {
        kind: "and",
        left: { kind: "compare", field: "b", op: "=", value: { kind: "string", value: "x" } },
        right: { kind: "compare", field: "c", op: "!=", value: { kind: "null" } },
      },
    });
    expect(parseConditions("(a = 1 or a = 2) and b = TRUE")).toMatchObject({ kind: "and", left: { kind: "or" }, right: { value: { kind: "boolean", value: true } } });
    expect(parseConditions("company/id not in (1, -2.5)")).toEqual({
      kind: "in", field: "company/id", negated: true, values: [{ kind: "number", value: 1 }, { kind: "number", value: -2.5 }],
    });
    expect(parseConditions("summary NOT Contains 'Low'")).toMatchObject({ kind: "match", op: "contains", negated: true, value: { value: "Low" } });
    expect(parseConditions("lastUpdated >= [2025-06-01T00:00:00Z]")).toMatchObject({ value: { kind: "datetime", value: Date.UTC(2025, 5, 1) } });
    expect(parseConditions('identifier="A"and id<=3')).toMatchObject({ kind: "and" });
  });

  it.each([
    ['identifier = "abc', "unterminated string"],
    ["identifier = 'abc", "unterminated single-quoted string"],
    ["identifier = abc", "bare word as value"],
    ["identifier =", "dangling operator"],
    ['identifier = "a" and', "dangling and"],
    ['identifier ~ "a"', "bad token"],
    ["id in ()", "empty list"],
    ["id in 1", "list without parentheses"],
    ["(id = 1", "unclosed parenthesis"],
    ["id = 1 2", "trailing value"],
    ["lastUpdated > [yesterday]", "bad datetime"],
    ["id = 12abc", "digits and letters"],
    ['name not = "x"', "not before a comparison"],
    ["", "empty"],
  ])("refuses %j (%s)", (text) => {
    expect(() => parseConditions(text)).toThrow(ConditionSyntaxError);
  });
});

describe("conditions over HTTP", () => {
  let sb: ConnectWiseSandbox;
  beforeAll(async () => {
    const b = new SeedBuilder();
    b.company("AcmeCorp", "Acme Corporation"); // 250
    b.company("AcmeCorpUK", "Acme Corporation UK"); // 251
    b.company("Globex", "Globex [EU]", { inactive: true }); // 252
    b.company("Initech", "Initech 100% Ltd", { deleted: true }); // 253
    b.company("0042", "Northwind Logistics"); // 254
    const seed = b.build();
    seed.companies![4]._info = { lastUpdated: "2025-06-15T12:00:00Z", updatedBy: "someone" };
    sb = await startConnectWiseSandbox({ seed });
  });
  afterAll(() => sb.close());

  async function find(conditions: string): Promise<number[]> {
    const r = await sandboxRequest(sb, "GET", "/company/companies", { query: { conditions, fields: "id" } });
    expect(r.status, `${conditions}: ${r.text}`).toBe(200);
    return (r.json as { id: number }[]).map((c) => c.id);
  }

  it.each([
    ['identifier = "acmecorp"', [250]],
    ['identifier = "AcmeCorp  "', [250]],
    ['identifier != "AcmeCorp"', [251, 252, 253, 254]],
    ["id < 252", [250, 251]],
    ["id <= 252", [250, 251, 252]],
    ["id > 252", [253, 254]],
    ["id >= 252", [252, 253, 254]],
    ['id = "251"', [251]],
    // SQL Server converts the string column to the number's type: an unquoted 42 finds "0042"
    ["identifier = 42", [254]],
    ['identifier = "0042"', [254]],
    ['name contains "corporation"', [250, 251]],
    ['name not contains "Corp"', [252, 253, 254]],
    ['name like "acme*"', [250, 251]],
    ['name like "%uk"', [251]],
    ['name like "acme corporation"', [250]],
    ['name not like "A%"', [252, 253, 254]],
    ['name like "Acme Corporation __"', [251]],
    ['identifier in ("ACMECORP", \'globex\')', [250, 252]],
    ["id in (250,254)", [250, 254]],
    ["id not in (250, 251)", [252, 253, 254]],
    ["deletedFlag = true", [253]],
    ["deletedFlag = False", [250, 251, 252, 254]],
    ['status/name = "inactive"', [252]],
    ["status/id = 1 and deletedFlag = false", [250, 251, 254]],
    ['(identifier = "AcmeCorp" OR identifier = "Globex") AND status/name = "Active"', [250]],
    ['identifier = "AcmeCorp" or identifier = "Globex" and status/name = "Active"', [250]],
    ["lastUpdated > [2025-06-01T00:00:00Z]", [254]],
    ["lastUpdated < [2025-06-01]", [250, 251, 252, 253]],
    ["name = null", []],
    ["name != null", [250, 251, 252, 253, 254]],
  ])("%s", async (conditions, expected) => {
    expect(await find(conditions)).toEqual(expected);
  });

  it("contains is SQL LIKE: `[` opens a character class, `%` is a wildcard (why send keys avoid them)", async () => {
    // "[EU]" is "one of E or U": every name holding an e or a u matches, not just Globex
    expect(await find('name contains "[EU]"')).toEqual([250, 251, 252, 253]);
    expect(await find('name contains "[[]EU]"')).toEqual([252]);
    expect(await find('name contains "100%"')).toEqual([253]);
    expect(await find('name contains "[EU"')).toEqual([]);
  });

  it("an unknown field is 400 ApiFindCondition naming it", async () => {
    const r = await sandboxRequest(sb, "GET", "/company/companies", { query: { conditions: 'identifier = "x" and colour = "red"' } });
    expect(r.status).toBe(400);
    expect(r.json).toEqual({ code: "ApiFindCondition", message: "colour is not a recognized name." });
    const agreements = await sandboxRequest(sb, "GET", "/finance/agreements", { query: { conditions: 'summary contains "x"' } });
    expect(agreements.json).toEqual({ code: "ApiFindCondition", message: "summary is not a recognized name." });
  });

  it("a malformed condition is 400 with ConnectWise's one message", async () => {
    for (const conditions of ['identifier = "abc', "identifier = abc", "identifier =", 'identifier ~ "a"']) {
      const r = await sandboxRequest(sb, "GET", "/company/companies", { query: { conditions } });
      expect(r.status).toBe(400);
      expect(r.json).toEqual({ code: "ApiFindCondition", message: MALFORMED_CONDITION });
    }
  });

  it("each endpoint has its own allow-list", async () => {
    const allowed: [string, string][] = [
      ["/finance/agreements", 'company/id = 1 and company/identifier = "a" and type/name = "b" and type/id = 1 and agreementStatus = "Active" and cancelledFlag = false and name = "c" and id = 1'],
      ["/finance/agreements/types", 'id = 1 and name = "x"'],
      ["/procurement/catalog", 'id = 1 and identifier = "x" and inactiveFlag = false'],
      ["/service/tickets", 'id = 1 and summary contains "x" and company/id = 1 and board/name = "x" and board/id = 1 and closedFlag = false'],
    ];
    for (const [path, conditions] of allowed) {
      const r = await sandboxRequest(sb, "GET", path, { query: { conditions } });
      expect(r.status, `${path}: ${r.text}`).toBe(200);
    }
    expect((await sandboxRequest(sb, "GET", "/procurement/catalog", { query: { conditions: "deletedFlag = false" } })).status).toBe(400);
  });
});
