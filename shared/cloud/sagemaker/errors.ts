/**
 * SageMaker errors as the service returns them over awsJson1.1: HTTP 400 with `__type` = the code. Modeled
 * codes (ResourceNotFound, ResourceInUse, ResourceLimitExceeded, ConflictException) become their SDK
 * classes; ValidationException is unmodeled, so the SDK throws SageMakerServiceException with that name.
 * SageMaker also answers "not found" with ValidationException where the operation models no error.
 */
import { AwsError } from '../http/errors';

/** 400 ValidationException: bad input, or an unknown resource where no error is modeled. */
export function validationError(message: string): AwsError {
  return new AwsError('ValidationException', message, 400);
}

/** 400 ResourceNotFound (modeled on Describe* of fleets, devices and jobs). */
export function resourceNotFound(message: string): AwsError {
  return new AwsError('ResourceNotFound', message, 400);
}

/** 400 ResourceInUse: the name is taken, or the resource still has dependants. */
export function resourceInUse(message: string): AwsError {
  return new AwsError('ResourceInUse', message, 400);
}

/** 400 ResourceLimitExceeded: a configured quota of the local cloud is reached. */
export function resourceLimitExceeded(message: string): AwsError {
  return new AwsError('ResourceLimitExceeded', message, 400);
}

/** 400 ConflictException: the request conflicts with the resource's current state. */
export function conflict(message: string): AwsError {
  return new AwsError('ConflictException', message, 400);
}
