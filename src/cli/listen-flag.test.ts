import { describe, expect, it } from "vitest";
import { UsageError } from "../errors.ts";
import { parseListen } from "./listen-flag.ts";

describe("--listen (cwsync run and cwsync sandbox)", () => {
  it("parses HOST:PORT, bracketed IPv6 and port 0", () => {
    expect(parseListen("127.0.0.1:9464")).toEqual({ host: "127.0.0.1", port: 9464 });
    expect(parseListen("[::1]:9464")).toEqual({ host: "::1", port: 9464 });
    expect(parseListen("localhost:0")).toEqual({ host: "localhost", port: 0 });
    expect(parseListen("0.0.0.0:80")).toEqual({ host: "0.0.0.0", port: 80 });
  });

  it.each([":9464", "9464", "127.0.0.1", "[::1]", "::1:9464", "127.0.0.1:65536", "127.0.0.1:http", "", "host name:1"])(
    "refuses --listen %j as a usage error",
    (text) => {
      let err: unknown;
      try {
        parseListen(text);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(UsageError);
      expect((err as UsageError).code).toBe(64);
      expect((err as Error).message).toContain("127.0.0.1:9464");
    },
  );
});
