/**
 * The IoT Jobs engine: jobs and their executions, the state machine of an execution, rollout rates,
 * abort criteria, in-progress and step timeouts, and retries. It knows nothing of HTTP or MQTT: the REST
 * routes and the MQTT handler call it, and it tells listeners which things' pending executions changed.
 * Every timer runs on the Clock it is given, and every record lives in the StateStore, so a restart
 * picks up where it stopped (deadlines and rollout windows are stored as times, not as running timers).
 *
 * Durability: callers that answer a client (REST routes, the MQTT API) make their change through
 * commit(), which runs changes one at a time and resolves only once the store has flushed them. If the
 * flush fails (a full disk), the records the change touched are put back as last saved and the indexes
 * and timers rebuilt, so the client gets an error and the state is as before the request.
 */
import type { Clock, Collection, StateStore } from '../contracts';
import { alreadyExists, invalidRequest, invalidTransition, notFound, stateNotSaved, terminalState, versionConflict } from './errors';
import { readDocumentSource } from './document';
import { abortComment, retryCriterion } from './failure-rules';
import { iotArn } from '../iot/arn';
import { MINUTE, rolloutRate } from './rollout-rate';
import { resolveJobTargets, type JobsDirectory } from './target-resolution';
import {
  attemptOf,
  deviceMayMove,
  executionKey,
  isTerminal,
  type ExecutionAttempt,
  type ExecutionRecord,
  type ExecutionStatus,
  type JobRecord,
  type JobSpec,
  type JobStatus,
  type TargetSelection,
} from './records';

export type { JobsDirectory } from './target-resolution';

/** How the engine is wired into a cloud (or a unit test). */
export interface JobsEngineOptions {
  clock: Clock;
  store: StateStore;
  region: string;
  accountId: string;
  /** The registry, looked up on each use because it may install after the engine is built. */
  directory?: () => JobsDirectory | undefined;
  /** Reads an S3 object for CreateJob's documentSource. */
  readS3Object?: (bucket: string, key: string) => Promise<string>;
  /** How often (clock time) running jobs look for things that joined or left their groups or were deleted; default 10 s. */
  groupPollMs?: number;
  /** Told of changes made by timers that could not be saved (they are retried). */
  log?: (line: string) => void;
}

/** After a failed save, timers wait at least this long before they change anything again (no busy loop on a full disk). */
const RETRY_AFTER_FAILED_SAVE_MS = 1000;

/** Told after every change: which thing, and whether its set of pending (QUEUED/IN_PROGRESS) executions changed. */
export type ThingChangeListener = (thingName: string, pendingChanged: boolean) => void;

/** A device's request to change its execution (UpdateJobExecution). */
export interface DeviceUpdate {
  status: ExecutionStatus;
  statusDetails?: Record<string, string>;
  expectedVersion?: number;
  executionNumber?: number;
  stepTimeoutInMinutes?: number;
}

/** Filters of ListJobs. */
export interface JobFilter {
  status?: JobStatus;
  targetSelection?: TargetSelection;
  thingGroupName?: string;
}

/** Executions per status of one job (DescribeJob's jobProcessDetails). */
export type ExecutionCounts = Record<ExecutionStatus, number>;

/** What the control plane may change on a running job (UpdateJob). */
export type JobUpdate = Partial<Pick<JobSpec, 'description' | 'presignedUrlConfig' | 'jobExecutionsRolloutConfig' | 'abortConfig' | 'timeoutConfig' | 'jobExecutionsRetryConfig'>>;

/** IoT Jobs state and behaviour over a Clock and a StateStore. */
export class JobsEngine {
  private readonly clock: Clock;
  private readonly store: StateStore;
  private readonly jobs: Collection<JobRecord>;
  private readonly executions: Collection<ExecutionRecord>;
  private readonly byJob = new Map<string, Map<string, ExecutionRecord>>();
  private readonly byThing = new Map<string, Map<string, ExecutionRecord>>();
  private readonly listeners: ThingChangeListener[] = [];
  private readonly executionTimers = new Map<string, { cancel(): void }>();
  private readonly rolloutTimers = new Map<string, { due: number; timer: { cancel(): void } }>();
  private pollTimer: { cancel(): void } | undefined;
  private seq = 0;
  private stopped = false;
  /** Records as last saved (JSON), to put back what a change touched when its save fails. */
  private readonly saved = new Map<string, string>();
  /** Records changed since the last save began. */
  private touched = new Map<string, { collection: Collection<unknown>; id: string }>();
  /** commit() runs one change at a time. */
  private turn: Promise<unknown> = Promise.resolve();
  /** Timers do not fire before this time after a failed save. */
  private retryAfter = 0;

  constructor(private readonly opts: JobsEngineOptions) {
    this.clock = opts.clock;
    this.store = opts.store;
    this.jobs = this.tracked('iot-jobs', opts.store.collection<JobRecord>('iot-jobs'));
    this.executions = this.tracked('iot-job-executions', opts.store.collection<ExecutionRecord>('iot-job-executions'));
    this.rebuild();
    // Resume what was running before a restart: rollouts release what fell due meanwhile.
    for (const job of this.jobs.values()) if (job.status === 'IN_PROGRESS' && job.pendingThings.length > 0) this.releaseDue(job);
  }

  /**
   * Runs a change (a call of this engine's methods) after the changes before it, and resolves with its
   * result only once the store has made it durable. When saving fails, every record the change touched
   * is put back as last saved and InternalFailureException is thrown: nothing changed. A change that
   * throws (bad input) has its error passed on.
   */
  commit<T>(change: () => T | Promise<T>): Promise<T> {
    const run = this.turn.then(async () => {
      let result: T | undefined;
      let failure: { err: unknown } | undefined;
      try {
        result = await change();
      } catch (err) {
        failure = { err };
      }
      const touched = this.touched;
      this.touched = new Map();
      try {
        await this.store.flush();
      } catch (err) {
        this.putBack(touched);
        throw failure ? failure.err : stateNotSaved(err);
      }
      for (const [key, { collection, id }] of touched) {
        const value = collection.get(id);
        if (value === undefined) this.saved.delete(key);
        else this.saved.set(key, JSON.stringify(value));
      }
      if (failure) throw failure.err;
      return result as T;
    });
    this.turn = run.catch(() => undefined);
    return run;
  }

  /**
   * Another service's collection whose records change inside this engine's commits (Greengrass
   * deployments travel as jobs): when a commit's save fails, its touched records are put back with the jobs'.
   */
  trackWith<T>(name: string, collection: Collection<T>): Collection<T> {
    return this.tracked(name, collection);
  }

  /** The store's collection, its records noted as saved, with put and delete noted in `touched`. */
  private tracked<T>(name: string, collection: Collection<T>): Collection<T> {
    for (const id of collection.keys()) this.saved.set(`${name}/${id}`, JSON.stringify(collection.get(id)));
    const note = (id: string): void => void this.touched.set(`${name}/${id}`, { collection: collection as Collection<unknown>, id });
    return {
      get: (id) => collection.get(id),
      values: () => collection.values(),
      keys: () => collection.keys(),
      size: () => collection.size(),
      put: (id, value) => {
        note(id);
        collection.put(id, value);
      },
      delete: (id) => {
        note(id);
        return collection.delete(id);
      },
    };
  }

  /** Puts touched records back as last saved (re-saved by the next flush), then rebuilds indexes and timers. */
  private putBack(touched: Map<string, { collection: Collection<unknown>; id: string }>): void {
    for (const [key, { collection, id }] of touched) {
      const text = this.saved.get(key);
      if (text === undefined) collection.delete(id);
      else collection.put(id, JSON.parse(text));
    }
    this.retryAfter = this.clock.now() + RETRY_AFTER_FAILED_SAVE_MS;
    this.rebuild();
  }

  /** Indexes, execution timers, rollout timers and the group poll from the stored records. */
  private rebuild(): void {
    for (const t of this.executionTimers.values()) t.cancel();
    this.executionTimers.clear();
    for (const t of this.rolloutTimers.values()) t.timer.cancel();
    this.rolloutTimers.clear();
    this.byJob.clear();
    this.byThing.clear();
    for (const job of this.jobs.values()) {
      this.seq = Math.max(this.seq, job.seq);
      this.byJob.set(job.jobId, new Map());
    }
    for (const exec of this.executions.values()) {
      this.index(exec);
      this.seq = Math.max(this.seq, exec.seq);
    }
    for (const exec of this.executions.values()) if (exec.status === 'IN_PROGRESS') this.armExecutionTimer(exec);
    for (const job of this.jobs.values()) if (job.status === 'IN_PROGRESS' && job.pendingThings.length > 0) this.scheduleRelease(job, job.rollout.windowStart + MINUTE);
    this.schedulePoll();
  }

  /** Register a listener for changes to things' executions (the MQTT side publishes notify/notify-next). */
  onThingChanged(listener: ThingChangeListener): void {
    this.listeners.push(listener);
  }

  /** Cancel every timer; the engine answers no more timer events. */
  stop(): void {
    this.stopped = true;
    for (const t of this.executionTimers.values()) t.cancel();
    this.executionTimers.clear();
    for (const t of this.rolloutTimers.values()) t.timer.cancel();
    this.rolloutTimers.clear();
    this.pollTimer?.cancel();
    this.pollTimer = undefined;
  }

  // ---------------------------------------------------------------- control plane

  /** ARN of a job of this cloud. */
  jobArn(jobId: string): string {
    return iotArn(this.opts.region, this.opts.accountId, 'job', jobId);
  }

  /** ARN of a thing of this cloud. */
  thingArn(thingName: string): string {
    return iotArn(this.opts.region, this.opts.accountId, 'thing', thingName);
  }

  /** CreateJob: resolves the document and the targets, then queues executions as the rollout allows. */
  async createJob(spec: JobSpec): Promise<JobRecord> {
    if (this.jobs.get(spec.jobId)) throw alreadyExists(`Job ${spec.jobId} already exists`);
    const targets = this.resolveTargets(spec.targets);
    let document = spec.document;
    if (document === undefined) document = await readDocumentSource(spec.documentSource ?? '', this.opts.readS3Object);
    // The document read was asynchronous: another CreateJob may have taken the id meanwhile.
    if (this.jobs.get(spec.jobId)) throw alreadyExists(`Job ${spec.jobId} already exists`);
    const now = this.clock.now();
    const job: JobRecord = {
      ...spec,
      document,
      jobArn: this.jobArn(spec.jobId),
      status: 'IN_PROGRESS',
      createdAt: now,
      lastUpdatedAt: now,
      pendingThings: targets,
      rollout: { windowStart: now, releasedInWindow: 0, notified: 0 },
      seq: ++this.seq,
    };
    this.jobs.put(job.jobId, job);
    this.byJob.set(job.jobId, new Map());
    this.releaseDue(job);
    this.checkCompleted(job);
    this.schedulePoll();
    return job;
  }

  /** The job, or ResourceNotFoundException. */
  getJob(jobId: string): JobRecord {
    const job = this.jobs.get(jobId);
    if (!job) throw notFound(`Job ${jobId} does not exist`);
    return job;
  }

  /** Executions of a job per status. */
  counts(jobId: string): ExecutionCounts {
    const counts: ExecutionCounts = { QUEUED: 0, IN_PROGRESS: 0, SUCCEEDED: 0, FAILED: 0, TIMED_OUT: 0, REJECTED: 0, REMOVED: 0, CANCELED: 0 };
    for (const exec of this.byJob.get(jobId)?.values() ?? []) counts[exec.status]++;
    return counts;
  }

  /** Jobs matching the filter, oldest first. */
  listJobs(filter: JobFilter = {}): JobRecord[] {
    const groupArnSuffix = filter.thingGroupName === undefined ? undefined : `:thinggroup/${filter.thingGroupName}`;
    return this.jobs
      .values()
      .filter((j) => filter.status === undefined || j.status === filter.status)
      .filter((j) => filter.targetSelection === undefined || j.targetSelection === filter.targetSelection)
      .filter((j) => groupArnSuffix === undefined || j.targets.some((t) => t.endsWith(groupArnSuffix)))
      .sort((a, b) => a.seq - b.seq);
  }

  /** Executions of a job, optionally of one status, in queue order. */
  listExecutionsForJob(jobId: string, status?: ExecutionStatus): ExecutionRecord[] {
    this.getJob(jobId);
    return [...(this.byJob.get(jobId)?.values() ?? [])].filter((e) => status === undefined || e.status === status).sort((a, b) => a.seq - b.seq);
  }

  /** Executions on a thing, optionally of one status or job, in queue order. */
  listExecutionsForThing(thingName: string, status?: ExecutionStatus, jobId?: string): ExecutionRecord[] {
    return [...(this.byThing.get(thingName)?.values() ?? [])]
      .filter((e) => status === undefined || e.status === status)
      .filter((e) => jobId === undefined || e.jobId === jobId)
      .sort((a, b) => a.seq - b.seq);
  }

  /** One execution (the latest attempt, or the attempt with executionNumber), or ResourceNotFoundException. */
  getExecution(jobId: string, thingName: string, executionNumber?: number): ExecutionRecord | (ExecutionAttempt & { jobId: string; thingName: string; retryAttempt: number }) {
    const exec = this.byJob.get(jobId)?.get(thingName);
    if (!exec) throw notFound(`No job execution of job ${jobId} on thing ${thingName}`);
    if (executionNumber === undefined || executionNumber === exec.executionNumber) return exec;
    const attempt = exec.history.find((a) => a.executionNumber === executionNumber);
    if (!attempt) throw notFound(`Job execution ${executionNumber} of job ${jobId} on thing ${thingName} does not exist`);
    return { ...attempt, jobId, thingName, retryAttempt: attempt.executionNumber - 1 };
  }

  /** CancelJob: ends QUEUED executions (and IN_PROGRESS ones with force), stops the rollout. */
  cancelJob(jobId: string, opts: { force?: boolean; comment?: string; reasonCode?: string } = {}): JobRecord {
    const job = this.getJob(jobId);
    if (job.status === 'COMPLETED') throw invalidTransition(`Job ${jobId} is COMPLETED and cannot be canceled`);
    if (job.status === 'CANCELED' && !opts.force) return job;
    const now = this.clock.now();
    job.status = 'CANCELED';
    if (opts.force) job.forceCanceled = true;
    if (opts.comment !== undefined) job.comment = opts.comment;
    if (opts.reasonCode !== undefined) job.reasonCode = opts.reasonCode;
    job.pendingThings = [];
    job.lastUpdatedAt = now;
    this.cancelRollout(jobId);
    this.jobs.put(jobId, job);
    for (const exec of this.byJob.get(jobId)?.values() ?? []) {
      if (exec.status === 'QUEUED' || (exec.status === 'IN_PROGRESS' && opts.force)) this.endByService(exec, 'CANCELED', { forceCanceled: exec.status === 'IN_PROGRESS' });
    }
    return job;
  }

  /** CancelJobExecution: QUEUED → CANCELED; IN_PROGRESS only with force. */
  cancelExecution(jobId: string, thingName: string, opts: { force?: boolean; expectedVersion?: number; statusDetails?: Record<string, string> } = {}): void {
    this.getJob(jobId);
    const exec = this.byJob.get(jobId)?.get(thingName);
    if (!exec) throw notFound(`No job execution of job ${jobId} on thing ${thingName}`);
    if (opts.expectedVersion !== undefined && opts.expectedVersion !== exec.versionNumber) {
      throw versionConflict(`Job execution ${jobId} on ${thingName} has version ${exec.versionNumber}, not the expected ${opts.expectedVersion}`, exec);
    }
    if (isTerminal(exec.status)) throw invalidTransition(`Job execution ${jobId} on ${thingName} is ${exec.status} and cannot be canceled`, exec);
    if (exec.status === 'IN_PROGRESS' && !opts.force) {
      throw invalidTransition(`Job execution ${jobId} on ${thingName} is IN_PROGRESS: cancel it with force=true`, exec);
    }
    if (opts.statusDetails) exec.statusDetails = { ...exec.statusDetails, ...opts.statusDetails };
    this.endByService(exec, 'CANCELED', { forceCanceled: exec.status === 'IN_PROGRESS' });
  }

  /** DeleteJob: removes the job and its executions; a job still IN_PROGRESS (or with IN_PROGRESS executions) needs force. */
  deleteJob(jobId: string, force = false): void {
    const job = this.getJob(jobId);
    const execs = [...(this.byJob.get(jobId)?.values() ?? [])];
    if (!force && (job.status === 'IN_PROGRESS' || execs.some((e) => e.status === 'IN_PROGRESS'))) {
      throw invalidTransition(`Job ${jobId} is ${job.status === 'IN_PROGRESS' ? 'IN_PROGRESS' : 'still running on some things'}: delete it with force=true`);
    }
    this.cancelRollout(jobId);
    this.jobs.delete(jobId);
    this.byJob.delete(jobId);
    for (const exec of execs) {
      const pending = !isTerminal(exec.status);
      this.removeExecution(exec);
      this.emit(exec.thingName, pending);
    }
  }

  /** DeleteJobExecution: removes one attempt; an IN_PROGRESS one needs force. */
  deleteExecution(jobId: string, thingName: string, executionNumber: number, force = false): void {
    const exec = this.byJob.get(jobId)?.get(thingName);
    if (!exec) throw notFound(`No job execution of job ${jobId} on thing ${thingName}`);
    if (executionNumber !== exec.executionNumber) {
      const before = exec.history.length;
      exec.history = exec.history.filter((a) => a.executionNumber !== executionNumber);
      if (exec.history.length === before) throw notFound(`Job execution ${executionNumber} of job ${jobId} on thing ${thingName} does not exist`);
      this.executions.put(executionKey(jobId, thingName), exec);
      return;
    }
    if (exec.status === 'IN_PROGRESS' && !force) throw invalidTransition(`Job execution ${jobId} on ${thingName} is IN_PROGRESS: delete it with force=true`, exec);
    const pending = !isTerminal(exec.status);
    this.removeExecution(exec);
    this.emit(thingName, pending);
    const job = this.jobs.get(jobId);
    if (job) this.checkCompleted(job);
  }

  /** UpdateJob: replaces the given configurations of a job. */
  updateJob(jobId: string, update: JobUpdate): JobRecord {
    const job = this.getJob(jobId);
    for (const [k, v] of Object.entries(update)) if (v !== undefined) (job as unknown as Record<string, unknown>)[k] = v;
    job.lastUpdatedAt = this.clock.now();
    this.jobs.put(jobId, job);
    if (job.status === 'IN_PROGRESS') this.releaseDue(job);
    return job;
  }

  // ---------------------------------------------------------------- device side

  /** A thing's executions that are IN_PROGRESS and QUEUED, each in the order $next takes them. */
  pending(thingName: string): { inProgress: ExecutionRecord[]; queued: ExecutionRecord[] } {
    const all = [...(this.byThing.get(thingName)?.values() ?? [])];
    const inProgress = all.filter((e) => e.status === 'IN_PROGRESS').sort((a, b) => (a.startedAt ?? 0) - (b.startedAt ?? 0) || a.seq - b.seq);
    const queued = all.filter((e) => e.status === 'QUEUED').sort((a, b) => a.queuedAt - b.queuedAt || a.seq - b.seq);
    return { inProgress, queued };
  }

  /** The execution `$next` names: the oldest IN_PROGRESS, else the oldest QUEUED. */
  next(thingName: string): ExecutionRecord | undefined {
    const { inProgress, queued } = this.pending(thingName);
    return inProgress[0] ?? queued[0];
  }

  /** StartNextPendingJobExecution: moves the next QUEUED execution to IN_PROGRESS (an IN_PROGRESS one comes back unchanged). */
  startNext(thingName: string, opts: { statusDetails?: Record<string, string>; stepTimeoutInMinutes?: number } = {}): ExecutionRecord | undefined {
    const exec = this.next(thingName);
    if (!exec || exec.status === 'IN_PROGRESS') return exec;
    this.moveToInProgress(exec, opts.statusDetails, opts.stepTimeoutInMinutes);
    return exec;
  }

  /** DescribeJobExecution from a device: `$next` or a job id; an ended execution is TerminalStateException. */
  describeForDevice(thingName: string, jobId: string, executionNumber?: number): ExecutionRecord | undefined {
    if (jobId === '$next') return this.next(thingName);
    const exec = this.byJob.get(jobId)?.get(thingName);
    if (!exec || (executionNumber !== undefined && executionNumber !== exec.executionNumber)) {
      throw notFound(`No job execution of job ${jobId}${executionNumber === undefined ? '' : ` number ${executionNumber}`} on thing ${thingName}`);
    }
    if (isTerminal(exec.status)) throw terminalState(`Job execution ${jobId} on ${thingName} is ${exec.status}`, exec);
    return exec;
  }

  /**
   * UpdateJobExecution from a device. Returns the execution state that the update produced (a retried
   * failure is reported as FAILED/TIMED_OUT even though a new attempt is already QUEUED).
   */
  updateFromDevice(thingName: string, jobId: string, update: DeviceUpdate): { status: ExecutionStatus; statusDetails: Record<string, string>; versionNumber: number } {
    const exec = this.byJob.get(jobId)?.get(thingName);
    if (!exec || (update.executionNumber !== undefined && update.executionNumber !== exec.executionNumber)) {
      throw notFound(`No job execution of job ${jobId}${update.executionNumber === undefined ? '' : ` number ${update.executionNumber}`} on thing ${thingName}`);
    }
    if (update.expectedVersion !== undefined && update.expectedVersion !== exec.versionNumber) {
      throw versionConflict(`Job execution ${jobId} on ${thingName} has version ${exec.versionNumber}, not the expected ${update.expectedVersion}`, exec);
    }
    if (!deviceMayMove(exec.status, update.status)) {
      throw invalidTransition(`Job execution ${jobId} on ${thingName} cannot move from ${exec.status} to ${update.status}`, exec);
    }
    if (update.status === 'IN_PROGRESS') {
      if (exec.status === 'QUEUED') {
        this.moveToInProgress(exec, update.statusDetails, update.stepTimeoutInMinutes);
      } else {
        if (update.statusDetails) exec.statusDetails = update.statusDetails;
        this.setStepTimeout(exec, update.stepTimeoutInMinutes);
        exec.versionNumber++;
        exec.lastUpdatedAt = this.clock.now();
        this.save(exec);
        this.armExecutionTimer(exec);
        this.emit(thingName, false);
      }
      return { status: exec.status, statusDetails: { ...exec.statusDetails }, versionNumber: exec.versionNumber };
    }
    if (update.statusDetails) exec.statusDetails = update.statusDetails;
    return this.finish(exec, update.status);
  }

  // ---------------------------------------------------------------- group membership

  /**
   * Brings running jobs up to date with the registry: for continuous jobs, things that joined a target
   * group get executions (through the rollout) and executions of things that left end as REMOVED; for
   * every job, executions of things that were deleted end as REMOVED. Runs every groupPollMs of cloud
   * time while a job runs; the registry (or a test) may call it right after a change.
   */
  refreshTargets(): void {
    const directory = this.opts.directory?.();
    if (!directory) return;
    for (const job of this.jobs.values()) {
      if (job.status !== 'IN_PROGRESS') continue;
      const execs = this.byJob.get(job.jobId) ?? new Map<string, ExecutionRecord>();
      let current: Set<string> | undefined;
      if (job.targetSelection === 'CONTINUOUS') {
        try {
          current = new Set(this.resolveTargets(job.targets));
        } catch {
          current = undefined; // a target group was deleted meanwhile: keep the job as it is
        }
      }
      const exists = (thing: string): boolean => directory.thing(thing) !== undefined && (current === undefined || current.has(thing));
      let changed = false;
      if (current) {
        const pending = new Set(job.pendingThings);
        for (const thing of current) {
          const exec = execs.get(thing);
          if ((!exec || exec.status === 'REMOVED') && !pending.has(thing)) {
            job.pendingThings.push(thing);
            changed = true;
          }
        }
      }
      const kept = job.pendingThings.filter(exists);
      if (kept.length !== job.pendingThings.length) {
        job.pendingThings = kept;
        changed = true;
      }
      for (const exec of [...execs.values()]) {
        if (!isTerminal(exec.status) && !exists(exec.thingName)) this.endByService(exec, 'REMOVED');
      }
      if (changed) {
        this.jobs.put(job.jobId, job);
        this.releaseDue(job);
        this.checkCompleted(job);
      }
    }
    this.saveTimerChange('a group membership change');
  }

  // ---------------------------------------------------------------- internals

  private resolveTargets(targets: string[]): string[] {
    return resolveJobTargets(targets, this.opts.region, this.opts.accountId, this.opts.directory?.());
  }

  private index(exec: ExecutionRecord): void {
    let j = this.byJob.get(exec.jobId);
    if (!j) this.byJob.set(exec.jobId, (j = new Map()));
    j.set(exec.thingName, exec);
    let t = this.byThing.get(exec.thingName);
    if (!t) this.byThing.set(exec.thingName, (t = new Map()));
    t.set(exec.jobId, exec);
  }

  private removeExecution(exec: ExecutionRecord): void {
    const key = executionKey(exec.jobId, exec.thingName);
    this.executionTimers.get(key)?.cancel();
    this.executionTimers.delete(key);
    this.executions.delete(key);
    this.byJob.get(exec.jobId)?.delete(exec.thingName);
    const t = this.byThing.get(exec.thingName);
    t?.delete(exec.jobId);
    if (t && t.size === 0) this.byThing.delete(exec.thingName);
  }

  private save(exec: ExecutionRecord): void {
    this.executions.put(executionKey(exec.jobId, exec.thingName), exec);
  }

  private emit(thingName: string, pendingChanged: boolean): void {
    for (const l of this.listeners) {
      try {
        l(thingName, pendingChanged);
      } catch {
        // a listener's failure must not undo or interrupt a state change already made
      }
    }
  }

  /** Creates (or re-creates after REMOVED) the execution of job on thing, QUEUED. */
  private queue(job: JobRecord, thingName: string): void {
    const now = this.clock.now();
    const old = this.byJob.get(job.jobId)?.get(thingName);
    if (old && !isTerminal(old.status)) return;
    const exec: ExecutionRecord = {
      jobId: job.jobId,
      thingName,
      status: 'QUEUED',
      statusDetails: {},
      queuedAt: now,
      lastUpdatedAt: now,
      versionNumber: 1,
      executionNumber: old ? old.executionNumber + 1 : 1,
      retryAttempt: 0,
      retriesByType: {},
      seq: ++this.seq,
      history: old ? [...old.history, attemptOf(old)] : [],
    };
    this.index(exec);
    this.save(exec);
    this.emit(thingName, true);
  }

  private moveToInProgress(exec: ExecutionRecord, statusDetails?: Record<string, string>, stepTimeoutInMinutes?: number): void {
    const now = this.clock.now();
    const job = this.jobs.get(exec.jobId);
    exec.status = 'IN_PROGRESS';
    exec.startedAt = now;
    exec.lastUpdatedAt = now;
    exec.versionNumber++;
    if (statusDetails) exec.statusDetails = statusDetails;
    const minutes = job?.timeoutConfig?.inProgressTimeoutInMinutes;
    if (minutes !== undefined) exec.inProgressDeadline = now + minutes * MINUTE;
    this.setStepTimeout(exec, stepTimeoutInMinutes);
    this.save(exec);
    this.armExecutionTimer(exec);
    // Leaving QUEUED for IN_PROGRESS does not change the pending set (notify stays quiet), but may change $next.
    this.emit(exec.thingName, false);
  }

  /** A new step timeout replaces the old one, capped at the in-progress deadline; -1 clears it. */
  private setStepTimeout(exec: ExecutionRecord, minutes?: number): void {
    if (minutes === undefined) return;
    if (minutes === -1) {
      delete exec.stepDeadline;
      return;
    }
    const deadline = this.clock.now() + minutes * MINUTE;
    exec.stepDeadline = exec.inProgressDeadline === undefined ? deadline : Math.min(deadline, exec.inProgressDeadline);
  }

  private armExecutionTimer(exec: ExecutionRecord): void {
    const key = executionKey(exec.jobId, exec.thingName);
    this.executionTimers.get(key)?.cancel();
    this.executionTimers.delete(key);
    if (this.stopped || exec.status !== 'IN_PROGRESS') return;
    const deadlines = [exec.inProgressDeadline, exec.stepDeadline].filter((d): d is number => d !== undefined);
    if (deadlines.length === 0) return;
    const due = Math.min(...deadlines);
    const timer = this.clock.setTimeout(() => {
      this.executionTimers.delete(key);
      const current = this.byJob.get(exec.jobId)?.get(exec.thingName);
      if (!current || current.status !== 'IN_PROGRESS') return;
      if (this.clock.now() < Math.max(due, this.retryAfter)) return this.armExecutionTimer(current);
      this.finish(current, 'TIMED_OUT');
      this.saveTimerChange('a timeout');
    }, Math.max(0, Math.max(due, this.retryAfter) - this.clock.now()));
    this.executionTimers.set(key, timer);
  }

  /** Ends an execution by the service (CANCELED, REMOVED): no retry, no abort evaluation. */
  private endByService(exec: ExecutionRecord, status: 'CANCELED' | 'REMOVED', opts: { forceCanceled?: boolean } = {}): void {
    const wasPending = !isTerminal(exec.status);
    exec.status = status;
    if (opts.forceCanceled) exec.forceCanceled = true;
    exec.lastUpdatedAt = this.clock.now();
    exec.versionNumber++;
    delete exec.inProgressDeadline;
    delete exec.stepDeadline;
    this.armExecutionTimer(exec); // cancels
    this.save(exec);
    this.emit(exec.thingName, wasPending);
    const job = this.jobs.get(exec.jobId);
    if (job) this.checkCompleted(job);
  }

  /**
   * Ends an execution with a device status or TIMED_OUT, then applies the job's retry, abort, rollout and
   * completion rules, in that order.
   */
  private finish(exec: ExecutionRecord, status: ExecutionStatus): { status: ExecutionStatus; statusDetails: Record<string, string>; versionNumber: number } {
    const now = this.clock.now();
    exec.status = status;
    exec.lastUpdatedAt = now;
    exec.versionNumber++;
    delete exec.inProgressDeadline;
    delete exec.stepDeadline;
    this.armExecutionTimer(exec); // cancels
    const result = { status, statusDetails: { ...exec.statusDetails }, versionNumber: exec.versionNumber };
    const job = this.jobs.get(exec.jobId);
    const retryKey = job && retryCriterion(job, exec, status);
    if (job && retryKey) {
      exec.history.push(attemptOf(exec));
      exec.executionNumber++;
      exec.retryAttempt++;
      exec.retriesByType[retryKey] = (exec.retriesByType[retryKey] ?? 0) + 1;
      exec.status = 'QUEUED';
      exec.statusDetails = {};
      exec.versionNumber = 1;
      exec.queuedAt = now;
      delete exec.startedAt;
      exec.seq = ++this.seq;
    }
    this.save(exec);
    this.emit(exec.thingName, true);
    if (job) {
      if (!retryKey) this.evaluateAbort(job);
      if (job.status === 'IN_PROGRESS') this.releaseDue(job);
      this.checkCompleted(job);
    }
    return result;
  }

  /** Cancels the job when one of its abort criteria is met (see abortComment). */
  private evaluateAbort(job: JobRecord): void {
    if (job.status !== 'IN_PROGRESS' || !job.abortConfig) return;
    const comment = abortComment(job.abortConfig.criteriaList, this.counts(job.jobId));
    if (comment !== undefined) this.cancelJob(job.jobId, { comment });
  }

  private checkCompleted(job: JobRecord): void {
    if (job.status !== 'IN_PROGRESS' || job.targetSelection !== 'SNAPSHOT' || job.pendingThings.length > 0) return;
    for (const exec of this.byJob.get(job.jobId)?.values() ?? []) if (!isTerminal(exec.status)) return;
    const now = this.clock.now();
    job.status = 'COMPLETED';
    job.completedAt = now;
    job.lastUpdatedAt = now;
    this.jobs.put(job.jobId, job);
  }

  /** Things notified per minute for this job now (AWS caps every rate at 1000 a minute). */
  rolloutRate(job: JobRecord): number {
    return rolloutRate(job, () => this.counts(job.jobId).SUCCEEDED);
  }

  /** Queues as many waiting things as the rollout allows in the current minute; schedules the next minute. */
  private releaseDue(job: JobRecord): void {
    if (this.stopped) return;
    if (job.status !== 'IN_PROGRESS' || job.pendingThings.length === 0) {
      this.cancelRollout(job.jobId);
      return;
    }
    const now = this.clock.now();
    if (now - job.rollout.windowStart >= MINUTE) {
      job.rollout.windowStart = now;
      job.rollout.releasedInWindow = 0;
    }
    // The rate is read once per release: things notified in this very call do not raise it (otherwise a
    // numberOfNotifiedThings rate would compound within one minute), but a success arriving later does.
    const rate = this.rolloutRate(job);
    while (job.pendingThings.length > 0 && job.rollout.releasedInWindow < rate) {
      const thing = job.pendingThings.shift() as string;
      job.rollout.releasedInWindow++;
      job.rollout.notified++;
      this.queue(job, thing);
    }
    this.jobs.put(job.jobId, job);
    if (job.pendingThings.length === 0) {
      this.cancelRollout(job.jobId);
      return;
    }
    this.scheduleRelease(job, job.rollout.windowStart + MINUTE);
  }

  /** Releases more of the job's waiting things at `due` (the next rollout minute). */
  private scheduleRelease(job: JobRecord, due: number): void {
    if (this.stopped) return;
    const existing = this.rolloutTimers.get(job.jobId);
    if (existing && existing.due === due) return;
    existing?.timer.cancel();
    const timer = this.clock.setTimeout(() => {
      this.rolloutTimers.delete(job.jobId);
      const current = this.jobs.get(job.jobId);
      if (current) this.releaseDue(current);
      this.saveTimerChange('a rollout release');
    }, Math.max(0, Math.max(due, this.retryAfter) - this.clock.now()));
    this.rolloutTimers.set(job.jobId, { due, timer });
  }

  private cancelRollout(jobId: string): void {
    this.rolloutTimers.get(jobId)?.timer.cancel();
    this.rolloutTimers.delete(jobId);
  }

  private schedulePoll(): void {
    if (this.stopped || this.pollTimer) return;
    if (!this.opts.directory || !this.jobs.values().some((j) => j.status === 'IN_PROGRESS')) return;
    this.pollTimer = this.clock.setTimeout(() => {
      this.pollTimer = undefined;
      this.refreshTargets();
      this.schedulePoll();
    }, this.opts.groupPollMs ?? 10_000);
  }

  /** Changes made by timers are not inside a request: save them now (put back and retried later if that fails). */
  private saveTimerChange(what: string): void {
    this.commit(() => undefined).catch((err) => this.opts.log?.(`jobs: ${what} could not be saved and will be retried: ${(err as Error).message}`));
  }
}
