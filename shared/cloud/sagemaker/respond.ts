/**
 * awsJson1.1 plumbing shared by the SageMaker routes: one `POST /` route per operation (the router matches
 * X-Amz-Target `SageMaker.<Action>`), the body parsed into Fields, the answer as JSON with undefined
 * members left out.
 */
import type { RestRoute, ServiceResponse } from '../contracts';
import { Fields } from './validate';

/** A SageMaker operation: reads its input, returns its output (or nothing for empty-output operations). */
export type Operation = (input: Fields) => Promise<Record<string, unknown> | void> | Record<string, unknown> | void;

/** The awsJson1.1 success response. */
export function jsonResponse(body: Record<string, unknown> = {}): ServiceResponse {
  return { status: 200, headers: { 'content-type': 'application/x-amz-json-1.1' }, body: JSON.stringify(body) };
}

/** Routes for a table of operations keyed by action name. */
export function operationRoutes(ops: Record<string, Operation>): RestRoute[] {
  return Object.entries(ops).map(([action, op]) => ({
    method: 'POST',
    path: '/',
    action,
    async handler(req) {
      const out = await op(Fields.parse(req.body, action));
      return jsonResponse(out ?? {});
    },
  }));
}
