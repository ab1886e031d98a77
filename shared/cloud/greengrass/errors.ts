/**
 * Greengrass v2 errors as the service returns them over restJson1 (x-amzn-errortype + body), so the
 * official client throws its modeled classes: ValidationException 400 {message, reason, fields},
 * ResourceNotFoundException 404 and ConflictException 409 {resourceId, resourceType}.
 */
import { AwsError } from '../http/errors';

/** A field that failed validation, as the SDK's ValidationExceptionField. */
export interface FieldProblem {
  name: string;
  message: string;
}

/** 400 ValidationException; fields name what is wrong (the message lists them too). */
export function validation(message: string, fields: FieldProblem[] = [], reason = 'FIELD_VALIDATION_FAILED'): AwsError {
  const err = new AwsError('ValidationException', message, 400, { reason });
  // AwsError's fields are scalar; the list goes into the body through this extra member.
  (err.fields as Record<string, unknown>).fields = fields;
  return err;
}

/** 404 ResourceNotFoundException. */
export function notFound(message: string, resourceId: string, resourceType: string): AwsError {
  return new AwsError('ResourceNotFoundException', message, 404, { resourceId, resourceType });
}

/** 409 ConflictException. */
export function conflict(message: string, resourceId: string, resourceType: string): AwsError {
  return new AwsError('ConflictException', message, 409, { resourceId, resourceType });
}
