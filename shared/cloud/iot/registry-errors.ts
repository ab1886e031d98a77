/**
 * The AWS IoT control-plane errors the registry throws. Each is an Error that also satisfies AwsErrorShape,
 * so the router renders it with the status and `x-amzn-ErrorType` AWS uses and the SDK raises it under
 * the same `name` as against AWS.
 */
import type { AwsErrorShape } from '../contracts';

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
export class IotError extends Error implements AwsErrorShape {
  readonly code: IotErrorCode;
  readonly status: number;
  readonly extra: Record<string, string>;

  constructor(code: IotErrorCode, message: string, extra: Record<string, string> = {}) {
    super(message);
    this.name = code;
    this.code = code;
    this.status = IOT_ERROR_STATUS[code];
    this.extra = extra;
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
