/**
 * Errors of IoT Jobs with their AWS codes. The control plane renders them as restJson1 errors (the router
 * reads code, status and message); the MQTT API maps them to its own rejected codes.
 */
import type { AwsErrorShape } from '../contracts';
import type { ExecutionRecord } from './records';

/** An IoT Jobs error: AWS code, HTTP status, message, and for MQTT the execution it concerns. */
export class JobsError extends Error implements AwsErrorShape {
  readonly code: string;
  readonly status: number;
  /** The execution as it stands, for VersionMismatch and InvalidStateTransition rejections. */
  readonly execution?: ExecutionRecord;

  constructor(code: string, message: string, status: number, execution?: ExecutionRecord) {
    super(message);
    this.name = code;
    this.code = code;
    this.status = status;
    this.execution = execution;
  }
}

/** 400 InvalidRequestException. */
export function invalidRequest(message: string): JobsError {
  return new JobsError('InvalidRequestException', message, 400);
}

/** 404 ResourceNotFoundException. */
export function notFound(message: string): JobsError {
  return new JobsError('ResourceNotFoundException', message, 404);
}

/** 409 InvalidStateTransitionException. */
export function invalidTransition(message: string, execution?: ExecutionRecord): JobsError {
  return new JobsError('InvalidStateTransitionException', message, 409, execution);
}

/** 409 VersionConflictException. */
export function versionConflict(message: string, execution?: ExecutionRecord): JobsError {
  return new JobsError('VersionConflictException', message, 409, execution);
}

/** 410 TerminalStateException (jobs data plane: describing an execution that has ended). */
export function terminalState(message: string, execution?: ExecutionRecord): JobsError {
  return new JobsError('TerminalStateException', message, 410, execution);
}

/** 409 ResourceAlreadyExistsException (CreateJob with a jobId in use). */
export function alreadyExists(message: string): JobsError {
  return new JobsError('ResourceAlreadyExistsException', message, 409);
}

/** 410 LimitExceededException. */
export function limitExceeded(message: string): JobsError {
  return new JobsError('LimitExceededException', message, 410);
}

/** 500 InternalFailureException: a change could not be made durable, so it was undone. */
export function stateNotSaved(cause: unknown): JobsError {
  return new JobsError('InternalFailureException', `The change could not be saved (${(cause as Error).message}); nothing was changed, retry later`, 500);
}

const MQTT_CODES: Record<string, string> = {
  InvalidRequestException: 'InvalidRequest',
  ResourceNotFoundException: 'ResourceNotFound',
  InvalidStateTransitionException: 'InvalidStateTransition',
  VersionConflictException: 'VersionMismatch',
  TerminalStateException: 'TerminalStateReached',
  ThrottlingException: 'RequestThrottled',
};

/** The MQTT Jobs API code (InvalidRequest, VersionMismatch, ...) for an error thrown by the engine. */
export function mqttCode(err: unknown): string {
  if (err instanceof JobsError) return MQTT_CODES[err.code] ?? 'InternalError';
  return 'InternalError';
}
