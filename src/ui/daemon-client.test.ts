import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createDaemonClient } from "./daemon-client.ts";

let server: Server | undefined;
afterEach(async () => {
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
});

/** A daemon stand-in answering each `METHOD url` with a status and a body. */
async function serve(routes: Record<string, [number, unknown]>): Promise<{ url: string; seen: string[] }> {
  const seen: string[] = [];
  server = createServer((req, res) => {
    req.resume();
    const key = `${req.method} ${req.url}`;
    seen.push(key);
    const [status, body] = routes[key] ?? [404, { error: `no route ${key}` }];
    res.writeHead(status, { "content-type": "application/json" }).end(typeof body === "string" ? body : JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}/`, seen };
}

describe("createDaemonClient", () => {
  it("posts to the customer's routes with its name encoded, and to /api/reconcile for all", async () => {
    const { url, seen } = await serve({
      "POST /api/customers/acme%20corp%2F1/reconcile": [202, { accepted: true }],
      "POST /api/reconcile": [202, { accepted: true }],
      "POST /api/customers/acme%20corp%2F1/send-now?report=hostedEmailSecurity": [200, { ok: true, message: "HES 2026-W01 sent: ticket #9" }],
      "POST /api/customers/acme%20corp%2F1/send-now": [200, { ok: true, message: "2 reports sent" }],
    });
    const client = createDaemonClient(url);
    expect(await client.reconcile("acme corp/1")).toBe("queued; the daemon reconciles shortly");
    expect(await client.reconcile()).toBe("queued; the daemon reconciles shortly");
    expect(await client.sendNow("acme corp/1", "hostedEmailSecurity")).toBe("HES 2026-W01 sent: ticket #9");
    expect(await client.sendNow("acme corp/1")).toBe("2 reports sent");
    expect(seen).toHaveLength(4);
  });

  it("rejects with the daemon's own words when a send is refused (409), and with status and reason otherwise", async () => {
    const { url } = await serve({
      "POST /api/customers/acme/send-now?report=billing": [409, { ok: false, message: "customers/acme.yaml has unsaved changes: commit them first" }],
      "POST /api/customers/acme/reconcile": [503, { accepted: false, error: "the daemon is shutting down" }],
    });
    const client = createDaemonClient(url);
    await expect(client.sendNow("acme", "billing")).rejects.toThrow(/^customers\/acme\.yaml has unsaved changes: commit them first$/);
    await expect(client.reconcile("acme")).rejects.toThrow("POST /api/customers/acme/reconcile answered 503: the daemon is shutting down");
  });

  it("releases held decreases as `by`, rejecting with the daemon's own words when it could not (409)", async () => {
    const { url, seen } = await serve({
      "POST /api/customers/acme/release?by=alice%20b": [200, { ok: true, message: "acme: Hosted Email Security (hes) released: addition #9903 61 → 54 seats (billing 2026-12)" }],
      "POST /api/customers/beta/release?by=alice%20b": [409, { ok: false, message: "beta: the addition #9 on agreement #8 is gone" }],
    });
    const client = createDaemonClient(url);
    expect(await client.release("acme", "alice b")).toBe("acme: Hosted Email Security (hes) released: addition #9903 61 → 54 seats (billing 2026-12)");
    await expect(client.release("beta", "alice b")).rejects.toThrow(/^beta: the addition #9 on agreement #8 is gone$/);
    expect(seen).toHaveLength(2);
  });

  it("sends an Idempotency-Key with each send-now: a new one per call, that is per confirmation", async () => {
    const keys: unknown[] = [];
    server = createServer((req, res) => {
      req.resume();
      keys.push(req.headers["idempotency-key"]);
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ ok: true, message: "billing 2027-01: sent" }));
    });
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
    const client = createDaemonClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    await client.sendNow("acme", "billing");
    await client.sendNow("acme", "billing");
    expect(keys).toEqual([expect.stringMatching(/^[0-9a-f-]{36}$/), expect.stringMatching(/^[0-9a-f-]{36}$/)]);
    expect(keys[0]).not.toBe(keys[1]);
  });

  it("refuses an answer that is not a daemon status", async () => {
    const { url } = await serve({ "GET /api/status": [200, "<html>router login</html>"] });
    await expect(createDaemonClient(url).status()).rejects.toThrow("did not answer with a daemon status (no customers list): is --url a cwsync daemon?");
  });
});
