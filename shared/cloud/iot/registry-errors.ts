/**
 * The AWS IoT control-plane errors the registry throws: AwsError subclasses with the codes and HTTP
 * statuses of AWS IoT, so the router renders them with `x-amzn-ErrorType` and the SDK raises each under
 * the same `name` as against AWS.
 */
import { AwsError } from '../http/errors';

/** AWS IoT error codes and the HTTP status AWS answers them with. */
export const IOT_ERROR_STATUS = {
  InvalidRequestException: 400,
  MalformedPolicyException: 400,
  CertificateValidationException: 400,
  UnauthorizedException: 401,
  ResourceNotFoundException: 404,
  CertificateStateException: 406,
  ResourceAlreadyExistsException: 409,
  DeleteConflictException: 409,
  VersionConflictException: 409,
  VersionsLimitExceededException: 409,
  CertificateConflictException: 409,
  LimitExceededException: 410,
  InternalFailureException: 500,
} as const;

/** One of the error codes above. */
export type IotErrorCode = keyof typeof IOT_ERROR_STATUS;

/** An AWS IoT error; extra fields (resourceId, resourceArn) go into the JSON body as AWS sends them. */
export class IotError extends AwsError {
  constructor(code: IotErrorCode, message: string, fields: Record<string, string> = {}) {
    super(code, message, IOT_ERROR_STATUS[code], fields);
  }
}

/** InvalidRequestException (400). */
export function invalidRequest(message: string): IotError {
  return new IotError('InvalidRequestException', message);
}

/** ResourceNotFoundException (404). */
export function notFound(message: string): IotError {
  return new IotError('ResourceNotFoundException', message);
}

/** ResourceAlreadyExistsException (409) naming the existing resource, as AWS does. */
export function alreadyExists(message: string, resourceId: string, resourceArn: string): IotError {
  return new IotError('ResourceAlreadyExistsException', message, { resourceId, resourceArn });
}
