/**
 * What a job does when executions fail: retry an execution (jobExecutionsRetryConfig) or abort the whole
 * job (abortConfig). Pure decisions on the records; the engine applies them.
 */
import type { AbortCriteria, ExecutionRecord, ExecutionStatus, JobRecord, RetryFailureType } from './records';

/** The retry criterion a failure uses, if the job has retries of that kind left. */
export function retryCriterion(job: JobRecord, exec: ExecutionRecord, status: ExecutionStatus): RetryFailureType | undefined {
  if (job.status !== 'IN_PROGRESS' || (status !== 'FAILED' && status !== 'TIMED_OUT')) return undefined;
  const list = job.jobExecutionsRetryConfig?.criteriaList ?? [];
  const criterion = list.find((c) => c.failureType === status) ?? list.find((c) => c.failureType === 'ALL');
  if (!criterion) return undefined;
  const used = exec.retriesByType[criterion.failureType] ?? 0;
  return used < criterion.numberOfRetries ? criterion.failureType : undefined;
}

/**
 * Abort: once at least minNumberOfExecutedThings executions have ended (SUCCEEDED, FAILED, REJECTED,
 * TIMED_OUT), and failures of the criterion's type make up at least thresholdPercentage of them, the
 * job is CANCELED: QUEUED executions are canceled, IN_PROGRESS ones run on, no more are queued.
 * Returns the cancel comment of the first criterion met, or undefined.
 */
export function abortComment(criteria: AbortCriteria[], c: Record<ExecutionStatus, number>): string | undefined {
  const executed = c.SUCCEEDED + c.FAILED + c.REJECTED + c.TIMED_OUT;
  const failures = (t: AbortCriteria['failureType']): number => (t === 'ALL' ? c.FAILED + c.REJECTED + c.TIMED_OUT : c[t]);
  for (const crit of criteria) {
    if (executed < crit.minNumberOfExecutedThings) continue;
    const pct = (failures(crit.failureType) * 100) / executed;
    if (pct >= crit.thresholdPercentage) {
      return `Aborted: ${failures(crit.failureType)} of ${executed} executed things ended ${crit.failureType === 'ALL' ? 'FAILED, REJECTED or TIMED_OUT' : crit.failureType} (${pct.toFixed(2)}% >= ${crit.thresholdPercentage}%)`;
    }
  }
  return undefined;
}
