/**
 * S3 REST operations (restXml, path-style `/{Bucket}/{Key+}`) as @aws-sdk/client-s3 calls them, one
 * file per family: buckets (bucket-routes.ts), listings (listing-routes.ts), objects (object-routes.ts)
 * and multipart uploads (multipart-routes.ts), all over the shared context of route-context.ts.
 */
import type { RestRoute } from '../contracts';
import { bucketRoutes } from './bucket-routes';
import { listingRoutes } from './listing-routes';
import { multipartRoutes } from './multipart-routes';
import { objectRoutes } from './object-routes';
import { createRouteContext, type S3RouteOptions } from './route-context';

export { MIN_PART_SIZE, type S3RouteOptions } from './route-context';

/** Every S3 route, bound to one storage. */
export function s3Routes(options: S3RouteOptions): RestRoute[] {
  const ctx = createRouteContext(options);
  return [...bucketRoutes(ctx), ...listingRoutes(ctx), ...multipartRoutes(ctx), ...objectRoutes(ctx)];
}
