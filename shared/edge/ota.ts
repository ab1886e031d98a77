/**
 * Over-the-air model updates through AWS IoT Jobs (the device side, with the SDK's IotJobsClient).
 *
 * Job document (JSON), one operation:
 *   { "operation": "deploy-model",
 *     "model": { "name": "wind-turbine-anomaly", "version": "1.2.0",
 *                "url": "${aws:iot:s3-presigned-url:https://s3.<region>.amazonaws.com/<bucket>/<key>}",
 *                "sha256": "<hex of the package, optional>" } }
 * IoT Jobs replaces the placeholder with a fresh pre-signed GET URL each time it sends the document.
 *
 * The runner listens on notify-next and start-next: a job arriving is taken with StartNextPending (now
 * IN_PROGRESS), reported IN_PROGRESS with statusDetails.step = "downloading", then the package is
 * downloaded (a refused or broken connection or a 5xx retried with backoff within JOB_DOWNLOAD_BUDGET_MS), verified, loaded and health-checked (by the agent's install callback), and the execution
 * ends SUCCEEDED, or FAILED with statusDetails { reason, message } where reason is one of wrong-model-name,
 * not-newer, download-failed, bad-hash, bad-signature, wrong-input-shape, load-error, failed-health-check,
 * invalid-package, invalid-job-document. A job id already finished is never run again (its final status is
 * re-sent); the job in flight is persisted, so after a restart start-next hands it back and it is
 * redone (or, when its model was already installed, only reported).
 */
import { createHash, randomUUID } from 'node:crypto';
import { iotjobs, mqtt } from 'aws-iot-device-sdk-v2';
import type { AgentStateFile, FinishedJob } from './agent-state';
import type { CloudConnection } from './device-connection';
import { download, type DownloadOptions } from './download';
import { compareVersions, ModelRejected, parseVersion } from './model-package';

export { download, MAX_DOWNLOAD_BYTES } from './download';

/**
 * How long a job's package download may take, retries of a refused or broken connection included:
 * below AWS IoT Jobs' shortest in-progress timeout (1 minute), so a device whose download keeps failing
 * reports FAILED with its own reason before any job could time it out.
 */
export const JOB_DOWNLOAD_BUDGET_MS = 50_000;

/**
 * How long a job update waits for IoT Jobs' accepted or rejected answer. Past it the update counts as not
 * delivered; the runner then asks start-next again, which hands back a job still IN_PROGRESS for another report.
 */
export const JOB_UPDATE_ANSWER_MS = 30_000;

/** The deploy-model job document. */
export interface DeployModelJobDocument {
  operation: 'deploy-model';
  model: { name: string; version: string; url: string; sha256?: string };
}

/** Checks a job document; throws ModelRejected('invalid-job-document') naming the bad member. */
export function parseJobDocument(doc: unknown): DeployModelJobDocument {
  const bad = (what: string): never => {
    throw new ModelRejected('invalid-job-document', `job document: ${what}`);
  };
  if (typeof doc !== 'object' || doc === null) bad('not a JSON object');
  const d = doc as Record<string, unknown>;
  if (d.operation !== 'deploy-model') bad(`operation ${JSON.stringify(d.operation)} is not "deploy-model"`);
  const m = d.model as Record<string, unknown> | undefined;
  if (typeof m !== 'object' || m === null) bad('model is missing');
  const model = m as Record<string, unknown>;
  if (typeof model.name !== 'string' || model.name === '') bad('model.name must be a string');
  if (typeof model.version !== 'string') bad('model.version must be a string');
  try {
    parseVersion(model.version as string);
  } catch (err) {
    bad(`model.version: ${(err as Error).message}`);
  }
  if (typeof model.url !== 'string' || !/^https?:\/\//.test(model.url)) bad(`model.url must be an http(s) URL, got ${JSON.stringify(model.url)}`);
  if (model.sha256 !== undefined && (typeof model.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(model.sha256))) bad('model.sha256 must be 64 hex digits');
  return doc as DeployModelJobDocument;
}

/** What the runner needs from the agent. */
export interface JobRunnerDeps {
  thingName: string;
  connection: CloudConnection;
  state: AgentStateFile;
  /** The model serving now. */
  activeModel(): { name: string; version: string } | null;
  /** The model name this device serves (jobs for another name fail); default: the active model's. */
  modelName?: string;
  /** Verifies, loads, health-checks and activates package bytes; records state.inflight.installed. */
  install(bytes: Buffer, sha256: string, expected: { name: string; version: string }): Promise<{ canaryWindows: number; medianScore: number }>;
  log(message: string): void;
  /** Download budget and retry settings (default: JOB_DOWNLOAD_BUDGET_MS, the download's retry defaults). */
  download?: Omit<DownloadOptions, 'signal'>;
  /** Called when a job ends (or is re-reported). */
  onJob(event: { jobId: string; status: string; statusDetails: Record<string, string> }): void;
}

const clip = (s: string): string => (s.length > 900 ? `${s.slice(0, 900)}…` : s);

/** Runs deploy-model jobs one at a time; see the file comment. */
export class JobRunner {
  private readonly jobs: iotjobs.IotJobsClient;
  private busy = false;
  private again = false;
  private stopped = false;
  private lastJobId: string | null = null;
  /** Aborts a download in progress (and its pauses between attempts) when the runner stops. */
  private readonly stopping = new AbortController();
  /** Updates waiting for IoT Jobs' answer, by client token. */
  private readonly unanswered = new Map<string, { status: string; settle(err?: Error): void }>();

  constructor(private readonly deps: JobRunnerDeps) {
    this.jobs = new iotjobs.IotJobsClient(deps.connection.connection);
  }

  /** Subscribes (again) and asks for the next job; call whenever the connection comes online. */
  async onOnline(): Promise<void> {
    const thingName = this.deps.thingName;
    const qos = mqtt.QoS.AtLeastOnce;
    const take = (execution: iotjobs.model.JobExecutionData | undefined): void => {
      if (execution?.jobId) void this.handle(execution);
    };
    try {
      // Answers first, the notification last: a job that arrives while these subscriptions are made must
      // not send a request whose answer nobody is subscribed to yet (an update would wait for it in vain).
      await this.deps.connection.connection.subscribe(`$aws/things/${thingName}/jobs/+/update/accepted`, qos, (_topic, payload) => this.answered(payload));
      await this.deps.connection.connection.subscribe(`$aws/things/${thingName}/jobs/+/update/rejected`, qos, (topic, payload) => {
        this.deps.log(`job update rejected on ${topic}: ${Buffer.from(payload).toString('utf8').slice(0, 300)}`);
        this.answered(payload, true);
      });
      await this.jobs.subscribeToStartNextPendingJobExecutionAccepted({ thingName }, qos, (err, r) => take(r?.execution));
      await this.jobs.subscribeToStartNextPendingJobExecutionRejected({ thingName }, qos, (err, r) => this.deps.log(`start-next rejected: ${r?.code} ${r?.message}`));
      await this.jobs.subscribeToNextJobExecutionChangedEvents({ thingName }, qos, (err, r) => {
        if (r?.execution) void this.startNext();
      });
    } catch (err) {
      this.deps.log(`cannot subscribe to IoT Jobs topics: ${(err as Error).message}`);
      return;
    }
    await this.startNext();
  }

  /**
   * Fails the reports still waiting for IoT Jobs' answer: the session is clean, so an answer meant for the
   * dropped connection never arrives. Each report is made again from the next start-next after 'online',
   * at once instead of after JOB_UPDATE_ANSWER_MS. Call whenever the connection goes offline.
   */
  onOffline(): void {
    for (const waiting of [...this.unanswered.values()]) waiting.settle(new Error(`the connection dropped before IoT Jobs answered the ${waiting.status} update`));
  }

  /** Takes no more jobs and abandons a download in progress (the job stays in flight for the next start). */
  stop(): void {
    this.stopped = true;
    this.stopping.abort(new Error('the agent stopped'));
    for (const waiting of [...this.unanswered.values()]) waiting.settle(new Error('the agent stopped'));
  }

  /** Asks IoT Jobs for the next pending execution (or the one in progress). */
  async startNext(): Promise<void> {
    if (this.stopped || !this.deps.connection.isOnline) return;
    if (this.busy) {
      this.again = true;
      return;
    }
    try {
      await this.jobs.publishStartNextPendingJobExecution({ thingName: this.deps.thingName }, mqtt.QoS.AtLeastOnce);
    } catch (err) {
      this.deps.log(`start-next failed: ${(err as Error).message}`);
    }
  }

  /**
   * Reports a job's status and resolves once IoT Jobs accepted it (a PUBACK says only that the broker has
   * the message, not that the execution changed); rejects when IoT Jobs refused it or did not answer.
   */
  private async update(jobId: string, status: iotjobs.model.JobStatus, statusDetails: Record<string, string>): Promise<void> {
    const clientToken = randomUUID();
    const answer = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => settle(new Error(`IoT Jobs did not answer the ${status} update within ${JOB_UPDATE_ANSWER_MS / 1000} s`)), JOB_UPDATE_ANSWER_MS);
      const settle = (err?: Error): void => {
        clearTimeout(timer);
        this.unanswered.delete(clientToken);
        if (err) reject(err);
        else resolve();
      };
      this.unanswered.set(clientToken, { status, settle });
    });
    answer.catch(() => undefined); // awaited below; a publish failure first must not leave it unhandled
    try {
      await this.jobs.publishUpdateJobExecution({ thingName: this.deps.thingName, jobId, status, statusDetails, clientToken }, mqtt.QoS.AtLeastOnce);
    } catch (err) {
      this.unanswered.get(clientToken)?.settle(err as Error);
    }
    await answer;
  }

  /** Settles the update an accepted or rejected answer belongs to (matched by client token). */
  private answered(payload: ArrayBuffer, rejected = false): void {
    let body: { clientToken?: unknown; code?: unknown; message?: unknown; executionState?: { status?: unknown } };
    try {
      body = JSON.parse(Buffer.from(payload).toString('utf8'));
    } catch {
      return; // not an answer to this runner (it is logged above when rejected)
    }
    const waiting = typeof body.clientToken === 'string' ? this.unanswered.get(body.clientToken) : undefined;
    if (!waiting) return;
    // A report repeated after its answer was lost finds the execution already in that state: that is success.
    if (!rejected || body.executionState?.status === waiting.status) waiting.settle();
    else waiting.settle(new Error(`IoT Jobs rejected the ${waiting.status} update: ${String(body.code)} ${String(body.message)}`));
  }

  private async handle(execution: iotjobs.model.JobExecutionData): Promise<void> {
    if (this.busy) {
      this.again = true;
      return;
    }
    this.busy = true;
    const jobId = execution.jobId as string;
    const { state, log } = this.deps;
    try {
      // The same job handed back at once means its final report did not stick: wait a little.
      if (jobId === this.lastJobId) await new Promise((r) => setTimeout(r, 1000));
      this.lastJobId = jobId;
      let result = state.data.finished[jobId];
      if (result) {
        log(`job ${jobId} was already ${result.status}; reporting it again`);
      } else {
        if (state.data.inflight?.jobId !== jobId) {
          state.data.inflight = { jobId, startedAt: new Date().toISOString() };
          state.save();
        } else log(`resuming job ${jobId} after a restart`);
        result = await this.run(jobId, execution.jobDocument);
        // Stopped meanwhile: leave the job in flight; the next start resumes it.
        if (this.stopped) return;
        state.data.finished[jobId] = result;
        delete state.data.inflight;
        state.save();
      }
      await this.update(jobId, result.status as iotjobs.model.JobStatus, result.statusDetails);
      log(`job ${jobId}: ${result.status}${result.statusDetails.reason ? ` (${result.statusDetails.reason}: ${result.statusDetails.message})` : ''}`);
      this.deps.onJob({ jobId, status: result.status, statusDetails: result.statusDetails });
    } catch (err) {
      log(`job ${jobId}: ${(err as Error).message} (will retry when online)`);
    } finally {
      this.busy = false;
    }
    if (!this.stopped) {
      this.again = false;
      await this.startNext();
    }
  }

  private async run(jobId: string, document: unknown): Promise<FinishedJob> {
    const { state } = this.deps;
    const at = (): string => new Date().toISOString();
    const installed = state.data.inflight?.installed;
    if (installed) return { status: 'SUCCEEDED', statusDetails: { model: installed.name, version: installed.version, resumed: 'true' }, at: at() };
    let doc: DeployModelJobDocument | undefined;
    try {
      doc = parseJobDocument(document);
      const { name, version, url } = doc.model;
      const active = this.deps.activeModel();
      const expectedName = this.deps.modelName ?? active?.name;
      if (expectedName && name !== expectedName) throw new ModelRejected('wrong-model-name', `job is for model "${name}", this device serves "${expectedName}"`);
      if (active && active.name === name && compareVersions(version, active.version) <= 0) {
        throw new ModelRejected('not-newer', `version ${version} is not newer than the active ${active.version}`);
      }
      await this.update(jobId, iotjobs.model.JobStatus.IN_PROGRESS, { step: 'downloading', model: name, version });
      const bytes = await download(url, {
        timeoutMs: JOB_DOWNLOAD_BUDGET_MS,
        ...this.deps.download,
        signal: this.stopping.signal,
        retry: {
          onRetry: ({ attempt, delayMs, error }) => this.deps.log(`job ${jobId}: download attempt ${attempt} failed (${error.message}); retrying in ${delayMs} ms`),
          ...this.deps.download?.retry,
        },
      });
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      if (doc.model.sha256 && doc.model.sha256 !== sha256) throw new ModelRejected('bad-hash', `downloaded package sha256 ${sha256} differs from the job document's ${doc.model.sha256}`);
      const health = await this.deps.install(bytes, sha256, { name, version });
      return { status: 'SUCCEEDED', statusDetails: { model: name, version, canaryWindows: String(health.canaryWindows), medianScore: health.medianScore.toFixed(4) }, at: at() };
    } catch (err) {
      if (!(err instanceof ModelRejected)) throw err;
      return { status: 'FAILED', statusDetails: { reason: err.reason, message: clip(err.message), ...(doc ? { model: doc.model.name, version: doc.model.version } : {}) }, at: at() };
    }
  }
}
