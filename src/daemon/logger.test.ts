import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { secretsFromEnv } from "../app/settings/secrets-env.ts";
import { createLogger, secretScrubber } from "./logger.ts";

const PRIVATE = "PRIVKEY0987654321";
const TOKEN = "ghp_tokenValue12345";
const PASSWORD = "p@ss:w/rd!42";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "cwsync-logger-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function logTo(secrets: readonly string[] = [PRIVATE, TOKEN, PASSWORD], level?: string) {
  const file = join(dir, "logs", "cwsync.log");
  const log = createLogger({ destination: { file }, secrets, level });
  const read = () => readFileSync(file, "utf8");
  const entries = () => read().split("\n").filter(Boolean).map((l) => JSON.parse(l) as Record<string, any>);
  return { log, read, entries };
}

describe("createLogger", () => {
  it("writes one JSON object per line to a file destination, creating its folder", () => {
    const { log, read, entries } = logTo();
    log.info({ customer: "acme-corp", period: "2027-01" }, "report sent");
    log.warn({ customer: "beta" }, "company missing");
    log.debug({ customer: "gamma" }, "below the level");
    const text = read();
    expect(text.endsWith("\n")).toBe(true);
    expect(entries()).toMatchObject([
      { level: 30, msg: "report sent", customer: "acme-corp", period: "2027-01" },
      { level: 40, msg: "company missing", customer: "beta" },
    ]);
  });

  it("honours the level", () => {
    const { log, entries } = logTo(undefined, "debug");
    log.debug({ customer: "gamma" }, "reconcile started");
    expect(entries()).toMatchObject([{ level: 20, msg: "reconcile started" }]);
  });

  it("scrubs secret values from fields, nested objects, error messages, URLs and child bindings", () => {
    const { log, read, entries } = logTo();
    log.info({ detail: `key is ${PRIVATE}` }, "field");
    log.info({ request: { attempt: 1, params: { note: [`a ${TOKEN} b`] } } }, "nested");
    log.error({ err: new Error(`ConnectWise refused ${PRIVATE}`) }, "error");
    log.info({ remote: `https://x-access-token:${TOKEN}@github.com/msp/customers.git` }, "url");
    log.info({ remote: `https://u:${encodeURIComponent(PASSWORD)}@host/` }, "encoded url");
    log.child({ source: `token=${TOKEN}` }).info("child");
    const text = read();
    expect(text).not.toContain(PRIVATE);
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain(encodeURIComponent(PASSWORD));
    const [field, nested, error, url, encoded, child] = entries();
    expect(field.detail).toBe("key is [redacted]");
    expect(nested.request).toEqual({ attempt: 1, params: { note: ["a [redacted] b"] } });
    expect(error.err.message).toBe("ConnectWise refused [redacted]");
    expect(error.err.stack).toContain("ConnectWise refused [redacted]");
    expect(url.remote).toBe("https://x-access-token:[redacted]@github.com/msp/customers.git");
    expect(encoded.remote).toBe("https://u:[redacted]@host/");
    expect(child.source).toBe("token=[redacted]");
  });

  it("redacts secret-named keys, top level and nested, and auth headers", () => {
    const { log, entries } = logTo([]);
    log.info(
      {
        password: "hunter2", apiKey: "k1", cw: { privateKey: "k2", publicKey: "k3" }, lmpi: { auth: { token: "k4" } },
        headers: { authorization: "Basic abc", cookie: "sid=1", accept: "application/json" },
        req: { headers: { authorization: "Bearer x", "x-hub-signature-256": "sha256=aa" } },
      },
      "keys",
    );
    const [e] = entries();
    expect(e).toMatchObject({
      password: "[redacted]", apiKey: "[redacted]", cw: { privateKey: "[redacted]", publicKey: "[redacted]" },
      lmpi: { auth: { token: "[redacted]" } },
      headers: { authorization: "[redacted]", cookie: "[redacted]", accept: "application/json" },
      req: { headers: { authorization: "[redacted]", "x-hub-signature-256": "[redacted]" } },
    });
  });

  it("ignores secret values shorter than 4 characters", () => {
    const { log, entries } = logTo(["abc", ""]);
    log.info({ word: "abcdef" }, "short");
    expect(entries()[0].word).toBe("abcdef");
  });
});

describe("secretScrubber", () => {
  it("keeps the line valid JSON whatever characters the secret has", () => {
    const secret = 'pa"ss\\word{1}';
    const line = JSON.stringify({ level: 30, time: 1712341234567, msg: "m", v: `x${secret}y`, [secret]: 1 }) + "\n";
    const out = secretScrubber([secret])(line);
    expect(out.endsWith("\n")).toBe(true);
    expect(JSON.parse(out)).toEqual({ level: 30, time: 1712341234567, msg: "m", v: "x[redacted]y", "[redacted]": 1 });
  });

  it("replaces the longer of two overlapping secrets whole", () => {
    const out = secretScrubber(["abcd", "abcdefgh"])(JSON.stringify({ v: "abcdefgh" }));
    expect(JSON.parse(out).v).toBe("[redacted]");
  });
});

describe("secretsFromEnv", () => {
  it("collects the secret variables and the Basic credentials built from them", () => {
    const env = {
      CW_COMPANY: " msp ", CW_PUBLIC_KEY: "PUBKEY1234567890", CW_PRIVATE_KEY: `${PRIVATE}\n`, CW_URL: "https://cw.example/apis/3.0",
      LMPI_ACCESS_TOKEN: "lmpi-access", LMPI_SECRET_KEY: "lmpi-secret", TMES_ACCOUNT: "admin", TMES_API_KEY: "tmes-key-1",
      HES_API_KEY: "hes-key-1", CWSYNC_WEBHOOK_SECRET: "whsec-1", CWSYNC_API_TOKEN: "api-token-1", CWSYNC_STATE_DIR: ".cwsync",
    };
    const secrets = secretsFromEnv(env);
    expect(secrets).toEqual(expect.arrayContaining([
      "PUBKEY1234567890", PRIVATE, "lmpi-access", "lmpi-secret", "tmes-key-1", "hes-key-1", "whsec-1", "api-token-1",
      Buffer.from(`msp+PUBKEY1234567890:${PRIVATE}`).toString("base64"),
      Buffer.from("admin:tmes-key-1").toString("base64"),
    ]));
    expect(secrets).toHaveLength(10);
    expect(secrets).not.toContain("msp");
    expect(secrets).not.toContain("https://cw.example/apis/3.0");
  });

  it("returns nothing for an empty environment", () => {
    expect(secretsFromEnv({ CW_PRIVATE_KEY: "  ", PATH: "/usr/bin" })).toEqual([]);
  });
});
