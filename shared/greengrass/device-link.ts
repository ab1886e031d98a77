/**
 * The nucleus's link to the cloud over its one MQTT connection (mutual TLS, the edge agent's
 * DeviceConnection): Greengrass deployments arrive as IoT job executions (the SDK's IotJobsClient, as the
 * AWS nucleus's IotJobsClientWrapper uses them), are applied by the Nucleus, and reported back with the
 * statusDetails AWS uses (detailed-deployment-status, deployment-failure-cause, deployment-error-stack,
 * deployment-error-types). The fleet status (component versions and states) goes to
 * `$aws/things/<thing>/greengrassv2/health/json` on every change.
 *
 * A job that leaves IN_PROGRESS while the device works on it (CancelDeployment, an in-progress timeout)
 * cancels the deployment. A device that was offline asks for the next job when it comes back, so it
 * catches up; a result it could not report is kept on disk and reported then.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { iotjobs, mqtt } from 'aws-iot-device-sdk-v2';
import type { DeviceConnection } from '../edge/device-connection';
import { writeFileDurably } from './durable-file';
import type { DeploymentDocument, DeploymentResult, Nucleus } from './nucleus';

/** Version the fleet status reports for this runtime. */
export const NUCLEUS_VERSION = '2.0.0-local';

/** What the link needs. */
export interface DeviceLinkOptions {
  thingName: string;
  connection: DeviceConnection;
  nucleus: Nucleus;
  /** Folder for the link's own state (results not yet reported). */
  stateDir: string;
  log: (line: string) => void;
  /** Called after each deployment ends on the device (tests, the CLI's progress). */
  onResult?: (jobId: string, result: DeploymentResult) => void;
  /** Debounce of fleet status reports (ms). */
  healthDebounceMs?: number;
  /** How long a start-next request may go unanswered before it is asked again (ms, default 10 s). */
  askTimeoutMs?: number;
  /** While idle, ask for the next job this often, in case a notify-next was lost (ms, default 30 s). */
  idleCheckMs?: number;
}

interface Unreported {
  jobId: string;
  result: DeploymentResult;
}

/** A JSON payload from the cloud, or undefined (logged) when it does not parse. */
function parsePayload<T>(payload: ArrayBuffer, topic: string, log: (line: string) => void): T | undefined {
  try {
    return JSON.parse(Buffer.from(payload).toString('utf8')) as T;
  } catch {
    log(`ignored a message on ${topic} that is not JSON`);
    return undefined;
  }
}

function clip(text: string, max = 1000): string {
  return text.length <= max ? text : `${text.slice(0, max - 3)}...`;
}

/** The job statusDetails of a finished deployment. */
export function resultDetails(r: DeploymentResult): Record<string, string> {
  const details: Record<string, string> = { 'detailed-deployment-status': r.detailedStatus };
  if (r.reason) details['deployment-failure-cause'] = clip(r.reason);
  if (r.errorStack.length > 0) details['deployment-error-stack'] = clip(JSON.stringify(r.errorStack));
  if (r.errorTypes.length > 0) details['deployment-error-types'] = clip(JSON.stringify(r.errorTypes));
  return details;
}

/** Connects a Nucleus to IoT Jobs and the fleet status topic. */
export class DeviceLink {
  private readonly jobs: iotjobs.IotJobsClient;
  private current: { jobId: string; abort: AbortController } | undefined;
  private asking = false;
  private stopped = false;
  private healthTimer: NodeJS.Timeout | undefined;
  private askTimer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private readonly unreportedPath: string;

  constructor(private readonly opts: DeviceLinkOptions) {
    this.jobs = new iotjobs.IotJobsClient(opts.connection.connection);
    this.unreportedPath = join(opts.stateDir, 'unreported-deployment.json');
    mkdirSync(dirname(this.unreportedPath), { recursive: true });
    opts.connection.on('online', () => void this.onOnline());
  }

  /** Subscribe and ask for work; call once after connection.start() (and it runs again on every reconnect). */
  async start(): Promise<void> {
    const { thingName } = this.opts;
    const conn = this.opts.connection;
    const log = this.opts.log;
    await conn.subscribe(`$aws/things/${thingName}/jobs/notify-next`, (t, payload) => {
      const event = parsePayload<{ execution?: { jobId?: string } }>(payload, t, log);
      if (event?.execution?.jobId && !this.current) void this.askNext();
    });
    await conn.subscribe(`$aws/things/${thingName}/jobs/notify`, (t, payload) => {
      const event = parsePayload<{ jobs?: Record<string, { jobId: string }[]> }>(payload, t, log);
      const inProgress = (event?.jobs?.IN_PROGRESS ?? []).map((j) => j.jobId);
      if (event && this.current && !inProgress.includes(this.current.jobId)) {
        this.opts.log(`deployment job ${this.current.jobId} is no longer IN_PROGRESS in the cloud (canceled or timed out): stopping it`);
        this.current.abort.abort();
      }
    });
    // After a reconnect the device may have missed a cancel: the pending list says whether its job still runs.
    await conn.subscribe(`$aws/things/${thingName}/jobs/get/accepted`, (t, payload) => {
      const pending = parsePayload<{ inProgressJobs?: { jobId: string }[] }>(payload, t, log);
      if (pending && this.current && !(pending.inProgressJobs ?? []).some((j) => j.jobId === this.current?.jobId)) {
        this.opts.log(`deployment job ${this.current.jobId} ended in the cloud while this device was offline: stopping it`);
        this.current.abort.abort();
      }
    });
    await conn.subscribe(`$aws/things/${thingName}/jobs/start-next/accepted`, (t, payload) => {
      this.asking = false;
      clearTimeout(this.askTimer);
      const body = parsePayload<{ execution?: { jobId: string; jobDocument?: unknown } }>(payload, t, log);
      if (body?.execution?.jobId) void this.run(body.execution.jobId, body.execution.jobDocument);
    });
    await conn.subscribe(`$aws/things/${thingName}/jobs/start-next/rejected`, (_t, payload) => {
      this.asking = false;
      clearTimeout(this.askTimer);
      this.opts.log(`start-next rejected: ${Buffer.from(payload).toString('utf8').slice(0, 300)}`);
    });
    await conn.subscribe(`$aws/things/${thingName}/jobs/+/update/rejected`, (topic, payload) => {
      this.opts.log(`job update rejected on ${topic}: ${Buffer.from(payload).toString('utf8').slice(0, 300)}`);
    });
    // A notify-next lost to a connection hiccup must not leave a deployment QUEUED for ever.
    this.idleTimer = setInterval(() => void this.askNext(), this.opts.idleCheckMs ?? 30_000);
    this.idleTimer.unref?.();
    await this.onOnline();
  }

  /** Stop taking jobs (a deployment in progress runs to its end; the nucleus is stopped by its owner). */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.healthTimer);
    clearTimeout(this.askTimer);
    clearInterval(this.idleTimer);
  }

  /** Publish the fleet status soon (debounced); the nucleus calls this on every component change. */
  reportHealthSoon(): void {
    if (this.stopped) return;
    clearTimeout(this.healthTimer);
    this.healthTimer = setTimeout(() => void this.reportHealth(), this.opts.healthDebounceMs ?? 200);
  }

  /** Publish the fleet status now (dropped when offline: the next change or reconnect sends a fresh one). */
  async reportHealth(): Promise<void> {
    if (!this.opts.connection.isOnline) return;
    const n = this.opts.nucleus;
    const platform = process.platform === 'win32' ? 'windows' : process.platform;
    const body = {
      ggcVersion: NUCLEUS_VERSION,
      platform,
      architecture: process.arch === 'x64' ? 'amd64' : process.arch,
      overallDeviceStatus: n.overallStatus(),
      components: n.components().map((c) => ({ componentName: c.componentName, version: c.version, componentStatus: c.componentStatus, isRoot: c.isRoot, statusDetails: clip(c.statusDetails, 500), lastStatusChangeTimestamp: c.lastStatusChangeTimestamp })),
      timestamp: Date.now(),
    };
    try {
      await this.opts.connection.publish(`$aws/things/${this.opts.thingName}/greengrassv2/health/json`, JSON.stringify(body));
    } catch (err) {
      this.opts.log(`fleet status not sent: ${(err as Error).message}`);
    }
  }

  private async onOnline(): Promise<void> {
    if (this.stopped) return;
    // A start-next sent before the connection dropped got no answer: ask again.
    this.asking = false;
    await this.flushUnreported();
    await this.reportHealth();
    if (!this.current) await this.askNext();
    else await this.opts.connection.publish(`$aws/things/${this.opts.thingName}/jobs/get`, '{}').catch((err: Error) => this.opts.log(`asking for pending jobs failed: ${err.message}`));
  }

  private async askNext(): Promise<void> {
    if (this.stopped || this.asking || this.current || !this.opts.connection.isOnline) return;
    this.asking = true;
    clearTimeout(this.askTimer);
    this.askTimer = setTimeout(() => {
      if (!this.asking) return;
      this.opts.log('start-next got no answer: asking again');
      this.asking = false;
      void this.askNext();
    }, this.opts.askTimeoutMs ?? 10_000);
    try {
      await this.jobs.publishStartNextPendingJobExecution({ thingName: this.opts.thingName }, mqtt.QoS.AtLeastOnce);
    } catch (err) {
      this.asking = false;
      this.opts.log(`start-next failed: ${(err as Error).message}`);
    }
  }

  private async run(jobId: string, document: unknown): Promise<void> {
    if (this.current) return;
    const abort = new AbortController();
    this.current = { jobId, abort };
    let result: DeploymentResult;
    const doc = document as DeploymentDocument;
    if (!doc || typeof doc !== 'object' || typeof doc.deploymentId !== 'string' || typeof doc.components !== 'object') {
      result = { deploymentId: '', status: 'FAILED', detailedStatus: 'FAILED_NO_STATE_CHANGE', reason: 'the job document is not a Greengrass deployment document', errorStack: ['DEPLOYMENT_FAILURE', 'INVALID_DOCUMENT'], errorTypes: ['DEVICE_ERROR'] };
    } else {
      this.opts.log(`deployment ${doc.deploymentId} (job ${jobId}): started`);
      result = await this.opts.nucleus.deploy(doc, abort.signal);
      this.opts.log(`deployment ${doc.deploymentId} (job ${jobId}): ${result.status} ${result.detailedStatus}${result.reason ? ` (${result.reason})` : ''}`);
    }
    this.current = undefined;
    this.opts.onResult?.(jobId, result);
    this.reportHealthSoon();
    // A canceled deployment's execution already ended in the cloud: nothing to report.
    if (result.status !== 'CANCELED') {
      this.saveUnreported({ jobId, result });
      await this.flushUnreported();
    }
    await this.askNext();
  }

  private saveUnreported(u: Unreported): void {
    writeFileDurably(this.unreportedPath, JSON.stringify(u));
  }

  private async flushUnreported(): Promise<void> {
    let u: Unreported;
    try {
      u = JSON.parse(readFileSync(this.unreportedPath, 'utf8')) as Unreported;
    } catch {
      return;
    }
    if (!this.opts.connection.isOnline) return;
    try {
      await this.jobs.publishUpdateJobExecution(
        { thingName: this.opts.thingName, jobId: u.jobId, status: u.result.status === 'SUCCEEDED' ? iotjobs.model.JobStatus.SUCCEEDED : iotjobs.model.JobStatus.FAILED, statusDetails: resultDetails(u.result) },
        mqtt.QoS.AtLeastOnce,
      );
      writeFileDurably(this.unreportedPath, '');
    } catch (err) {
      this.opts.log(`reporting job ${u.jobId} failed (${(err as Error).message}); will retry when online`);
    }
  }
}
