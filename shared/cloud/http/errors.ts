/**
 * AWS errors as the official clients read them. Handlers throw AwsError; the server renders it in the
 * protocol of the service that was called:
 * - restXml (S3): `<Error><Code/><Message/><RequestId/></Error>`, no body for HEAD;
 * - restJson1 (iot, iot-jobs-data, greengrass) and awsJson1.x (sagemaker): header `x-amzn-ErrorType` and
 *   body `{"__type", "message"}` — the SDK takes the code from the header (restJson1) or `__type`
 *   (awsJson), so `err.name` in the SDK is the code.
 */
import type { AwsErrorShape, ServiceResponse } from '../contracts';

/** Wire protocols the cloud speaks; decides how errors (and unknown routes) are rendered. */
export type AwsProtocol = 'restXml' | 'restJson1' | 'awsJson1.0' | 'awsJson1.1';

/** An error with an AWS code and HTTP status; throw it from a route handler. */
export class AwsError extends Error implements AwsErrorShape {
  readonly code: string;
  readonly status: number;
  /** Extra members for the error body (S3: BucketName, Key...; JSON: resourceId...). */
  readonly fields: Record<string, string | number | boolean>;
  /** Extra response headers (e.g. Retry-After). */
  readonly headers: Record<string, string>;

  constructor(
    code: string,
    message: string,
    status = 400,
    fields: Record<string, string | number | boolean> = {},
    headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = code;
    this.code = code;
    this.status = status;
    this.fields = fields;
    this.headers = headers;
  }
}

/** True for anything carrying an AWS code, status and message (AwsError or another AwsErrorShape). */
export function isAwsErrorShape(err: unknown): err is AwsErrorShape {
  const e = err as Partial<AwsErrorShape> | null;
  return !!e && typeof e === 'object' && typeof e.code === 'string' && typeof e.status === 'number' && typeof e.message === 'string';
}

/** Escape text for an XML element body. */
export function xmlEscape(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] as string);
}

/** Render an AWS error as the given protocol's HTTP response. */
export function renderAwsError(
  err: AwsErrorShape,
  protocol: AwsProtocol,
  requestId: string,
  method: string,
): ServiceResponse {
  const fields = err instanceof AwsError ? err.fields : {};
  const extraHeaders = err instanceof AwsError ? err.headers : {};
  const headers: Record<string, string> = { 'x-amzn-requestid': requestId, ...extraHeaders };
  if (protocol === 'restXml') {
    headers['x-amz-request-id'] = requestId;
    if (method === 'HEAD') return { status: err.status, headers };
    const extra = Object.entries(fields)
      .map(([k, v]) => `<${k}>${xmlEscape(String(v))}</${k}>`)
      .join('');
    const body =
      '<?xml version="1.0" encoding="UTF-8"?>\n' +
      `<Error><Code>${xmlEscape(err.code)}</Code><Message>${xmlEscape(err.message)}</Message>${extra}` +
      `<RequestId>${requestId}</RequestId></Error>`;
    headers['content-type'] = 'application/xml';
    return { status: err.status, headers, body };
  }
  headers['x-amzn-errortype'] = err.code;
  headers['content-type'] = protocol === 'restJson1' ? 'application/json' : `application/x-amz-json-${protocol.slice(7)}`;
  if (method === 'HEAD') return { status: err.status, headers };
  return { status: err.status, headers, body: JSON.stringify({ __type: err.code, message: err.message, ...fields }) };
}
