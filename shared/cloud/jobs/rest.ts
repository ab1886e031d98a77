/**
 * REST routes of IoT Jobs: the control plane as `@aws-sdk/client-iot` calls it (service `iot`) and the
 * jobs data plane as `@aws-sdk/client-iot-jobs-data-plane` calls it (service `iot-jobs-data`).
 */
import type { RestRoute, ServiceResponse, SignedRequest } from '../contracts';
import type { JobsEngine, JobUpdate } from './engine';
import type { JobsDeviceApi } from './device-api';
import { invalidRequest } from './errors';
import { EXECUTION_STATUSES, type ExecutionStatus, type JobStatus, type TargetSelection } from './records';
import { restExecution, restExecutionSummary, restJob, restJobSummary } from './shapes';
import { checkJobId, checkThingName, optBoolean, optStatusDetails, optString, parseCreateJob, parseJsonBody } from './validate';

type Json = Record<string, unknown>;

function ok(body: Json = {}): ServiceResponse {
  return { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

/** A query flag: absent → undefined, "true"/"false" → boolean, anything else → InvalidRequestException. */
function queryFlag(req: SignedRequest, name: string): boolean | undefined {
  const v = req.query.get(name);
  if (v === null) return undefined;
  if (v === 'true' || v === 'false') return v === 'true';
  throw invalidRequest(`query parameter ${name} must be true or false, got "${v}"`);
}

/** A whole-number query parameter within [min, max]. */
function queryInt(req: SignedRequest, name: string, min: number, max: number): number | undefined {
  const v = req.query.get(name);
  if (v === null) return undefined;
  const n = Number(v);
  if (!/^-?\d+$/.test(v) || n < min || n > max) throw invalidRequest(`query parameter ${name} must be a whole number from ${min} to ${max}, got "${v}"`);
  return n;
}

/** An enum query parameter. */
function queryEnum<T extends string>(req: SignedRequest, name: string, allowed: readonly T[]): T | undefined {
  const v = req.query.get(name);
  if (v === null) return undefined;
  if (!(allowed as readonly string[]).includes(v)) throw invalidRequest(`query parameter ${name} must be one of ${allowed.join(', ')}, got "${v}"`);
  return v as T;
}

/** One page of items after nextToken (an opaque offset), at most maxResults long. */
function paginate<T>(req: SignedRequest, items: T[], defaultMax: number, maxMax: number): { page: T[]; nextToken?: string } {
  const max = queryInt(req, 'maxResults', 1, maxMax) ?? defaultMax;
  const token = req.query.get('nextToken');
  let start = 0;
  if (token !== null) {
    const decoded = /^o:(\d+)$/.exec(Buffer.from(token, 'base64').toString('utf8'));
    if (!decoded) throw invalidRequest(`nextToken "${token}" is not a token this API returned`);
    start = Number(decoded[1]);
  }
  const page = items.slice(start, start + max);
  const end = start + page.length;
  return end < items.length ? { page, nextToken: Buffer.from(`o:${end}`).toString('base64') } : { page };
}

const JOB_STATUSES: readonly JobStatus[] = ['IN_PROGRESS', 'CANCELED', 'COMPLETED', 'DELETION_IN_PROGRESS'];
const TARGET_SELECTIONS: readonly TargetSelection[] = ['SNAPSHOT', 'CONTINUOUS'];

function jobIdParam(params: Record<string, string>): string {
  checkJobId(params.jobId);
  return params.jobId;
}

function thingParam(params: Record<string, string>): string {
  checkThingName(params.thingName);
  return params.thingName;
}

/** Control-plane routes (service `iot`). */
export function controlPlaneRoutes(engine: JobsEngine, clock: { now(): number }): RestRoute[] {
  return [
    {
      method: 'PUT',
      path: '/jobs/{jobId}',
      action: 'CreateJob',
      async handler(req, params) {
        const spec = parseCreateJob(params.jobId, parseJsonBody(req.body, 'CreateJob'));
        const job = await engine.commit(() => engine.createJob(spec));
        return ok({ jobArn: job.jobArn, jobId: job.jobId, description: job.description });
      },
    },
    {
      method: 'GET',
      path: '/jobs/{jobId}',
      action: 'DescribeJob',
      async handler(req, params) {
        const job = engine.getJob(jobIdParam(params));
        queryFlag(req, 'beforeSubstitution');
        const out: Json = { job: restJob(job, engine.counts(job.jobId)) };
        if (job.documentSource) out.documentSource = job.documentSource;
        return ok(out);
      },
    },
    {
      method: 'GET',
      path: '/jobs/{jobId}/job-document',
      action: 'GetJobDocument',
      async handler(req, params) {
        queryFlag(req, 'beforeSubstitution');
        // Pre-signed URL placeholders are resolved only when a document goes to a device.
        return ok({ document: engine.getJob(jobIdParam(params)).document });
      },
    },
    {
      method: 'GET',
      path: '/jobs',
      action: 'ListJobs',
      async handler(req) {
        // The registry gives no thing group ids to match: refuse the filter rather than ignore it.
        if (req.query.has('thingGroupId')) throw invalidRequest('ListJobs: the local cloud filters by thingGroupName, not thingGroupId');
        const jobs = engine.listJobs({
          status: queryEnum(req, 'status', JOB_STATUSES),
          targetSelection: queryEnum(req, 'targetSelection', TARGET_SELECTIONS),
          thingGroupName: req.query.get('thingGroupName') ?? undefined,
        });
        const { page, nextToken } = paginate(req, jobs, 50, 250);
        return ok({ jobs: page.map(restJobSummary), nextToken });
      },
    },
    {
      method: 'GET',
      path: '/jobs/{jobId}/things',
      action: 'ListJobExecutionsForJob',
      async handler(req, params) {
        const execs = engine.listExecutionsForJob(jobIdParam(params), queryEnum(req, 'status', EXECUTION_STATUSES));
        const { page, nextToken } = paginate(req, execs, 50, 250);
        return ok({ executionSummaries: page.map((e) => ({ thingArn: engine.thingArn(e.thingName), jobExecutionSummary: restExecutionSummary(e) })), nextToken });
      },
    },
    {
      method: 'GET',
      path: '/things/{thingName}/jobs',
      action: 'ListJobExecutionsForThing',
      async handler(req, params) {
        const jobId = req.query.get('jobId') ?? undefined;
        if (jobId !== undefined) checkJobId(jobId);
        const execs = engine.listExecutionsForThing(thingParam(params), queryEnum(req, 'status', EXECUTION_STATUSES), jobId);
        const { page, nextToken } = paginate(req, execs, 50, 250);
        return ok({ executionSummaries: page.map((e) => ({ jobId: e.jobId, jobExecutionSummary: restExecutionSummary(e) })), nextToken });
      },
    },
    {
      method: 'GET',
      path: '/things/{thingName}/jobs/{jobId}',
      action: 'DescribeJobExecution',
      async handler(req, params) {
        const thing = thingParam(params);
        const exec = engine.getExecution(jobIdParam(params), thing, queryInt(req, 'executionNumber', 0, Number.MAX_SAFE_INTEGER));
        return ok({ execution: restExecution(exec, engine.thingArn(thing), clock.now()) });
      },
    },
    {
      method: 'PUT',
      path: '/jobs/{jobId}/cancel',
      action: 'CancelJob',
      async handler(req, params) {
        const body = parseJsonBody(req.body, 'CancelJob');
        const options = { force: queryFlag(req, 'force') ?? false, comment: optString(body, 'comment', 2028), reasonCode: optString(body, 'reasonCode', 128) };
        const job = await engine.commit(() => engine.cancelJob(jobIdParam(params), options));
        return ok({ jobArn: job.jobArn, jobId: job.jobId, description: job.description });
      },
    },
    {
      method: 'PUT',
      path: '/things/{thingName}/jobs/{jobId}/cancel',
      action: 'CancelJobExecution',
      async handler(req, params) {
        const body = parseJsonBody(req.body, 'CancelJobExecution');
        const expected = body.expectedVersion;
        if (expected !== undefined && (typeof expected !== 'number' || !Number.isInteger(expected))) throw invalidRequest('expectedVersion must be a whole number');
        const options = { force: queryFlag(req, 'force') ?? false, expectedVersion: expected as number | undefined, statusDetails: optStatusDetails(body) };
        await engine.commit(() => engine.cancelExecution(jobIdParam(params), thingParam(params), options));
        return ok();
      },
    },
    {
      method: 'DELETE',
      path: '/jobs/{jobId}',
      action: 'DeleteJob',
      async handler(req, params) {
        const force = queryFlag(req, 'force') ?? false;
        await engine.commit(() => engine.deleteJob(jobIdParam(params), force));
        return ok();
      },
    },
    {
      method: 'DELETE',
      path: '/things/{thingName}/jobs/{jobId}/executionNumber/{executionNumber}',
      action: 'DeleteJobExecution',
      async handler(req, params) {
        const n = Number(params.executionNumber);
        if (!/^\d+$/.test(params.executionNumber)) throw invalidRequest(`executionNumber must be a whole number, got "${params.executionNumber}"`);
        const force = queryFlag(req, 'force') ?? false;
        await engine.commit(() => engine.deleteExecution(jobIdParam(params), thingParam(params), n, force));
        return ok();
      },
    },
    {
      method: 'PATCH',
      path: '/jobs/{jobId}',
      action: 'UpdateJob',
      async handler(req, params) {
        const jobId = jobIdParam(params);
        const body = parseJsonBody(req.body, 'UpdateJob');
        const known = ['description', 'presignedUrlConfig', 'jobExecutionsRolloutConfig', 'abortConfig', 'timeoutConfig', 'jobExecutionsRetryConfig'];
        const unknown = Object.keys(body).filter((k) => !known.includes(k));
        if (unknown.length > 0) throw invalidRequest(`UpdateJob: ${unknown.join(', ')} cannot be updated by the local cloud`);
        engine.getJob(jobId);
        // Reuse CreateJob's checks for each configuration given.
        const parsed = parseCreateJob(jobId, { ...body, targets: ['-'], document: '{}' });
        const update: JobUpdate = {};
        for (const k of known) if (body[k] !== undefined && body[k] !== null) (update as Json)[k] = (parsed as unknown as Json)[k];
        await engine.commit(() => engine.updateJob(jobId, update));
        return ok();
      },
    },
  ];
}

/** Jobs data-plane routes (service `iot-jobs-data`), the REST twin of the MQTT API. */
export function dataPlaneRoutes(api: JobsDeviceApi): RestRoute[] {
  return [
    {
      method: 'GET',
      path: '/things/{thingName}/jobs',
      action: 'GetPendingJobExecutions',
      async handler(_req, params) {
        return ok(api.getPending(thingParam(params)));
      },
    },
    {
      method: 'PUT',
      path: '/things/{thingName}/jobs/{jobId}',
      action: 'StartNextPendingJobExecution',
      async handler(req, params) {
        if (params.jobId !== '$next') throw invalidRequest(`PUT /things/<thing>/jobs/ takes only $next, got ${params.jobId}`);
        return ok(await api.startNext(thingParam(params), parseJsonBody(req.body, 'StartNextPendingJobExecution'), 'rest'));
      },
    },
    {
      method: 'GET',
      path: '/things/{thingName}/jobs/{jobId}',
      action: 'DescribeJobExecution',
      async handler(req, params) {
        if (params.jobId !== '$next') checkJobId(params.jobId);
        const q: Json = {};
        const include = queryFlag(req, 'includeJobDocument');
        if (include !== undefined) q.includeJobDocument = include;
        const n = queryInt(req, 'executionNumber', 0, Number.MAX_SAFE_INTEGER);
        if (n !== undefined) q.executionNumber = n;
        return ok(await api.describe(thingParam(params), params.jobId, q, 'rest'));
      },
    },
    {
      method: 'POST',
      path: '/things/{thingName}/jobs/{jobId}',
      action: 'UpdateJobExecution',
      async handler(req, params) {
        const thing = thingParam(params);
        const body = parseJsonBody(req.body, 'UpdateJobExecution');
        optBoolean(body, 'includeJobExecutionState');
        return ok(await api.update(thing, jobIdParam(params), body, 'rest'));
      },
    },
  ];
}
