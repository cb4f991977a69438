import { execFileSync } from "node:child_process";
import { createHmac } from "node:crypto";
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it, onTestFinished } from "vitest";
import { openStateStore } from "../src/adapters/state-sqlite/open-state-store.ts";
import type { LedgerEntry } from "../src/ports/state-store.ts";
import { redactCredentials, splitCredentials } from "../src/adapters/git-credentials.ts";
import { startDaemon as startDaemonIn, type Daemon } from "./helpers/daemon.ts";
import { reconcileWorld, type ReconcileWorld } from "./helpers/reconcile-world.ts";
import { runCli } from "./helpers/run-cli.ts";
import { waitFor } from "./helpers/wait-for.ts";

// The daemon as a user runs it: `cwsync run --no-tui` as its own process, following a real git
// origin (a bare repository a working clone pushes to), against the fakes of reconcile-world.

/** The first reconcile: every customer's history starts here. */
const BEFORE = "2026-11-30T12:00:00Z";
/** The 1st after 06:00 UTC: December billing of the customers on the global schedule is due. */
const DUE = "2026-12-01T07:00:00Z";
const TIMEOUT = 60_000;

interface Origin {
  dir: string;
  url: string;
  push(): void;
}

/** A bare repository cloned from the world's working repository, which pushes to it. */
function origin(w: ReconcileWorld): Origin {
  const parent = mkdtempSync(join(tmpdir(), "cwsync-origin-"));
  onTestFinished(() => rmSync(parent, { recursive: true, force: true }));
  const dir = join(parent, "customers.git");
  execFileSync("git", ["clone", "-q", "--bare", w.repo.dir, dir], { env: { ...process.env, GIT_CONFIG_NOSYSTEM: "1" } });
  w.repo.git("remote", "add", "origin", dir);
  return { dir, url: pathToFileURL(dir).href, push: () => void w.repo.git("push", "-q", "origin", "HEAD:main") };
}

/** A change a user would commit: one more line in a customer file. */
function touch(w: ReconcileWorld, name: string, line = "# reviewed"): string {
  const file = join("customers", `${name}.yaml`);
  w.repo.write(file, `${readFileSync(join(w.repo.dir, file), "utf8")}${line}\n`);
  return w.repo.commit(`${name}: ${line}`);
}

/** The daemon in the world's repository, with the world's environment (and `env` over it). */
const startDaemon = (w: ReconcileWorld, args: string[], env: Record<string, string> = {}): Promise<Daemon> => startDaemonIn(w.repo.dir, { ...w.env, ...env }, args);


const applied = (d: Daemon, revision: string) =>
  waitFor(`revision ${revision.slice(0, 12)} applied`, async () => {
    const s = await d.status();
    return s.repo.applied === revision && s.lastReconcile?.ok ? s : undefined;
  });

const signedCommit = (w: ReconcileWorld, key: string, message: string) => {
  w.repo.git("add", "-A");
  w.repo.git("-c", "gpg.format=ssh", "-c", `user.signingkey=${key}`, "commit", "-q", "-S", "--allow-empty", "-m", message);
  return w.repo.git("rev-parse", "HEAD").trim();
};

const hasSshKeygen = (() => {
  try {
    execFileSync("ssh-keygen", ["-?"], { stdio: "ignore" });
    return true;
  } catch (e) {
    // `-?` is a usage error (exit 1) when ssh-keygen exists; ENOENT when it does not
    return (e as { code?: string }).code !== "ENOENT";
  }
})();

describe("cwsync run (the daemon)", () => {
  it("applies a pushed commit within one interval, and a second daemon on the same state exits naming the holder", { timeout: TIMEOUT }, async () => {
    const w = await reconcileWorld();
    const o = origin(w);
    const seed = w.repo.git("rev-parse", "HEAD").trim();
    // debug: each cycle's "reconcile finished" line shows which cycle brought the push in
    const d = await startDaemon(w, ["--repo", o.url, "--interval", "1s"], { CWSYNC_LOG_LEVEL: "debug" });
    await applied(d, seed);

    const second = await startDaemon(w, ["--repo", o.url]).then(() => "started", (e: Error) => e.message);
    expect(second).toMatch(/exited with 1:[\s\S]*another cwsync is writing to the state/);

    const next = touch(w, "acme-corp");
    const pushedAt = d.logs().length;
    o.push();
    await waitFor("acme-corp on the new commit", async () => (await d.customer("acme-corp")).appliedRevision === next, 30_000);
    expect(d.logs().filter((l) => l.msg === "new revision").map((l) => l.revision)).toEqual([seed, next]);
    // within one interval: the next cycle's sync brings it in (at most the cycle under way at the
    // push ends first), with no webhook and no restart
    const sincePush = d.logs().slice(pushedAt);
    const seen = sincePush.findIndex((l) => l.msg === "new revision" && l.revision === next);
    expect(seen).toBeGreaterThanOrEqual(0);
    expect(sincePush.slice(0, seen).filter((l) => l.msg === "reconcile finished").length).toBeLessThanOrEqual(1);
    expect((await fetch(`${d.url}/readyz`)).status).toBe(200);
    const metrics = await (await fetch(`${d.url}/metrics`)).text();
    expect(metrics).toMatch(/^cwsync_connectwise_requests_total\{status="2xx"\} [1-9]\d*$/m);
    expect(metrics).toMatch(/^cwsync_customers\{state="ready"\} [1-9]\d*$/m);

    // a broken checkout (its .git deleted, then its config garbled) is cloned again
    const checkout = join(w.stateDir, "repo");
    rmSync(join(checkout, ".git"), { recursive: true, force: true });
    const third = touch(w, "acme-corp", "# third");
    o.push();
    await applied(d, third);
    writeFileSync(join(checkout, ".git", "config"), "[[[ not a git config\n");
    const fourth = touch(w, "acme-corp", "# fourth");
    o.push();
    await applied(d, fourth);
    expect(readFileSync(join(checkout, "customers", "acme-corp.yaml"), "utf8")).toContain("# fourth");

    d.child.kill("SIGTERM");
    expect(await d.exited).toBe(0);
  });

  it("reconciles at once on a signed GitHub push webhook, with a long interval", { timeout: TIMEOUT }, async () => {
    const w = await reconcileWorld();
    const o = origin(w);
    const secret = "webhook-secret-for-tests";
    const d = await startDaemon(w, ["--repo", o.url, "--interval", "1h"], { CWSYNC_WEBHOOK_SECRET: secret });
    await applied(d, w.repo.git("rev-parse", "HEAD").trim());

    const next = touch(w, "bluewater-dental");
    o.push();
    const body = JSON.stringify({ ref: "refs/heads/main", after: next });
    const hook = (signature: string) => fetch(`${d.url}/hooks/github`, {
      method: "POST", body, headers: { "content-type": "application/json", "x-github-event": "push", "x-hub-signature-256": signature },
    });
    expect((await hook("sha256=" + "0".repeat(64))).status).toBe(401);
    const res = await hook("sha256=" + createHmac("sha256", secret).update(body).digest("hex"));
    expect(res.status).toBe(202);
    const s = await applied(d, next);
    expect(s.lastReconcile?.reason).toBe("revision");

    // send-now over the API: the CLI's code path, under the daemon's lease
    const sent = await fetch(`${d.url}/api/customers/bluewater-dental/send-now?report=billing`, { method: "POST" });
    const answer = (await sent.json()) as { ok: boolean; message: string };
    expect(answer.message).toMatch(/^billing \d{4}-\d{2}: sent, ticket #\d+ \(key cws-[0-9a-f]{10}\)$/);
    expect(sent.status).toBe(200);
    expect(w.cw.state.tickets.map((t) => t.summary)).toEqual([expect.stringMatching(/^Billing \(send now\) \d{4}-\d{2} Bluewater Dental Group cws-/)]);
    // the secret never reaches the log
    expect(JSON.stringify(d.logs())).not.toContain(secret);
    d.child.kill("SIGTERM");
    expect(await d.exited).toBe(0);
  });

  it("keeps a customer whose new file is invalid on its last valid config: shown invalid at file:line:col, still billed when due", { timeout: TIMEOUT }, async () => {
    const w = await reconcileWorld();
    expect((await w.run("reconcile", "--at", BEFORE)).code).toBe(0);
    const good = w.repo.git("rev-parse", "HEAD").trim();
    const bad = touch(w, "bluewater-dental", "colour: blue");
    const o = origin(w);
    w.clock.now = Date.parse(DUE);
    const d = await startDaemon(w, ["--repo", o.url, "--interval", "1h", "--at", DUE]);

    const view = await waitFor("bluewater-dental billed", async () => {
      const v = await d.customer("bluewater-dental");
      return v.lastSend?.report === "billing" ? v : undefined;
    });
    expect(view.status.state).toBe("invalid");
    expect(view.status.location).toMatch(/^customers\/bluewater-dental\.yaml:\d+:\d+$/);
    expect(view.appliedRevision).toBe(good);
    expect(view.attemptedRevision).toBe(bad);
    expect(view.lastSend).toMatchObject({ report: "billing", periodKey: "2026-12" });
    expect(w.cw.state.tickets.filter((t) => t.summary.startsWith("Billing 2026-12 Bluewater Dental Group")).length).toBe(1);
    expect((await d.status()).repo.applied).toBe(bad);
    const alerts = d.logs().filter((l) => l.msg === "customer needs attention");
    expect(alerts).toEqual([expect.objectContaining({ customer: "bluewater-dental", to: "invalid" }), ...alerts.slice(1)]);
    d.child.kill("SIGTERM");
    expect(await d.exited).toBe(0);
  });

  it("keeps running the last revision while the remote is gone, shows the sync error, and recovers when it returns", { timeout: TIMEOUT }, async () => {
    const w = await reconcileWorld();
    const o = origin(w);
    const seed = w.repo.git("rev-parse", "HEAD").trim();
    const d = await startDaemon(w, ["--repo", o.url, "--interval", "1s"]);
    await applied(d, seed);

    renameSync(o.dir, `${o.dir}.away`);
    const failing = await waitFor("a sync error", async () => {
      const s = await d.status();
      return s.repo.syncError ? s : undefined;
    });
    expect(failing.repo.syncError).toContain("customers.git");
    expect(failing.repo.applied).toBe(seed);
    expect((await fetch(`${d.url}/healthz`)).status).toBe(200);
    // reconciles go on with the last revision
    const before = failing.lastReconcile!.at;
    await waitFor("a reconcile while the remote is gone", async () => {
      const s = await d.status();
      return s.lastReconcile!.at > before && s.lastReconcile!.ok;
    });

    renameSync(`${o.dir}.away`, o.dir);
    const next = touch(w, "northwind-logistics");
    o.push();
    const back = await applied(d, next);
    expect(back.repo.syncError).toBeUndefined();
    const git = d.logs().filter((l) => l.msg.startsWith("git sync"));
    // one alert when it broke, one when it recovered: not one per failed attempt
    expect(git.map((l) => l.msg)).toEqual(["git sync failing", "git sync recovered"]);
    expect(d.child.exitCode).toBeNull();
    d.child.kill("SIGTERM");
    expect(await d.exited).toBe(0);
  });

  it.skipIf(!hasSshKeygen)("with --require-signed, refuses a head not signed by an allowed signer and keeps the last signed one (needs ssh-keygen)", { timeout: TIMEOUT }, async () => {
    const w = await reconcileWorld();
    const keys = mkdtempSync(join(tmpdir(), "cwsync-keys-"));
    onTestFinished(() => rmSync(keys, { recursive: true, force: true }));
    for (const k of ["trusted", "stranger"]) execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", k, "-f", join(keys, k)]);
    const allowed = join(keys, "allowed_signers");
    writeFileSync(allowed, `release@cwsync.invalid namespaces="git" ${readFileSync(join(keys, "trusted.pub"), "utf8")}`);
    const signed = signedCommit(w, join(keys, "trusted"), "signed seed");
    const o = origin(w);
    const d = await startDaemon(w, ["--repo", o.url, "--interval", "1s", "--require-signed", allowed]);
    await applied(d, signed);

    const unsigned = touch(w, "acme-corp");
    o.push();
    const refused = await waitFor("the unsigned head refused", async () => {
      const s = await d.status();
      return s.repo.refused?.revision === unsigned ? s : undefined;
    });
    expect(refused.repo.refused!.reason).toBe(`commit ${unsigned.slice(0, 12)} is not signed`);
    expect(refused.repo.applied).toBe(signed);
    expect((await d.customer("acme-corp")).appliedRevision).toBe(signed);

    touch(w, "acme-corp", "# by someone else");
    const foreign = signedCommit(w, join(keys, "stranger"), "signed by a key nobody allowed");
    o.push();
    const untrusted = await waitFor("the foreign signature refused", async () => {
      const s = await d.status();
      return s.repo.refused?.revision === foreign ? s : undefined;
    });
    expect(untrusted.repo.refused!.reason).toContain(`commit ${foreign.slice(0, 12)} is not signed by an allowed signer`);
    expect(untrusted.repo.applied).toBe(signed);

    const release = signedCommit(w, join(keys, "trusted"), "release");
    o.push();
    const ok = await applied(d, release);
    expect(ok.repo.refused).toBeUndefined();
    expect((await d.customer("acme-corp")).appliedRevision).toBe(release);
    expect(d.logs().filter((l) => l.msg === "revision refused").map((l) => l.revision)).toEqual([unsigned, foreign]);
    d.child.kill("SIGTERM");
    expect(await d.exited).toBe(0);
  });

  it("on SIGTERM during a send: exits 0, and the next run sends nothing twice and loses nothing", { timeout: TIMEOUT }, async () => {
    const w = await reconcileWorld();
    expect((await w.run("reconcile", "--at", BEFORE)).code).toBe(0);
    w.clock.now = Date.parse(DUE);
    w.cw.faults.latencyMs = 300;
    // a local repository: cloned into the state directory, the working copy left alone
    const d = await startDaemon(w, ["--repo", ".", "--interval", "1h", "--at", DUE]);
    await waitFor("a write in flight", () => w.writes().length > 0, 30_000);
    d.child.kill("SIGTERM");
    expect(await d.exited).toBe(0);
    expect(d.logs().map((l) => l.msg)).toContain("daemon stopped");
    // the stop came mid-send: entries left open, for the next run to resolve by looking
    const interrupted = ledger(w).filter((e) => e.state === "open").map((e) => e.key);
    expect(interrupted.length).toBeGreaterThan(0);

    w.cw.faults.latencyMs = 0;
    expect((await w.run("reconcile", "--at", DUE)).code).toBe(0);
    // a suspended customer's period is recorded skipped, never sent
    const entries = ledger(w).filter((e) => e.state !== "skipped");
    expect(entries.filter((e) => e.state !== "done").map((e) => `${e.key} ${e.state}`)).toEqual([]);
    expect(entries.map((e) => e.key)).toEqual(expect.arrayContaining(interrupted));
    // one ticket per send: none twice (the ticket of an interrupted send is found by its key), none lost
    const twice = entries.filter((e) => w.cw.state.tickets.filter((t) => t.summary.endsWith(` ${e.key}`)).length > 1).map((e) => e.key);
    const trail = w.cw.requests.filter((r) => twice.some((k) => JSON.stringify(r).includes(k.slice(4))))
      .map((r) => `${new Date(r.at).toISOString()} ${r.method} ${r.path} ${JSON.stringify(r.query)} → ${r.status}`);
    expect(trail, "requests about a key ticketed twice").toEqual([]);
    expect(entries.map((e) => `${e.key} ${w.cw.state.tickets.filter((t) => t.summary.endsWith(` ${e.key}`)).length}`)).toEqual(entries.map((e) => `${e.key} 1`));
    expect(w.cw.state.tickets.length).toBe(entries.length);
    const writes = w.writes().length;
    expect((await w.run("reconcile", "--at", DUE)).code).toBe(0);
    expect(w.writes().length).toBe(writes);
  });
});

describe("cwsync run between revisions: each cycle looks only at customers with something to do", () => {
  /** Three seconds before the December billing of the customers on the global schedule falls due. */
  const JUST_BEFORE = "2026-12-01T05:59:57Z";
  const cycles = (d: Daemon) => d.logs().filter((l) => l.msg === "reconcile finished") as unknown as { verified: string; customers: number | "all"; scope?: string[]; reason: string; actions: number }[];

  it("sends what falls due while it runs exactly once, sees ConnectWise changes and deletions, and reconciles one customer on request", { timeout: TIMEOUT }, async () => {
    const w = await reconcileWorld();
    expect((await w.run("reconcile", "--at", BEFORE)).code).toBe(0);
    w.clock.now = Date.parse("2026-12-01T06:05:00Z");
    const d = await startDaemon(w, ["--repo", ".", "--interval", "1s", "--at", JUST_BEFORE], {
      CWSYNC_LOG_LEVEL: "debug",
      // every customer verified in full every 5 cycles (default 60): the deletion below shows within seconds
      CWSYNC_FULL_VERIFY_INTERVALS: "5",
    });
    await waitFor("the first, whole cycle", () => cycles(d).find((c) => c.verified === "whole"));
    const early = d.logs().filter((l) => l.msg === "report sent").length;

    // the billing day arrives between revisions: a cycle of just the customers due sends it
    await waitFor("December billing sent", () => d.logs().filter((l) => l.msg === "report sent").slice(early).some((l) => l.report === "billing" && l.period === "2026-12"), 20_000);
    await waitFor("two idle cycles after the sends", () => cycles(d).slice(-2).every((c) => c.customers === 0 && c.actions === 0) && cycles(d).length > 4);
    const sending = cycles(d).filter((c) => c.verified !== "whole" && c.actions > 0);
    expect(sending.length).toBeGreaterThan(0);
    expect(sending.every((c) => typeof c.customers === "number" && c.customers < 8)).toBe(true);
    const sent = d.logs().filter((l) => l.msg === "report sent").map((l) => l.key as string);
    expect(new Set(sent).size).toBe(sent.length);
    expect(w.cw.state.tickets.map((t) => t.summary.slice(-14)).sort()).toEqual([...sent].sort());

    // ConnectWise deactivates Acme's company: "changed since" finds it within a cycle or two
    const acme = w.cw.state.companies.find((c) => c.identifier === "AcmeCorp")!;
    acme.status = { id: 2, name: "Inactive" };
    acme._info = { lastUpdated: new Date().toISOString().slice(0, 19) + "Z", updatedBy: "someone" };
    await waitFor("acme shown inactive", async () => (await d.customer("acme-corp")).company?.state === "inactive");
    // Sakura's company is deleted outright (no lastUpdated to find): the rolling full verification sees it
    w.cw.state.companies = w.cw.state.companies.filter((c) => c.identifier !== "SakuraTrading");
    await waitFor("sakura's company not found", async () => (await d.customer("sakura-trading")).company?.state === "not-found", 25_000);
    expect(cycles(d).filter((c) => c.verified === "whole")).toHaveLength(1);

    // one customer on request: only that customer is observed and planned
    const before = cycles(d).length;
    expect((await fetch(`${d.url}/api/customers/bluewater-dental/reconcile`, { method: "POST" })).status).toBe(202);
    const asked = await waitFor("the requested cycle", () => cycles(d).slice(before).find((c) => c.reason === "api:bluewater-dental"));
    // with it, only customers every cycle looks at: a due send that waits (e.g. an ambiguous agreement) is retried each time
    const waiting = cycles(d).slice(before - 3, before).map((c) => c.scope ?? []);
    expect(asked.scope).toContain("bluewater-dental");
    expect(asked.scope!.filter((n) => n !== "bluewater-dental" && !waiting.every((w) => w.includes(n)))).toEqual([]);
    expect(asked.verified).not.toBe("whole");

    d.child.kill("SIGTERM");
    expect(await d.exited).toBe(0);
    // what a whole reconcile would do at that moment is done: it writes nothing more
    const writes = w.writes().length;
    expect((await w.run("reconcile", "--at", "2026-12-01T06:01:00Z")).code).not.toBe(2);
    expect(w.writes().slice(writes).map((r) => `${r.method} ${r.path}`)).toEqual([]);
  });
});

/** Every ledger entry of every customer. */
function ledger(w: ReconcileWorld): LedgerEntry[] {
  const store = openStateStore(w.stateDir);
  try {
    return store.customers().flatMap((c) => store.ledgerOf(c.name, 1000));
  } finally {
    store.close();
  }
}

describe("git credentials", () => {
  it("takes a password out of an https URL (sent as a header scoped to the origin) and redacts user:pass@ anywhere", () => {
    const s = splitCredentials("https://bot:s3cr3t-token@git.example.com/acme/customers.git");
    expect(s.url).toBe("https://git.example.com/acme/customers.git");
    expect(s.header).toEqual({ scope: "https://git.example.com/", value: `Authorization: Basic ${Buffer.from("bot:s3cr3t-token").toString("base64")}` });
    expect(s.secrets).toContain("s3cr3t-token");
    expect(redactCredentials("fatal: unable to access 'https://bot:s3cr3t-token@git.example.com/x.git/': 403 (token s3cr3t-token)", s.secrets))
      .toBe("fatal: unable to access 'https://***@git.example.com/x.git/': 403 (token ***)");
    expect(() => splitCredentials("ssh://git:hunter22@git.example.com/x.git")).toThrow(/no password in a ssh URL/);
  });
});

describe("beside a running daemon: send-now and reconcile ask it with --url", () => {
  const head = (w: ReconcileWorld) => w.repo.git("rev-parse", "HEAD").trim();
  const sentNow = (w: ReconcileWorld) => w.cw.state.tickets.filter((t) => t.summary.startsWith("Billing (send now)")).map((t) => t.summary);

  it("without --url the lease error names the daemon's address and the flag; with it, one idempotency key makes one ticket", { timeout: TIMEOUT }, async () => {
    const w = await reconcileWorld();
    const d = await startDaemon(w, ["--repo", ".", "--interval", "1h"]);
    await applied(d, head(w));

    const held = `cwsync: the state in ${w.stateDir} is held by cwsync run (pid ${d.child.pid} on host ${hostname()}, listening on ${d.url}): pass --url ${d.url} (or set CWSYNC_URL) to ask it\n`;
    for (const argv of [["send-now", "bluewater-dental", "billing"], ["reconcile"]]) {
      const r = await w.run(...argv);
      expect(r.stderr, argv[0]).toBe(held);
      expect(r.code).toBe(1);
    }

    const once = ["send-now", "bluewater-dental", "billing", "--url", d.url, "--idempotency-key", "retry-me-1"];
    const first = await w.run(...once);
    expect(first.stderr).toBe("");
    expect(first.stdout).toMatch(/^billing \d{4}-\d{2}: sent, ticket #\d+ \(key cws-[0-9a-f]{10}\)\n$/);
    expect(first.code).toBe(0);
    // the same invocation again (a script retrying): the first one's answer, no second ticket
    expect(await w.run(...once)).toEqual(first);
    expect(sentNow(w)).toHaveLength(1);

    // ten requests at once with one key: one send, ten identical answers
    const answers = await Promise.all(Array.from({ length: 10 }, () =>
      fetch(`${d.url}/api/customers/bluewater-dental/send-now?report=billing`, { method: "POST", headers: { "idempotency-key": "ten-at-once" } })));
    const bodies = await Promise.all(answers.map((a) => a.text()));
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
    expect(new Set(bodies).size).toBe(1);
    expect(answers.filter((a) => a.headers.get("idempotent-replayed") === "true")).toHaveLength(9);
    expect(sentNow(w)).toHaveLength(2);

    // CWSYNC_URL instead of the flag, a key of its own; --format json: one object, only JSON on stdout
    const json = await runCli(["send-now", "bluewater-dental", "billing", "--format", "json"], { cwd: w.repo.dir, env: { ...w.env, CWSYNC_URL: d.url } });
    expect(json.stderr).toBe("");
    expect(json.code).toBe(0);
    const result = JSON.parse(json.stdout) as { sends: { ticketId: number; key: string }[] };
    expect(result).toEqual({
      customer: "bluewater-dental", ok: true, at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/), revision: head(w),
      sends: [{ report: "billing", periodKey: expect.stringMatching(/^\d{4}-\d{2}$/), result: "sent", ticketId: expect.any(Number), key: expect.stringMatching(/^cws-[0-9a-f]{10}$/) }],
    });
    expect(w.cw.state.tickets.find((t) => t.id === result.sends[0].ticketId)?.summary).toMatch(new RegExp(`^Billing \\(send now\\) .* ${result.sends[0].key}$`));
    expect(sentNow(w)).toHaveLength(3);

    // what only a local run can do is refused, naming the flag
    const at = await w.run("send-now", "bluewater-dental", "--url", d.url, "--at", "2026-12-01T07:00:00Z");
    expect(at.code).toBe(64);
    expect(at.stderr).toMatch(/^cwsync: --at cannot be sent to the daemon/);
    expect(sentNow(w)).toHaveLength(3);
    d.child.kill("SIGTERM");
    expect(await d.exited).toBe(0);
  });

  it("reconcile --url fetches and reconciles in the daemon, waits, prints that reconcile as reconcile does, and exits 1 while a customer is failing", { timeout: TIMEOUT }, async () => {
    const w = await reconcileWorld();
    const d = await startDaemon(w, ["--repo", ".", "--interval", "1h"]);
    await applied(d, head(w));

    // a commit the daemon has not fetched: the nudge fetches first, as `flux reconcile --with-source`
    const next = touch(w, "acme-corp");
    const text = await w.run("reconcile", "--url", d.url);
    expect(text.stderr).toBe("");
    expect(text.code).toBe(0);
    const lines = text.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(new RegExp(`^Reconciled revision ${next.slice(0, 12)} at \\d{4}-\\d{2}-\\d{2}T`));
    expect(lines.filter((l) => /^ {2}[a-z]/.test(l)).map((l) => l.trim().split(/\s+/)[0]).sort()).toEqual([
      "acme-corp", "bluewater-dental", "contoso-legal", "fabrikam-retail", "fabrikam-retail-legacy", "northwind-logistics", "outback-mining", "sakura-trading",
    ]);
    expect(lines.at(-1)).toMatch(/^8 customers: /);
    expect((await d.customer("acme-corp")).appliedRevision).toBe(next);

    w.cw.faults.add({ kind: "status", status: 500, method: "GET", times: Infinity });
    const down = await w.run("reconcile", "--url", d.url, "--format", "json");
    expect(down.code).toBe(1);
    const report = JSON.parse(down.stdout) as { revision: string; dryRun: boolean; customers: { name: string; state: string; reason: string }[] };
    expect(report.revision).toBe(next);
    expect(report.dryRun).toBe(false);
    expect(report.customers.find((c) => c.name === "acme-corp")).toMatchObject({ state: "failing", reason: "connectwise.unavailable" });

    w.cw.faults.clear();
    expect((await w.run("reconcile", "--url", d.url)).code).toBe(0);
    const dry = await w.run("reconcile", "--url", d.url, "--dry-run");
    expect(dry.code).toBe(64);
    expect(dry.stderr).toMatch(/^cwsync: --dry-run cannot be sent to the daemon/);
    d.child.kill("SIGTERM");
    expect(await d.exited).toBe(0);
  });
});

describe("a source whose retry budget runs out", () => {
  it("ConnectWise answering 503 to everything: a cycle ends after its retry budget, /readyz answers 503 naming ConnectWise, and 200 once it answers again", { timeout: TIMEOUT }, async () => {
    const w = await reconcileWorld();
    const d = await startDaemon(w, ["--repo", ".", "--interval", "1s"]);
    await applied(d, w.repo.git("rev-parse", "HEAD").trim());
    expect((await fetch(`${d.url}/readyz`)).status).toBe(200);
    // the billing audit after the first cycle reads ConnectWise too: let it finish, so that what is
    // counted below is one cycle's requests
    await waitFor("the first billing audit", () => d.logs().some((l) => l.msg === "billing audit computed"), 45_000);

    w.cw.faults.add({ kind: "status", status: 503, times: Infinity });
    const from = w.cw.requests.length;
    const down = await waitFor("/readyz 503", async () => {
      const r = await fetch(`${d.url}/readyz`);
      const text = await r.text();
      return r.status === 503 && text.includes("ConnectWise unavailable") ? text : undefined;
    }, 45_000);
    expect(down).toMatch(/^not ready: ConnectWise unavailable since \d{4}-\d\d-\d\dT[\d:.]+Z: the retry budget of this cycle is spent \(20 retries or 5 minutes of waiting; last: status 503\)/);
    const s = await d.status();
    expect(s.unavailable).toEqual([expect.objectContaining({ source: "connectwise", system: "ConnectWise", message: expect.stringMatching(/^the retry budget of this cycle is spent/) })]);
    expect(s.connectwise.healthy).toBe(false);
    // one cycle's requests: its calls' first attempts and the 20 retries, not 6 attempts of every call
    const spent = d.logs().find((l) => l.msg === "source unavailable")!;
    expect(spent).toMatchObject({ source: "connectwise" });
    const sent = w.cw.requests.slice(from).filter((q) => q.at <= (spent.time as number)).length;
    expect(sent).toBeLessThanOrEqual(40);

    w.cw.faults.clear();
    await waitFor("/readyz 200", async () => (await fetch(`${d.url}/readyz`)).status === 200, 45_000);
    expect((await d.status()).unavailable).toBeUndefined();
    expect(d.logs().filter((l) => l.msg === "source recovered").map((l) => l.source)).toEqual(["connectwise"]);
    d.child.kill("SIGTERM");
    expect(await d.exited).toBe(0);
  });
});
