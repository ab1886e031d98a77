/**
 * The device side of IoT Jobs, shared by the MQTT API and the jobs data plane REST API: request checks,
 * the four operations, and documents with pre-signed URL placeholders resolved for each delivery.
 * Changes go through engine.commit(), so they are durable before any answer is sent.
 */
import type { Clock, Presigner } from '../contracts';
import type { JobsEngine } from './engine';
import { invalidRequest } from './errors';
import { DEFAULT_PRESIGN_SECONDS, resolvePlaceholders } from './document';
import { deviceExecution, deviceSummary } from './shapes';
import { DEVICE_STATUSES, type ExecutionRecord, type ExecutionStatus } from './records';
import { optBoolean, optNumber, optStatusDetails } from './validate';

type Json = Record<string, unknown>;

/** Which wire form the answers take. */
export type DeviceForm = 'mqtt' | 'rest';

/** Device operations over the engine; answers are plain objects ready to serialise. */
export class JobsDeviceApi {
  constructor(
    private readonly engine: JobsEngine,
    private readonly clock: Clock,
    private readonly presigner: () => Presigner | undefined,
  ) {}

  /** The job's document as a device receives it: placeholders replaced by fresh pre-signed URLs. */
  async documentFor(jobId: string): Promise<string> {
    const job = this.engine.getJob(jobId);
    const presigner = this.presigner();
    if (!presigner) return job.document;
    const expires = job.presignedUrlConfig?.expiresInSec ?? DEFAULT_PRESIGN_SECONDS;
    return resolvePlaceholders(job.document, (b, k, s) => presigner.presignGet(b, k, s), expires);
  }

  /** An execution as a device sees it, with its document when asked. */
  async execution(exec: ExecutionRecord, withDocument: boolean, form: DeviceForm): Promise<Json> {
    const document = withDocument ? await this.documentFor(exec.jobId) : undefined;
    return deviceExecution(exec, document, form, this.clock.now());
  }

  /** GetPendingJobExecutions. */
  getPending(thingName: string): Json {
    const { inProgress, queued } = this.engine.pending(thingName);
    return { inProgressJobs: inProgress.map((e) => deviceSummary(e)), queuedJobs: queued.map((e) => deviceSummary(e)) };
  }

  /** StartNextPendingJobExecution: `execution` is absent when nothing is pending. */
  async startNext(thingName: string, req: Json, form: DeviceForm): Promise<Json> {
    const statusDetails = optStatusDetails(req);
    const stepTimeoutInMinutes = stepTimeout(req);
    const exec = await this.engine.commit(() => this.engine.startNext(thingName, { statusDetails, stepTimeoutInMinutes }));
    return exec ? { execution: await this.execution(exec, true, form) } : {};
  }

  /** DescribeJobExecution (jobId may be `$next`); includeJobDocument defaults to true. */
  async describe(thingName: string, jobId: string, req: Json, form: DeviceForm): Promise<Json> {
    const executionNumber = optNumber(req, 'executionNumber', 0, Number.MAX_SAFE_INTEGER);
    const includeJobDocument = optBoolean(req, 'includeJobDocument') ?? true;
    // The v2 device SDK drops falsy members, so executionNumber 0 never arrives; 0 means "latest" too.
    const exec = this.engine.describeForDevice(thingName, jobId, executionNumber || undefined);
    return exec ? { execution: await this.execution(exec, includeJobDocument, form) } : {};
  }

  /** UpdateJobExecution; executionState and jobDocument only when asked for. */
  async update(thingName: string, jobId: string, req: Json, form: DeviceForm): Promise<Json> {
    const status = req.status;
    if (typeof status !== 'string' || !DEVICE_STATUSES.has(status)) {
      throw invalidRequest(`status must be one of IN_PROGRESS, SUCCEEDED, FAILED, REJECTED${status === undefined ? '' : `, got ${JSON.stringify(status)}`}`);
    }
    const statusDetails = optStatusDetails(req);
    const expectedVersion = optNumber(req, 'expectedVersion', 0, Number.MAX_SAFE_INTEGER);
    const executionNumber = optNumber(req, 'executionNumber', 0, Number.MAX_SAFE_INTEGER);
    const includeJobExecutionState = optBoolean(req, 'includeJobExecutionState') ?? false;
    const includeJobDocument = optBoolean(req, 'includeJobDocument') ?? false;
    const stepTimeoutInMinutes = stepTimeout(req);
    const state = await this.engine.commit(() =>
      this.engine.updateFromDevice(thingName, jobId, {
        status: status as ExecutionStatus,
        statusDetails,
        expectedVersion,
        executionNumber: executionNumber || undefined,
        stepTimeoutInMinutes,
      }),
    );
    const out: Json = {};
    if (includeJobExecutionState) out.executionState = state;
    if (includeJobDocument) out.jobDocument = form === 'mqtt' ? JSON.parse(await this.documentFor(jobId)) : await this.documentFor(jobId);
    return out;
  }
}

/** stepTimeoutInMinutes: 1–10080, or -1 to clear the step timer. */
function stepTimeout(req: Json): number | undefined {
  if (req.stepTimeoutInMinutes === -1 || req.stepTimeoutInMinutes === '-1') return -1;
  return optNumber(req, 'stepTimeoutInMinutes', 1, 10080);
}
