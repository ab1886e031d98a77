/** S3 bucket operations: ListBuckets, CreateBucket, HeadBucket, DeleteBucket, GetBucketLocation. */
import type { RestRoute } from '../contracts';
import { AwsError } from '../http/errors';
import { iso, OWNER, xmlResponse as xml, type S3RouteContext } from './route-context';
import { readXmlDocument, s3Xml, S3_XMLNS, xmlChildText } from './xml';

/** AWS bucket naming rules (the subset that matters here). */
export function validateBucketName(name: string): void {
  const ok =
    /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name) && !name.includes('..') && !/^\d+\.\d+\.\d+\.\d+$/.test(name) && !name.includes('.-') && !name.includes('-.');
  if (!ok) {
    throw new AwsError(
      'InvalidBucketName',
      `The specified bucket is not valid: "${name}" must be 3-63 characters of lower-case letters, digits, '.' and '-', starting and ending with a letter or digit.`,
      400,
      { BucketName: name },
    );
  }
}

/** The bucket routes. */
export function bucketRoutes(ctx: S3RouteContext): RestRoute[] {
  const { storage, clock, region, requireBucket } = ctx;
  return [
    {
      method: 'GET',
      path: '/',
      action: 'ListBuckets',
      handler: async () => {
        const buckets = storage.buckets.values().sort((a, b) => (a.name < b.name ? -1 : 1));
        return xml(
          200,
          s3Xml('ListAllMyBucketsResult', {
            Owner: OWNER,
            Buckets: { Bucket: buckets.map((b) => ({ Name: b.name, CreationDate: iso(b.createdAt), BucketRegion: b.region })) },
          }),
        );
      },
    },
    {
      method: 'PUT',
      path: '/{Bucket}',
      action: 'CreateBucket',
      handler: async (req, p) => {
        validateBucketName(p.Bucket);
        let location = region;
        if (req.body.length > 0) {
          const doc = readXmlDocument(req.body, 'CreateBucketConfiguration');
          location = xmlChildText(doc, 'LocationConstraint') || 'us-east-1';
        }
        if (location !== region) {
          throw new AwsError('IllegalLocationConstraintException', `The ${location} location constraint is incompatible for the region specific endpoint this request was sent to (${region}).`, 400);
        }
        if (storage.buckets.get(p.Bucket)) {
          // As AWS: us-east-1 answers 200 to re-creating your own bucket, other regions 409.
          if (region === 'us-east-1') return { status: 200, headers: { location: `/${p.Bucket}` } };
          throw new AwsError('BucketAlreadyOwnedByYou', 'Your previous request to create the named bucket succeeded and you already own it.', 409, { BucketName: p.Bucket });
        }
        storage.buckets.put(p.Bucket, { name: p.Bucket, createdAt: clock.now(), region });
        return { status: 200, headers: { location: `/${p.Bucket}` } };
      },
    },
    {
      method: 'HEAD',
      path: '/{Bucket}',
      action: 'HeadBucket',
      handler: async (_req, p) => {
        const b = requireBucket(p.Bucket);
        return { status: 200, headers: { 'x-amz-bucket-region': b.region } };
      },
    },
    {
      method: 'DELETE',
      path: '/{Bucket}',
      action: 'DeleteBucket',
      handler: async (_req, p) => {
        requireBucket(p.Bucket);
        if (storage.bucketInUse(p.Bucket)) throw new AwsError('BucketNotEmpty', 'The bucket you tried to delete is not empty', 409, { BucketName: p.Bucket });
        storage.buckets.delete(p.Bucket);
        return { status: 204 };
      },
    },
    {
      method: 'GET',
      path: '/{Bucket}?location',
      action: 'GetBucketLocation',
      handler: async (_req, p) => {
        const b = requireBucket(p.Bucket);
        const constraint = b.region === 'us-east-1' ? '' : b.region;
        return xml(200, `<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint xmlns="${S3_XMLNS}">${constraint}</LocationConstraint>`);
      },
    },
  ];
}
