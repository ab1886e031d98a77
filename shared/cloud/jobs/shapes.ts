/**
 * Wire shapes of jobs and executions: the control plane's (restJson1, epoch-second timestamps with
 * fractions), the jobs data plane's and the MQTT API's (whole epoch seconds, as AWS IoT publishes them).
 */
import type { ExecutionCounts } from './engine';
import type { ExecutionAttempt, ExecutionRecord, JobRecord } from './records';

type Wire = Record<string, unknown>;

/** Epoch seconds with milliseconds, for the REST APIs. */
export function restTime(ms: number | undefined): number | undefined {
  return ms === undefined ? undefined : ms / 1000;
}

/** Whole epoch seconds, for the MQTT API. */
export function mqttTime(ms: number | undefined): number | undefined {
  return ms === undefined ? undefined : Math.floor(ms / 1000);
}

/** Drops undefined members so the JSON holds only what is set. */
function compact<T extends Wire>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

/** DescribeJob's `job`. */
export function restJob(job: JobRecord, counts: ExecutionCounts): Wire {
  const processingTargets = job.status === 'IN_PROGRESS' ? job.targets : [];
  return compact({
    jobArn: job.jobArn,
    jobId: job.jobId,
    targetSelection: job.targetSelection,
    status: job.status,
    forceCanceled: job.forceCanceled,
    reasonCode: job.reasonCode,
    comment: job.comment,
    targets: job.targets,
    description: job.description,
    presignedUrlConfig: job.presignedUrlConfig,
    jobExecutionsRolloutConfig: job.jobExecutionsRolloutConfig,
    abortConfig: job.abortConfig,
    createdAt: restTime(job.createdAt),
    lastUpdatedAt: restTime(job.lastUpdatedAt),
    completedAt: restTime(job.completedAt),
    jobProcessDetails: {
      processingTargets,
      numberOfCanceledThings: counts.CANCELED,
      numberOfSucceededThings: counts.SUCCEEDED,
      numberOfFailedThings: counts.FAILED,
      numberOfRejectedThings: counts.REJECTED,
      numberOfQueuedThings: counts.QUEUED,
      numberOfInProgressThings: counts.IN_PROGRESS,
      numberOfRemovedThings: counts.REMOVED,
      numberOfTimedOutThings: counts.TIMED_OUT,
    },
    timeoutConfig: job.timeoutConfig,
    jobExecutionsRetryConfig: job.jobExecutionsRetryConfig,
    isConcurrent: false,
  });
}

/** ListJobs' `jobs[]` entry. */
export function restJobSummary(job: JobRecord): Wire {
  return compact({
    jobArn: job.jobArn,
    jobId: job.jobId,
    targetSelection: job.targetSelection,
    status: job.status,
    createdAt: restTime(job.createdAt),
    lastUpdatedAt: restTime(job.lastUpdatedAt),
    completedAt: restTime(job.completedAt),
    isConcurrent: false,
  });
}

type AnyExecution = (ExecutionRecord | (ExecutionAttempt & { jobId: string; thingName: string; retryAttempt: number })) & { forceCanceled?: boolean; inProgressDeadline?: number; stepDeadline?: number };

/** Seconds left before the execution times out, if a timer runs. */
function secondsLeft(exec: AnyExecution, now: number): number | undefined {
  if (exec.status !== 'IN_PROGRESS') return undefined;
  const deadlines = [exec.inProgressDeadline, exec.stepDeadline].filter((d): d is number => d !== undefined);
  return deadlines.length === 0 ? undefined : Math.max(0, Math.round((Math.min(...deadlines) - now) / 1000));
}

/** The control plane's DescribeJobExecution `execution`. */
export function restExecution(exec: AnyExecution, thingArn: string, now: number): Wire {
  return compact({
    jobId: exec.jobId,
    status: exec.status,
    forceCanceled: exec.forceCanceled,
    statusDetails: { detailsMap: exec.statusDetails },
    thingArn,
    queuedAt: restTime(exec.queuedAt),
    startedAt: restTime(exec.startedAt),
    lastUpdatedAt: restTime(exec.lastUpdatedAt),
    executionNumber: exec.executionNumber,
    versionNumber: exec.versionNumber,
    approximateSecondsBeforeTimedOut: secondsLeft(exec, now),
  });
}

/** The control plane's `jobExecutionSummary`. */
export function restExecutionSummary(exec: ExecutionRecord): Wire {
  return compact({
    status: exec.status,
    queuedAt: restTime(exec.queuedAt),
    startedAt: restTime(exec.startedAt),
    lastUpdatedAt: restTime(exec.lastUpdatedAt),
    executionNumber: exec.executionNumber,
    retryAttempt: exec.retryAttempt,
  });
}

/** A pending-job summary of the MQTT API (GetPendingJobExecutions, notify) and of the jobs data plane. */
export function deviceSummary(exec: ExecutionRecord): Wire {
  const time = mqttTime;
  return compact({
    jobId: exec.jobId,
    executionNumber: exec.executionNumber,
    versionNumber: exec.versionNumber,
    queuedAt: time(exec.queuedAt),
    startedAt: time(exec.startedAt),
    lastUpdatedAt: time(exec.lastUpdatedAt),
  });
}

/**
 * A device's view of an execution. The MQTT API carries jobDocument as a JSON object, the jobs data plane
 * as a string; document is the text with placeholders already resolved (or undefined to leave it out).
 */
export function deviceExecution(exec: ExecutionRecord, document: string | undefined, form: 'mqtt' | 'rest', now: number): Wire {
  // Both device APIs model these times as whole epoch seconds (Long), unlike the control plane.
  const time = mqttTime;
  return compact({
    jobId: exec.jobId,
    thingName: exec.thingName,
    jobDocument: document === undefined ? undefined : form === 'mqtt' ? JSON.parse(document) : document,
    status: exec.status,
    statusDetails: exec.statusDetails,
    queuedAt: time(exec.queuedAt),
    startedAt: time(exec.startedAt),
    lastUpdatedAt: time(exec.lastUpdatedAt),
    versionNumber: exec.versionNumber,
    executionNumber: exec.executionNumber,
    approximateSecondsBeforeTimedOut: form === 'rest' ? secondsLeft(exec, now) : undefined,
  });
}
