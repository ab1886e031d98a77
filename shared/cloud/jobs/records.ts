/**
 * The records IoT Jobs keeps (jobs and job executions) and the rules for their states, as AWS documents
 * them. Times are milliseconds since the epoch here; the wire shapes convert them to epoch seconds.
 */

/** States of one job execution on one thing. */
export type ExecutionStatus = 'QUEUED' | 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'REJECTED' | 'REMOVED' | 'CANCELED';

/** States of a job. DELETION_IN_PROGRESS is never observed here: deletion is done within the request. */
export type JobStatus = 'IN_PROGRESS' | 'CANCELED' | 'COMPLETED' | 'DELETION_IN_PROGRESS';

/** SNAPSHOT: the targets at creation; CONTINUOUS: also things that join a target group later. */
export type TargetSelection = 'SNAPSHOT' | 'CONTINUOUS';

/** Every execution status, in the order the control plane reports counts. */
export const EXECUTION_STATUSES: readonly ExecutionStatus[] = [
  'QUEUED', 'IN_PROGRESS', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'REJECTED', 'REMOVED', 'CANCELED',
];

/** Statuses after which nothing changes an execution again (except a retry, which starts a new one). */
export const TERMINAL_STATUSES: ReadonlySet<ExecutionStatus> = new Set(['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'REJECTED', 'REMOVED', 'CANCELED']);

/** Statuses a device may report through UpdateJobExecution. */
export const DEVICE_STATUSES: ReadonlySet<string> = new Set(['IN_PROGRESS', 'SUCCEEDED', 'FAILED', 'REJECTED']);

/** True when status ends an execution. */
export function isTerminal(status: ExecutionStatus): boolean {
  return TERMINAL_STATUSES.has(status);
}

/**
 * Whether a device may move an execution from `from` to `to` (DG iot-jobs-lifecycle): QUEUED may go
 * anywhere a device can report (QUEUED→SUCCEEDED|FAILED is not documented either way; we allow it),
 * IN_PROGRESS may be repeated or end, a terminal execution never moves.
 */
export function deviceMayMove(from: ExecutionStatus, to: ExecutionStatus): boolean {
  if (!DEVICE_STATUSES.has(to)) return false;
  return from === 'QUEUED' || from === 'IN_PROGRESS';
}

/** A rollout rate that starts at baseRatePerMinute and grows by incrementFactor at each criterion multiple. */
export interface ExponentialRollout {
  baseRatePerMinute: number;
  incrementFactor: number;
  rateIncreaseCriteria: { numberOfNotifiedThings?: number; numberOfSucceededThings?: number };
}

/** jobExecutionsRolloutConfig: how fast things are notified. */
export interface RolloutConfig {
  maximumPerMinute?: number;
  exponentialRate?: ExponentialRollout;
}

/** Execution outcomes an abort criterion counts. */
export type AbortFailureType = 'FAILED' | 'REJECTED' | 'TIMED_OUT' | 'ALL';

/** One abortConfig criterion: cancel the job once failures reach thresholdPercentage of executed things. */
export interface AbortCriteria {
  failureType: AbortFailureType;
  action: 'CANCEL';
  thresholdPercentage: number;
  minNumberOfExecutedThings: number;
}

/** Execution outcomes a retry criterion re-queues. */
export type RetryFailureType = 'FAILED' | 'TIMED_OUT' | 'ALL';

/** One jobExecutionsRetryConfig criterion. */
export interface RetryCriteria {
  failureType: RetryFailureType;
  numberOfRetries: number;
}

/** What CreateJob accepted, validated. */
export interface JobSpec {
  jobId: string;
  targets: string[];
  document?: string;
  documentSource?: string;
  description?: string;
  targetSelection: TargetSelection;
  presignedUrlConfig?: { roleArn?: string; expiresInSec?: number };
  jobExecutionsRolloutConfig?: RolloutConfig;
  abortConfig?: { criteriaList: AbortCriteria[] };
  timeoutConfig?: { inProgressTimeoutInMinutes?: number };
  jobExecutionsRetryConfig?: { criteriaList: RetryCriteria[] };
}

/** A job as stored. */
export interface JobRecord extends JobSpec {
  jobArn: string;
  /** The job document (fetched from documentSource at creation when given that way). */
  document: string;
  status: JobStatus;
  forceCanceled?: boolean;
  reasonCode?: string;
  comment?: string;
  createdAt: number;
  lastUpdatedAt: number;
  completedAt?: number;
  /** Things in the target set that have no execution yet (the rollout has not reached them). */
  pendingThings: string[];
  /** Rollout bookkeeping: start of the current one-minute window and how many were released in it. */
  rollout: { windowStart: number; releasedInWindow: number; notified: number };
  /** Creation order, for stable listing. */
  seq: number;
}

/** One earlier attempt of an execution that was retried: the record's per-attempt fields. */
export type ExecutionAttempt = Pick<ExecutionRecord, 'executionNumber' | 'status' | 'statusDetails' | 'queuedAt' | 'startedAt' | 'lastUpdatedAt' | 'versionNumber'>;

/** The execution of one job on one thing (the latest attempt; earlier ones in history). */
export interface ExecutionRecord {
  jobId: string;
  thingName: string;
  status: ExecutionStatus;
  statusDetails: Record<string, string>;
  queuedAt: number;
  startedAt?: number;
  lastUpdatedAt: number;
  versionNumber: number;
  executionNumber: number;
  /** Retries so far, in total and per retry criterion failure type. */
  retryAttempt: number;
  retriesByType: Partial<Record<RetryFailureType, number>>;
  forceCanceled?: boolean;
  /** Deadline of the in-progress timeout (fixed when the execution starts). */
  inProgressDeadline?: number;
  /** Deadline of the current step timeout (set by start-next or an IN_PROGRESS update). */
  stepDeadline?: number;
  /** Queue order among this thing's executions (ties of queuedAt). */
  seq: number;
  history: ExecutionAttempt[];
}

/** Key of an execution in the store. */
export function executionKey(jobId: string, thingName: string): string {
  return `${jobId}/${thingName}`;
}

/** The execution's current attempt as a history entry (kept when it is retried or re-queued). */
export function attemptOf(exec: ExecutionRecord): ExecutionAttempt {
  const a: ExecutionAttempt = {
    executionNumber: exec.executionNumber,
    status: exec.status,
    statusDetails: { ...exec.statusDetails },
    queuedAt: exec.queuedAt,
    lastUpdatedAt: exec.lastUpdatedAt,
    versionNumber: exec.versionNumber,
  };
  if (exec.startedAt !== undefined) a.startedAt = exec.startedAt;
  return a;
}
