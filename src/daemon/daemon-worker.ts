import { setMaxListeners } from "node:events";
import { pollDetections } from "../apply/poll-detections.ts";
import { desiredOf, reconcileCycle, type CycleReport } from "../apply/reconcile-cycle.ts";
import { stateMeta } from "../ports/state-meta.ts";
import { pruneDetectionsDaily } from "../apply/prune-detections.ts";
import { appliedRecord, checkCustomerName, reportsOf, runSendNow, sendLine } from "../app/send-now.ts";
import { releaseLines, type ReleaseAnswer, type ReleaseRequest } from "../app/release.ts";
import { releaseHeld } from "../apply/release-held.ts";
import { NO_NEEDS, sourceNeeds } from "../app/sources-env.ts";
import { unconfiguredInUse, type SourcesSession } from "../app/sources-session.ts";
import { loadConfig, type LoadResult } from "../config/load.ts";
import type { Desired } from "../core/desired.ts";
import { pollTargets } from "../core/poll-targets.ts";
import { ExitError, OperationError, StateError } from "../errors.ts";
import type { StateStore } from "../ports/state-store.ts";
import { LeaseLostError } from "../ports/state-store.ts";
import { AlertLog } from "./alert-log.ts";
import type { SendNowResult } from "./api-types.ts";
import { buildSnapshot, reportLag, ViewCache } from "./build-snapshot.ts";
import { detectionSendDue } from "./cycle-inputs.ts";
import { fenceWrites, StoppedError } from "./fence-writes.ts";
import type { SyncedRevision, SyncStatus } from "./git-sync.ts";
import type { LoopDeps } from "./daemon-loop.ts";
import type { DaemonOptions } from "./run-daemon.ts";
import { RequestCounter } from "./request-counter.ts";
import type { ReconcileRequest, SendNowJob } from "./request-queue.ts";
import { ScopeKeeper } from "./scope-keeper.ts";
import { readAudit } from "../app/audit.ts";
import { FULL_VERIFY_INTERVALS } from "./scope-keeper.ts";
import { AuditSchedule } from "./audit-schedule.ts";
import type { DaemonSnapshot } from "./snapshot.ts";
import { ALL_SOURCES, DETECTION_SOURCES, SourceHealth } from "./source-health.ts";

const JITTER = 0.1;

/**
 * The daemon's billing audit, at most this often: it reads every agreement's additions, at 5,000
 * customers 5,000 requests (~5 minutes of the ConnectWise pace) and ~11 s of CPU. Hourly, that was
 * ~180 ms of CPU per idle 60 s cycle and a twelfth of the ConnectWise budget; billing moves once a
 * month, and `cwsync audit` answers at once when asked (issue 16).
 */
export const AUDIT_EVERY_MS = 24 * 60 * 60 * 1000;

/** `ms` ±10 %: daemons started together do not reconcile or poll in step. */
export const jittered = (ms: number, random: () => number = Math.random) => ms * (1 - JITTER + 2 * JITTER * random());

/** A release of held decreases asked of the daemon, and whom to answer. */
export interface ReleaseJob {
  request: ReleaseRequest;
  done: (a: ReleaseAnswer) => void;
}

/** What a cycle came to, for those waiting on a reconcile they asked for. */
export interface CycleEnd {
  reason: string;
  at: string;
  durationMs: number;
  report?: CycleReport;
  error?: string;
}

export const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** `store`, telling `failed` of every state failure (a full disk, a corrupt page) any call of it meets, read or write. */
function watchState(store: StateStore, failed: (e: StateError) => void): StateStore {
  // one wrapper per method, made at its first call (not a new closure at every call of it)
  const wrapped = new Map<PropertyKey, { of: unknown; call: (...args: unknown[]) => unknown }>();
  return new Proxy(store, {
    get(target, key) {
      const value = Reflect.get(target, key, target) as unknown;
      if (typeof value !== "function") return value;
      const kept = wrapped.get(key);
      if (kept?.of === value) return kept.call;
      const call = (...args: unknown[]) => {
        try {
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        } catch (e) {
          if (e instanceof StateError) failed(e);
          throw e;
        }
      };
      wrapped.set(key, { of: value, call });
      return call;
    },
  });
}

/**
 * The daemon's work, one step at a time as the loop (daemon-loop.ts) schedules it: the git sync,
 * a reconcile (whole or scoped), a detection poll, a send-now, the daily prune; and what the
 * daemon knows from them (the snapshot behind /api/status, the dashboard and the metrics).
 */
export class DaemonWorker {
  readonly store: StateStore;
  readonly health: SourceHealth;
  lastReconcile?: DaemonSnapshot["lastReconcile"];
  /** When the poller runs next (the poller keeps its own interval, between reconciles). */
  nextPollAt = 0;
  /** The files of the revision in use, parsed, while a scoped cycle may need them. */
  loaded?: { revision: string; load: LoadResult };
  private readonly alerts: AlertLog;
  private sources?: SourcesSession;
  /** The revision whose missing credentials were last logged. */
  private credentialsChecked?: string;
  /** Which customers a cycle looks at: what the daemon keeps between cycles to decide it. */
  private readonly scopes: ScopeKeeper;
  /** A whole reconcile is needed first (start, after an error or ConnectWise being unreadable). */
  private wholeNeeded = true;
  /** Notices already logged: each is logged once for the daemon's life, not every cycle. */
  private readonly noticed = new Set<string>();
  private readonly views = new ViewCache();
  private lastPoll?: DaemonSnapshot["lastPoll"];
  private cw: Pick<DaemonSnapshot["connectwise"], "target" | "healthy" | "lastError"> = { target: "not connected yet", healthy: true };
  private readonly audit: AuditSchedule;
  private readonly requests: RequestCounter;
  /** Aborted when the state becomes unavailable: the step in flight stops there, nothing further is sent. */
  private stateStop = new AbortController();
  private lastSnapshot?: DaemonSnapshot;

  constructor(
    private readonly opts: DaemonOptions,
    private readonly deps: LoopDeps,
    /** Aborted on stop or lease loss: the in-flight step's requests and state writes end there. */
    private readonly work: AbortSignal,
    /** The cycle's `now`: the real clock, moved by `--at`. */
    private readonly now: () => Date,
  ) {
    this.requests = new RequestCounter(deps.metrics);
    this.scopes = new ScopeKeeper(opts.fullVerifyIntervals);
    // after a stop, a write fails as a crash would at that point: the ledger resolves it next time
    this.store = watchState(fenceWrites(deps.store, work), (e) => this.stateFailed(e));
    this.alerts = new AlertLog(deps.log, deps.store.customers());
    this.health = new SourceHealth(deps.log);
    this.audit = new AuditSchedule(deps, Math.max(AUDIT_EVERY_MS, opts.intervalMs * (opts.fullVerifyIntervals ?? FULL_VERIFY_INTERVALS)), 5 * opts.intervalMs);
  }

  private get stopping(): boolean {
    return this.work.aborted;
  }

  private jittered(ms: number): number {
    return jittered(ms, this.deps.random);
  }

  /**
   * The state cannot be written or read (any call of the store, the lease's renewal): the daemon
   * records `state.unavailable` and aborts the step in flight; it keeps running and serving.
   * Anything else the renewal meets (a busy database) is logged: the lease expires only after
   * several renewals failed, and a takeover ends the daemon on its own.
   */
  stateFailed(e: unknown): void {
    if (!(e instanceof StateError)) {
      this.noticeOnce({ error: messageOf(e) }, "renewing the state lease failed; tried again");
      return;
    }
    this.health.stateFailed(e, new Date(this.deps.clock.now()));
    this.stateStop.abort(e);
  }

  /** A step's signal: aborted on stop, and when the state becomes unavailable during it. */
  private stepSignal(): AbortSignal {
    if (this.stateStop.signal.aborted) this.stateStop = new AbortController();
    const signal = AbortSignal.any([this.work, this.stateStop.signal]);
    setMaxListeners(0, signal);
    return signal;
  }

  /**
   * Whether a step may use the state: while it is unavailable, each step first probes it
   * (integrity and a committed write) and runs only when that succeeds.
   */
  private stateUsable(): boolean {
    if (!this.health.stateUnavailable) return true;
    try {
      this.deps.store.probe?.();
    } catch (e) {
      if (!(e instanceof StateError)) throw e;
      this.stateFailed(e);
      return false;
    }
    this.health.stateRecovered();
    return true;
  }

  async close(): Promise<void> {
    // stopping aborted its requests: it ends at once, and nothing reads the sources or the store after
    await this.auditRun;
    await this.sources?.close();
  }

  /** Old detection counters deleted once a day, also when no revision or send makes a whole cycle. */
  prune(): void {
    if (this.health.stateUnavailable) return;
    try {
      const pruned = pruneDetectionsDaily(this.store, this.deps.token, this.now(), () => stateMeta(this.store).lastGlobal()?.config);
      if (pruned) this.deps.log.info(pruned, "old detection counters deleted");
    } catch (e) {
      if (this.stopping || e instanceof StoppedError || e instanceof LeaseLostError) throw e;
      // already state.unavailable
      if (e instanceof StateError) return;
      this.deps.log.warn({ error: messageOf(e) }, "deleting old detection counters failed; tried again next cycle");
    }
  }

  /** A git sync, with its metric, alert and log lines. */
  async syncSource(force: boolean): Promise<{ changed: boolean; after: SyncStatus }> {
    const { sync, metrics, log } = this.deps;
    const before = sync.state();
    const { changed, attempted } = await sync.sync({ force, signal: this.work });
    const after = sync.state();
    if (attempted) metrics.gitSync(after.syncError === undefined, this.deps.clock.now());
    this.alerts.gitSync(after.syncError, sync.source);
    if (after.refused && after.refused.revision !== before.refused?.revision) {
      log.warn({ revision: after.refused.revision, reason: after.refused.reason, running: after.current?.revision }, "revision refused");
    }
    if (changed && after.current) log.info({ revision: after.current.revision, previous: before.current?.revision }, "new revision");
    const rewound = after.rewound;
    if (rewound && rewound !== before.rewound) {
      // applied all the same (the branch is the truth), but never silently
      log.warn({ from: rewound.from, to: rewound.to }, "history rewound");
      try {
        this.store.appendJournal([{ at: rewound.at, kind: "revision", message: "history rewound", data: { from: rewound.from, to: rewound.to } }], this.deps.token);
      } catch (e) {
        // an unavailable state is shown as such; the log line stands for the entry
        if (!(e instanceof StateError)) throw e;
      }
    }
    return { changed, after };
  }

  /**
   * ConnectWise and every Trend Micro source, opened once for the daemon's life. `strict` (at start,
   * before the daemon listens): a source a customer of `current` uses is required. Afterwards none
   * is: one whose variables are missing stands in failing every call, so a later commit that needs
   * it fails only the customers that use it, naming the variables, and the daemon runs on.
   */
  async openSources(current: SyncedRevision, strict = false): Promise<SourcesSession> {
    this.sources ??= await this.deps.io.openSources({
      sandbox: this.opts.sandbox, repo: current.dir, license: true, detections: true,
      needs: strict ? sourceNeeds(this.loadOf(current), this.now()) : NO_NEEDS,
      connectwise: { ...this.opts.connectwise, onEvent: this.requests.observe }, now: () => this.now().getTime(),
    });
    this.cw.target = this.sources.target;
    return this.sources;
  }

  private noticeOnce(fields: Record<string, unknown>, message: string): void {
    const key = `${message} ${JSON.stringify(fields)}`;
    if (this.noticed.has(key)) return;
    this.noticed.add(key);
    this.deps.log.warn(fields, message);
  }

  /** Once per revision, a warning per source that stands in for missing credentials and that customers of the revision use. */
  private logMissingCredentials(revision: string, load: LoadResult, now: Date, sources: SourcesSession): void {
    if (this.credentialsChecked === revision) return;
    this.credentialsChecked = revision;
    for (const missing of unconfiguredInUse(sources, sourceNeeds(load, now), this.deps.io.settings.env)) this.deps.log.warn(missing, "credentials missing");
  }

  private loadOf(current: SyncedRevision): LoadResult {
    if (this.loaded?.revision !== current.revision) this.loaded = { revision: current.revision, load: this.loadThroughCache(current) };
    return this.loaded.load;
  }

  /** A new revision's files, the unchanged ones validated from the state directory's config cache (written at once: it holds only what the files say). */
  private loadThroughCache(current: SyncedRevision): LoadResult {
    const cache = this.deps.io.openConfigCache?.();
    if (!cache) return loadConfig(current.files, current.globalPath);
    try {
      const load = cache.load(current);
      cache.flush();
      return load;
    } finally {
      cache.close();
    }
  }

  private desired(revision: string, load: LoadResult, now: Date): Desired {
    return desiredOf({ revision, load, now, allowMassRemoval: this.opts.allowMassRemoval }, this.store);
  }

  /**
   * One cycle; resolves to whether it was whole. A whole one (a new revision, a start, after an
   * error or ConnectWise being unreadable, on request) observes and plans every customer.
   * Otherwise only the customers the ScopeKeeper names: something due, a suspension ended, an
   * unfinished send, a polling failure or recovery, a request, a ConnectWise change.
   */
  async reconcile(current: SyncedRevision, reason: string, request: ReconcileRequest): Promise<CycleEnd & { whole: boolean }> {
    const { clock, metrics, log } = this.deps;
    const started = clock.now();
    const now = this.now();
    let report: CycleReport | undefined;
    let error: string | undefined;
    let scope: Set<string> | undefined;
    let verified = "whole";
    if (!this.stateUsable()) {
      this.lastReconcile = { at: new Date(clock.now()).toISOString(), durationMs: 0, ok: false, reason };
      return { whole: false, reason, at: this.lastReconcile.at, durationMs: 0, error: this.health.stateUnavailable!.message };
    }
    const signal = this.stepSignal();
    try {
      const sources = await this.openSources(current);
      this.health.begin(sources.budgets, ALL_SOURCES);
      const scoped = this.wholeNeeded || request.whole
        ? undefined
        : await this.scopes.scopeFor({ revision: current.revision, requested: request.customers, now: now.getTime(), cw: sources.cw, store: this.store, signal });
      if (scoped) ({ scope, verified } = scoped);
      // the files are parsed for a whole cycle only, and let go after it (5,000 parsed files are most of the memory)
      const load = scope ? undefined : this.loadOf(current);
      if (load) this.logMissingCredentials(current.revision, load, now, sources);
      const desired = load ? this.desired(current.revision, load, now) : this.scopes.desired(current.revision)!;
      // the poller runs on its own interval; a cycle polls only when a detection report needs fresh counts
      const polls = scope
        ? this.scopes.detectionDue(scope, now.getTime())
        : started >= this.nextPollAt || detectionSendDue(this.store, desired, now);
      if (!scope || scope.size > 0) {
        report = await reconcileCycle(
          {
            revision: current.revision, ...(load ? { load } : {}), now, allowMassRemoval: this.opts.allowMassRemoval, dryRun: false,
            desired, ...(scope ? { scope } : {}), pollErrors: this.scopes.pollErrors(),
          },
          {
            cw: sources.cw, license: sources.license!, store: this.store, clock, token: this.deps.token, signal, settleMs: this.opts.settleMs,
            notice: (fields, message) => this.noticeOnce(fields, message),
            ...(polls ? { detections: { tmes: sources.tmes, hes: sources.hes } } : {}),
          },
        );
      }
      this.scopes.afterCycle({ revision: current.revision, desired, scope, started, now: now.getTime(), cursors: this.store.cursors() });
      if (!scope) this.loaded = undefined;
    } catch (e) {
      if (this.stopping || e instanceof StoppedError || e instanceof LeaseLostError) throw e;
      // the state failing (a full disk, corruption) does not end the daemon: it waits for the state
      if (e instanceof StateError) this.stateFailed(e);
      // a usage error (the environment lacks a credential) ends it
      else if (e instanceof ExitError || e instanceof OperationError) throw e;
      error = messageOf(e);
    }
    const state = this.health.stateUnavailable;
    if (state) {
      // the cycle ended on the state, not on a source: no alert blames ConnectWise, and the next cycle looks at everyone
      const durationMs = clock.now() - started;
      metrics.reconcileDuration(durationMs / 1000, false);
      this.lastReconcile = { at: new Date(clock.now()).toISOString(), durationMs, ok: false, reason };
      this.wholeNeeded = true;
      this.logOutcomes(report);
      this.views.touch();
      return { whole: false, reason, at: this.lastReconcile.at, durationMs, report, error: state.message };
    }
    this.health.end(this.sources?.budgets, ALL_SOURCES, new Date(clock.now()));
    const durationMs = clock.now() - started;
    metrics.reconcileDuration(durationMs / 1000, error === undefined);
    this.lastReconcile = { at: new Date(clock.now()).toISOString(), durationMs, ok: error === undefined, reason };
    this.alerts.reconcile(error, current.revision);
    if (report?.poll) {
      this.scopes.notePoll(report.poll.errors, scope ?? "all");
      if (!scope) this.polled(report.poll.errors.length === 0, report.poll.errors[0]?.message);
    }
    const cwIssue = report && [...report.plan.issues.values()].flat().find((i) => i.reason === "connectwise.unavailable" || i.reason === "connectwise.unreadable");
    // ConnectWise unreadable or the cycle failed: the next one looks at everyone again
    this.wholeNeeded = error !== undefined || cwIssue !== undefined;
    this.cw = { ...this.cw, healthy: error === undefined && !cwIssue, lastError: error ?? cwIssue?.message };
    this.alerts.connectwise(this.cw.healthy ? undefined : this.cw.lastError);
    this.logOutcomes(report);
    if (report) {
      this.views.touch();
      this.alerts.customers(report.statuses);
    }
    log.debug({ revision: current.revision, reason, durationMs, verified, customers: scope?.size ?? "all", ...(scope && scope.size <= 20 ? { scope: [...scope].sort() } : {}), actions: report?.plan.actions.length ?? 0, ok: error === undefined }, "reconcile finished");
    return { whole: verified === "whole", reason, at: this.lastReconcile.at, durationMs, report, error };
  }

  private logOutcomes(report: CycleReport | undefined): void {
    for (const o of report?.outcomes ?? []) {
      this.views.forget(o.customer);
      this.deps.metrics.send(o.report, o.result);
      if (o.result === "done") this.deps.log.info({ customer: o.customer, report: o.report, period: o.periodKey, key: o.key, ticketId: o.ticketId }, "report sent");
    }
  }

  private polled(ok: boolean, error?: string): void {
    const at = this.deps.clock.now();
    this.lastPoll = { at: new Date(at).toISOString(), ok };
    this.deps.metrics.poll(ok, at);
    this.alerts.poll(ok ? undefined : (error ?? "poll failed"));
    this.nextPollAt = at + this.jittered(this.opts.pollIntervalMs);
  }

  /** The detection poller, between reconciles. */
  async poll(): Promise<void> {
    const current = this.deps.sync.state().current;
    const sources = this.sources;
    if (!current || !sources || (!sources.tmes && !sources.hes) || !this.stateUsable()) {
      this.nextPollAt = this.deps.clock.now() + this.jittered(this.opts.pollIntervalMs);
      return;
    }
    const now = this.now();
    this.health.begin(sources.budgets, DETECTION_SOURCES);
    const signal = this.stepSignal();
    try {
      const desired = this.scopes.desired(current.revision) ?? this.desired(current.revision, this.loadOf(current), now);
      const result = await pollDetections(pollTargets(desired), {
        sources: { tmes: sources.tmes, hes: sources.hes }, store: this.store, token: this.deps.token, now, realNow: () => this.deps.clock.now(), signal,
      });
      // the state failed, not the sources: polled again once it can record what it reads
      if (this.health.stateUnavailable) this.nextPollAt = this.deps.clock.now() + this.jittered(this.opts.pollIntervalMs);
      else {
        // a customer whose polling failed or recovered shows it from the next cycle on
        this.scopes.notePoll(result.errors, "all", true);
        this.polled(result.errors.length === 0, result.errors[0] && `${result.errors[0].customer} ${result.errors[0].domain}: ${result.errors[0].message}`);
      }
    } catch (e) {
      if (this.stopping || e instanceof StoppedError) throw e;
      if (e instanceof StateError) this.stateFailed(e);
      if (this.health.stateUnavailable) this.nextPollAt = this.deps.clock.now() + this.jittered(this.opts.pollIntervalMs);
      else this.polled(false, messageOf(e));
    }
    this.health.end(sources.budgets, DETECTION_SOURCES, new Date(this.deps.clock.now()));
      }

  /** `cwsync send-now`'s code path, under the daemon's lease, from the applied revision. */
  async sendNow(job: SendNowJob): Promise<void> {
    let result: SendNowResult;
    if (!this.stateUsable()) {
      job.done({ ok: false, customer: job.customer, message: `nothing was sent: ${this.health.stateUnavailable!.message}`, sends: [] });
      return;
    }
    const signal = this.stepSignal();
    try {
      checkCustomerName(job.customer);
      const current = this.deps.sync.state().current;
      if (!current) throw new Error("no revision is loaded yet; try again after the first reconcile");
      const { revision } = appliedRecord(this.store, job.customer, this.deps.stateDir);
      const files = await this.deps.sync.filesAt(revision);
      const sources = await this.openSources(current);
      this.health.begin(sources.budgets, ALL_SOURCES);
      // the daemon's desired state of the revision serves when the customer is simply in it; else the files are read
      const kept = this.scopes.desired(revision);
      const mine = kept?.customers.find((d) => d.name === job.customer);
      const desired = mine && (mine.source === "current" || mine.source === "last-valid") ? kept : undefined;
      const load = desired ? undefined : revision === current.revision ? this.loadOf(current) : loadConfig(files.files, files.globalPath);
      const reports = job.report ? [job.report] : reportsOf(this.store, job.customer);
      const now = this.now();
      const sent = await runSendNow(
        { customer: job.customer, report: job.report, reports, now, revision, ...(load ? { load } : {}), ...(desired ? { desired } : {}) },
        { cw: sources.cw, license: sources.license!, store: this.store, clock: this.deps.clock, token: this.deps.token, signal, settleMs: this.opts.settleMs, detections: { tmes: sources.tmes, hes: sources.hes } },
      );
      result = { ok: sent.ok, customer: job.customer, message: sent.sends.map(sendLine).join("\n"), sends: sent.sends, at: now.toISOString(), revision };
      this.deps.log.info({ customer: job.customer, report: job.report ?? "all", ok: sent.ok, detail: result.message }, "send-now finished");
    } catch (e) {
      if (this.stopping || e instanceof StoppedError) {
        job.done({ ok: false, customer: job.customer, message: "the daemon is shutting down; an unfinished send is resolved by the next run, never repeated blind", sends: [] });
        throw e;
      }
      if (e instanceof StateError) this.stateFailed(e);
      result = { ok: false, customer: job.customer, message: messageOf(e), sends: [] };
    }
    this.health.end(this.sources?.budgets, ALL_SOURCES, new Date(this.deps.clock.now()));
    job.done(result);
    this.views.forget(job.customer);
      }

  /** `cwsync release`'s code path, under the daemon's lease. */
  async release(job: ReleaseJob): Promise<void> {
    const { customer } = job.request;
    if (!this.stateUsable()) {
      job.done({ ok: false, customer, released: [], message: `nothing was released: ${this.health.stateUnavailable!.message}` });
      return;
    }
    const signal = this.stepSignal();
    let answer: ReleaseAnswer;
    try {
      checkCustomerName(customer);
      const current = this.deps.sync.state().current;
      if (!current) throw new Error("no revision is loaded yet; try again after the first reconcile");
      const sources = await this.openSources(current);
      this.health.begin(sources.budgets, ["connectwise"]);
      const r = await releaseHeld(job.request, { cw: sources.cw, store: this.store, token: this.deps.token, clock: this.deps.clock, signal });
      answer = { ok: true, ...r, message: releaseLines(r, job.request).join("\n") };
      this.deps.log.info({ customer, product: job.request.product ?? "all", by: job.request.by, released: r.released.length }, "release finished");
    } catch (e) {
      if (this.stopping || e instanceof StoppedError) {
        job.done({ ok: false, customer, released: [], message: "the daemon is shutting down; a release cut short is simply asked for again" });
        throw e;
      }
      if (e instanceof StateError) this.stateFailed(e);
      answer = { ok: false, customer, released: [], message: messageOf(e) };
    }
    this.health.end(this.sources?.budgets, ["connectwise"], new Date(this.deps.clock.now()));
    job.done(answer);
    this.views.forget(customer);
  }

  /**
   * The billing audit when it is due (AuditSchedule), started after a good cycle and run beside the next ones: a
   * cycle observes only what is due, so the audit reads for itself, read-only. Not while ConnectWise
   * failed the cycle: its requests would only add to an outage.
   */
  startAuditIfDue(current: SyncedRevision, computed: () => void): void {
    const sources = this.sources;
    if (this.auditRun || this.stopping || !sources?.license || this.health.stateUnavailable || !this.cw.healthy || !this.audit.due()) return;
    const now = this.now();
    // beside the cycles, not in their way: at 5,000 customers it reads 5,000 agreements' additions,
    // ~5 minutes at the shipped pace, and due sends must not wait for it (its reads go 16 at a
    // time, so a cycle's requests take turns with them in the limiter)
    const done = this.deps.metrics.busy();
    this.auditRun = this.audit.run(
      () => readAudit({ cw: sources.cw, license: sources.license!, store: this.store, load: loadConfig(current.files, current.globalPath), month: now.toISOString().slice(0, 7), at: now, signal: this.work }),
      () => this.stopping,
    ).then((ok) => {
      if (ok) computed();
    }).finally(() => {
      done();
      this.auditRun = undefined;
    });
  }

  /** The billing audit running beside the cycles, if any (the daemon waits for it before it closes). */
  private auditRun?: Promise<void>;

  /** `/api/audit`. */
  auditAnswer(): ReturnType<AuditSchedule["answer"]> {
    return this.audit.answer();
  }

  /** What the daemon knows now; `nextReconcile` from the loop (absent while stopping). */
  snapshot(nextReconcile: number | undefined): DaemonSnapshot {
    const s = this.deps.sync.state();
    let built: DaemonSnapshot;
    try {
      built = this.buildSnapshot(s, nextReconcile);
    } catch (e) {
      if (!(e instanceof StateError)) throw e;
      // a corrupt state cannot show its customers: the last snapshot's, with the condition
      const at = new Date(this.deps.clock.now()).toISOString();
      const unavailable = this.health.unavailable();
      return { ...(this.lastSnapshot ?? { repo: { source: this.deps.sync.source }, connectwise: { ...this.cw, requests: {}, rateLimitWaits: 0 }, states: {}, customers: [] }), at, unavailable };
    }
    this.lastSnapshot = built;
    return built;
  }

  private buildSnapshot(s: SyncStatus, nextReconcile: number | undefined): DaemonSnapshot {
    const snap = buildSnapshot({
      store: this.store, cache: this.views, now: this.now(), at: new Date(this.deps.clock.now()),
      repo: {
        source: this.deps.sync.source, branch: this.opts.branch, attempted: this.loaded?.revision,
        lastSync: s.lastSync === undefined ? undefined : new Date(s.lastSync).toISOString(), syncError: s.syncError, refused: s.refused, rewound: s.rewound,
      },
      connectwise: { ...this.cw, requests: { ...this.requests.requests }, rateLimitWaits: this.requests.rateLimitWaits, throttled: this.requests.throttled, ratePerSecond: this.requests.ratePerSecond }, unavailable: this.health.unavailable(), lastReconcile: this.lastReconcile, lastPoll: this.lastPoll,
      nextReconcile: nextReconcile === undefined ? undefined : new Date(nextReconcile).toISOString(),
    });
    this.deps.metrics.customersByState(snap.states);
    for (const [report, seconds] of Object.entries(reportLag(snap, this.now()))) this.deps.metrics.reportLag(report, seconds);
    return this.audit.counts ? { ...snap, audit: this.audit.counts } : snap;
  }
}
