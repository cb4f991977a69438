import { setMaxListeners } from "node:events";
import { cycleJson } from "../app/cycle-json.ts";
import type { ReleaseAnswer, ReleaseRequest } from "../app/release.ts";
import { ExitError, OperationError, StateError } from "../errors.ts";
import type { ReportName, StateStore } from "../ports/state-store.ts";
import type { ReconcileResult, SendNowResult } from "./api-types.ts";
import { collectGarbage } from "./collect-garbage.ts";
import { DaemonWorker, jittered, messageOf, type CycleEnd, type ReleaseJob } from "./daemon-worker.ts";
import { StoppedError } from "./fence-writes.ts";
import type { GitSync, SyncStatus } from "./git-sync.ts";
import type { DaemonControl } from "./http-server.ts";
import { RequestQueue, type ReconcileRequest } from "./request-queue.ts";
import type { DaemonDeps, DaemonOptions } from "./run-daemon.ts";
import type { DaemonSnapshot } from "./snapshot.ts";

/** The longest wait before the state is probed again after a failure outside a cycle. */
const STATE_RETRY_MS = 5_000;

export interface LoopDeps extends DaemonDeps {
  store: StateStore;
  stateDir: string;
  token: number;
  /** Aborts when the lease is lost. */
  leaseSignal: AbortSignal;
  /** Renews the lease when it is due soon enough (withLease's `renew`): called whenever the loop wakes. */
  renewLease?: () => void;
  sync: GitSync;
}

/**
 * The daemon's scheduling: what runs when. Git sync and reconcile every interval (jittered), on a
 * webhook or an API request, send-now requests first, the poller between reconciles, one step at a
 * time under the lease the daemon holds. The steps themselves are the worker's (daemon-worker.ts);
 * every step ends with a fresh snapshot.
 */
export class DaemonLoop {
  readonly control: DaemonControl;
  private readonly worker: DaemonWorker;
  /** Aborted on stop or lease loss: the in-flight cycle's requests and state writes end there. */
  private readonly work = new AbortController();
  private readonly offsetMs: number;
  /** The first git sync, made by `start` before the daemon listens: the first tick's own. */
  private firstSync?: { changed: boolean; after: SyncStatus };
  private nextReconcileAt = 0;
  private readonly queue: RequestQueue;
  /** Releases of held decreases asked for (the dashboard's `d`, the API), run before send-nows. */
  private readonly releases: ReleaseJob[] = [];
  private wake?: () => void;
  private snap: DaemonSnapshot;

  constructor(private readonly opts: DaemonOptions, private readonly deps: LoopDeps) {
    this.offsetMs = opts.at ? opts.at.getTime() - deps.clock.now() : 0;
    this.queue = new RequestQueue(() => deps.clock.now());
    // every request of a cycle listens on the work signal: more than Node's default of 10 is expected
    setMaxListeners(0, this.work.signal);
    const stopSignal = AbortSignal.any([deps.stop, deps.leaseSignal]);
    stopSignal.addEventListener("abort", () => {
      this.work.abort(stopSignal.reason);
      this.wake?.();
    }, { once: true });
    if (stopSignal.aborted) this.work.abort(stopSignal.reason);
    this.worker = new DaemonWorker(opts, deps, this.work.signal, () => this.now());
    this.snap = this.snapshotNow();
    this.control = {
      snapshot: () => this.snap,
      ready: () => this.ready(),
      requestReconcile: (reason, customer) => this.requestReconcile(reason, customer),
      reconcileNow: (reason, customer) => this.reconcileNow(reason, customer),
      requestSendNow: (customer, report) => this.requestSendNow(customer, report),
      requestRelease: (request) => this.requestRelease(request),
      audit: () => this.worker.auditAnswer(),
    };
  }

  private get stopping(): boolean {
    return this.work.signal.aborted;
  }

  /** The cycle's `now`: the real clock, moved by `--at`. */
  private now(): Date {
    return new Date(this.deps.clock.now() + this.offsetMs);
  }

  async run(): Promise<void> {
    while (!this.stopping) {
      // the daemon is awake anyway: the lease's own timer then need not wake it
      this.deps.renewLease?.();
      const release = this.releases.shift();
      const job = release ? undefined : this.queue.takeSendNow();
      const reconcileAt = this.queue.reconcileAt;
      try {
        if (release) {
          await this.working(() => this.worker.release(release));
          this.snap = this.snapshotNow();
        } else if (job) {
          await this.working(() => this.worker.sendNow(job));
          this.snap = this.snapshotNow();
        }
        else if (reconcileAt !== undefined && this.deps.clock.now() >= reconcileAt) await this.working(() => this.requested());
        else if (this.deps.clock.now() >= this.nextReconcileAt) await this.working(() => this.tick("interval", { whole: false, customers: new Set() }, false));
        else if (this.worker.loaded && this.deps.clock.now() >= this.worker.nextPollAt) {
          await this.working(() => this.worker.poll());
          this.snap = this.snapshotNow();
        } else await this.sleep(Math.min(this.nextReconcileAt, reconcileAt ?? Infinity, this.worker.loaded ? this.worker.nextPollAt : Infinity));
      } catch (e) {
        if (this.stopping) break;
        if (!(e instanceof StateError)) throw e;
        // the state failed outside a step's own handling: the daemon waits for it, it does not exit
        this.worker.stateFailed(e);
        this.snap = this.snapshotNow();
        await this.sleep(this.deps.clock.now() + Math.min(this.opts.intervalMs, STATE_RETRY_MS));
      }
    }
    const left = this.queue.drain();
    for (const j of left.jobs) j.done(this.refusedSend(j.customer, "stopping"));
    for (const r of this.releases.splice(0)) r.done({ ok: false, customer: r.request.customer, released: [], message: "the daemon is shutting down; nothing was released", refused: "stopping" });
    for (const w of left.waiters) w(this.stoppedReconcile());
  }

  /** The reconcile requests gathered so far, as one cycle; those waiting get its result. */
  private async requested(): Promise<void> {
    const { reason, request, waiters } = this.queue.takeReconcile();
    let end: CycleEnd;
    try {
      end = await this.tick(reason, request, true);
    } catch (e) {
      for (const w of waiters) w(this.stoppedReconcile());
      throw e;
    }
    if (waiters.length === 0) return;
    const s = this.deps.sync.state();
    const result: ReconcileResult = {
      ok: end.error === undefined, reason: end.reason, at: end.at, durationMs: end.durationMs, ...(end.error ? { error: end.error } : {}),
      repo: { source: this.deps.sync.source, applied: s.current?.revision, syncError: s.syncError, refused: s.refused },
      ...(end.report ? { report: cycleJson(end.report) } : {}),
    };
    for (const w of waiters) w(result);
  }

  private stoppedReconcile(): ReconcileResult {
    const s = this.deps.sync.state();
    return {
      ok: false, stopping: true, reason: "stopping", at: new Date(this.deps.clock.now()).toISOString(), durationMs: 0, error: "the daemon is shutting down; it did not reconcile",
      repo: { source: this.deps.sync.source, applied: s.current?.revision },
    };
  }

  private refusedSend(customer: string, why: "busy" | "stopping"): SendNowResult {
    const message = why === "busy" ? `the daemon has ${this.queue.waitingSends} send-now requests waiting; try again shortly` : "the daemon is shutting down; nothing was sent";
    return { ok: false, customer, message, sends: [], refused: why };
  }

  async close(): Promise<void> {
    await this.worker.close();
  }

  /**
   * The lease's renewal failed (`withLease`'s `onRenewError`): on a state failure the step in
   * flight is aborted and `state.unavailable` shows at once; the daemon keeps its lease and runs on.
   */
  renewFailed(e: unknown): void {
    this.worker.stateFailed(e);
    if (!(e instanceof StateError)) return;
    try {
      this.snap = this.snapshotNow();
    } catch {
      // called from the lease's timer, where a throw would end the process: the next step's snapshot shows it
      this.snap = { ...this.snap, unavailable: this.worker.health.unavailable() };
    }
  }

  /**
   * Before the daemon listens: the first git sync and, when it brings a revision, the sources. A
   * credential a customer of that revision uses and the environment lacks is then a usage error,
   * before any port is bound. Any other failure is left to the first reconcile, which retries.
   */
  async start(): Promise<void> {
    try {
      this.firstSync = await this.worker.syncSource(false);
      const current = this.firstSync.after.current;
      if (current) await this.worker.openSources(current, true);
    } catch (e) {
      if (this.stopping || e instanceof StoppedError) return;
      if (e instanceof ExitError || e instanceof OperationError) throw e;
      this.deps.log.warn({ error: messageOf(e) }, "opening the sources failed; tried again at the first reconcile");
    }
    this.snap = this.snapshotNow();
  }

  private jittered(ms: number): number {
    return jittered(ms, this.deps.random);
  }

  /** A step, during which the event loop's delay is sampled (never while the daemon sleeps: that would wake it). */
  private async working<T>(step: () => Promise<T>): Promise<T> {
    const done = this.deps.metrics.busy();
    try {
      return await step();
    } finally {
      done();
    }
  }

  private sleep(untilMs: number): Promise<void> {
    const ms = Math.max(0, untilMs - this.deps.clock.now());
    const woken = new AbortController();
    this.wake = () => woken.abort();
    return this.deps.clock.sleep(ms, woken.signal).catch(() => undefined).finally(() => (this.wake = undefined));
  }

  private ready(): { ready: boolean; reason?: string } {
    if (this.stopping) return { ready: false, reason: "shutting down" };
    const state = this.worker.health.stateUnavailable;
    if (state) return { ready: false, reason: `state.unavailable since ${state.since}: ${state.message}` };
    const { current, syncError, refused } = this.deps.sync.state();
    if (!current) return { ready: false, reason: `no revision yet${refused ? `: ${refused.reason}` : syncError ? `: ${syncError}` : ""}` };
    const last = this.worker.lastReconcile;
    if (!last) return { ready: false, reason: "the first reconcile has not finished" };
    const down = this.worker.health.notReady();
    if (down) return { ready: false, reason: down };
    const age = this.deps.clock.now() - Date.parse(last.at);
    if (age > 3 * this.opts.intervalMs + last.durationMs) return { ready: false, reason: `the last reconcile was ${Math.round(age / 1000)} s ago` };
    return { ready: true };
  }

  private requestReconcile(reason: string, customer?: string): boolean {
    if (this.stopping) return false;
    this.queue.reconcile(reason, customer);
    this.wake?.();
    return true;
  }

  /** A reconcile request whose result the caller waits for: that of the first cycle that starts after it. */
  private reconcileNow(reason: string, customer?: string): Promise<ReconcileResult> {
    if (this.stopping) return Promise.resolve(this.stoppedReconcile());
    const gathered = this.queue.reconcile(reason, customer);
    this.wake?.();
    return new Promise((done) => gathered.waiters.push(done));
  }

  private requestSendNow(customer: string, report?: ReportName): Promise<SendNowResult> {
    if (this.stopping) return Promise.resolve(this.refusedSend(customer, "stopping"));
    return new Promise((done) => {
      if (!this.queue.sendNow({ customer, report, done })) {
        this.deps.log.warn({ customer, report: report ?? "all", waiting: this.queue.waitingSends }, "send-now refused: the queue is full");
        return done(this.refusedSend(customer, "busy"));
      }
      this.wake?.();
    });
  }

  /** Queues a release; its customer is reconciled after it, so that its state shows what is still held. */
  private requestRelease(request: ReleaseRequest): Promise<ReleaseAnswer> {
    const refused = (why: "busy" | "stopping", message: string): ReleaseAnswer => ({ ok: false, customer: request.customer, released: [], message, refused: why });
    if (this.stopping) return Promise.resolve(refused("stopping", "the daemon is shutting down; nothing was released"));
    // as many as send-now keeps waiting: a person asks for these one at a time
    if (this.releases.length >= 8) return Promise.resolve(refused("busy", `the daemon has ${this.releases.length} releases waiting; try again shortly`));
    return new Promise((done) => {
      this.releases.push({
        request, done: (a) => {
          if (a.released.length > 0) this.requestReconcile("release", request.customer);
          done(a);
        },
      });
      this.wake?.();
    });
  }

  /** A git sync, then a reconcile of the revision in use (new or not: due sends go out on time). */
  private async tick(reason: string, request: ReconcileRequest, force: boolean): Promise<CycleEnd> {
    const { changed, after } = this.firstSync ?? (await this.worker.syncSource(force));
    this.firstSync = undefined;
    this.nextReconcileAt = this.deps.clock.now() + this.jittered(this.opts.intervalMs);
    // the sync's outcome shows while the reconcile runs
    this.snap = this.snapshotNow();
    let end: CycleEnd & { whole?: boolean } = {
      reason, at: new Date(this.deps.clock.now()).toISOString(), durationMs: 0,
      error: `no revision to reconcile yet${after.refused ? `: ${after.refused.reason}` : after.syncError ? `: ${after.syncError}` : ""}`,
    };
    if (after.current) {
      end = await this.worker.reconcile(after.current, changed ? "revision" : reason, request);
      // a slow reconcile does not eat into the pause before the next one
      this.nextReconcileAt = this.deps.clock.now() + this.jittered(this.opts.intervalMs);
    }
    this.snap = this.snapshotNow();
    this.worker.prune();
    // at most once per full verification interval, started after a good cycle, beside the next ones
    // once it is computed, its reads (every agreement's additions) are garbage: let that go, as after a whole cycle
    if (after.current) {
      this.worker.startAuditIfDue(after.current, () => {
        this.snap = this.snapshotNow();
        collectGarbage();
      });
    }
    // a whole cycle parses every file and builds every view once: let that go now, or an idle daemon
    // (which allocates little) keeps the heap it grew to for a long time
    if (end.whole) collectGarbage();
    return end;
  }

  private snapshotNow(): DaemonSnapshot {
    return this.worker.snapshot(this.stopping ? undefined : (this.queue.reconcileAt ?? this.nextReconcileAt));
  }
}
