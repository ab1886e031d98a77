/**
 * S3 listings: ListObjects v1 (markers) and v2 (continuation tokens, start-after, fetch-owner), with
 * prefix, delimiter roll-up into common prefixes and encoding-type=url.
 */
import type { RestRoute, ServiceResponse, SignedRequest } from '../contracts';
import { AwsError } from '../http/errors';
import { escapeUri } from '../http/sigv4';
import type { ObjectRecord } from './object-store';
import { iso, maxKeysOf, OWNER, xmlResponse as xml, type S3RouteContext } from './route-context';
import { s3Xml, type XmlNode } from './xml';

/** Base64 continuation token for a listing position. */
function encodeToken(last: string): string {
  return Buffer.from(last, 'utf8').toString('base64');
}

function decodeToken(token: string): string {
  const text = Buffer.from(token, 'base64').toString('utf8');
  if (token === '' || encodeToken(text) !== token) throw new AwsError('InvalidArgument', 'The continuation token provided is incorrect', 400, { ArgumentName: 'continuation-token' });
  return text;
}

interface Listing {
  contents: ObjectRecord[];
  prefixes: string[];
  truncated: boolean;
  last?: string;
}

/** The S3 listing walk: keys after a marker, rolled up into common prefixes by the delimiter. */
function listKeys(sorted: ObjectRecord[], prefix: string, delimiter: string, after: string | undefined, maxKeys: number): Listing {
  const out: Listing = { contents: [], prefixes: [], truncated: false };
  const afterBytes = after === undefined ? undefined : Buffer.from(after);
  const afterIsPrefix = after !== undefined && delimiter !== '' && after.endsWith(delimiter);
  let count = 0;
  for (const o of sorted) {
    if (afterBytes && Buffer.compare(Buffer.from(o.key), afterBytes) <= 0) continue;
    if (afterIsPrefix && o.key.startsWith(after as string)) continue;
    let entry: string = o.key;
    let isPrefix = false;
    if (delimiter !== '') {
      const i = o.key.indexOf(delimiter, prefix.length);
      if (i >= 0) {
        entry = o.key.slice(0, i + delimiter.length);
        isPrefix = true;
        if (out.prefixes[out.prefixes.length - 1] === entry) continue;
      }
    }
    if (count >= maxKeys) {
      out.truncated = true;
      break;
    }
    if (isPrefix) out.prefixes.push(entry);
    else out.contents.push(o);
    out.last = entry;
    count++;
  }
  return out;
}

/** The listing routes. */
export function listingRoutes(ctx: S3RouteContext): RestRoute[] {
  const { storage, requireBucket } = ctx;
  const listObjects = (req: SignedRequest, p: Record<string, string>, v2: boolean): ServiceResponse => {
    requireBucket(p.Bucket);
    const q = req.query;
    const prefix = q.get('prefix') ?? '';
    const delimiter = q.get('delimiter') ?? '';
    const maxKeys = maxKeysOf(q);
    const urlEncode = q.get('encoding-type') === 'url';
    if (q.has('encoding-type') && !urlEncode) throw new AwsError('InvalidArgument', 'Invalid Encoding Method specified in Request', 400, { ArgumentName: 'encoding-type' });
    const enc = (s: string | undefined) => (s === undefined || !urlEncode ? s : escapeUri(s).replace(/%2F/g, '/'));
    const token = q.get('continuation-token');
    const startAfter = q.get('start-after') ?? undefined;
    const marker = q.get('marker') ?? undefined;
    let after = v2 ? startAfter : marker;
    if (v2 && token !== null) after = decodeToken(token);
    const listing = listKeys(storage.objectsOf(p.Bucket, prefix), prefix, delimiter, after === '' ? undefined : after, maxKeys);
    const contents = listing.contents.map((o) => ({
      Key: enc(o.key),
      LastModified: iso(o.lastModified),
      ETag: o.etag,
      Size: o.size,
      ...(!v2 || q.get('fetch-owner') === 'true' ? { Owner: OWNER } : {}),
      StorageClass: 'STANDARD',
    }));
    const common = listing.prefixes.map((cp) => ({ Prefix: enc(cp) }));
    const body: XmlNode = v2
      ? {
          Name: p.Bucket,
          Prefix: enc(prefix),
          Delimiter: delimiter ? enc(delimiter) : undefined,
          MaxKeys: maxKeys,
          KeyCount: contents.length + common.length,
          IsTruncated: listing.truncated,
          ContinuationToken: token ?? undefined,
          NextContinuationToken: listing.truncated && listing.last !== undefined ? encodeToken(listing.last) : undefined,
          StartAfter: enc(startAfter),
          EncodingType: urlEncode ? 'url' : undefined,
          Contents: contents,
          CommonPrefixes: common,
        }
      : {
          Name: p.Bucket,
          Prefix: enc(prefix),
          Marker: enc(marker ?? ''),
          Delimiter: delimiter ? enc(delimiter) : undefined,
          MaxKeys: maxKeys,
          IsTruncated: listing.truncated,
          NextMarker: listing.truncated && delimiter ? enc(listing.last) : undefined,
          EncodingType: urlEncode ? 'url' : undefined,
          Contents: contents,
          CommonPrefixes: common,
        };
    return xml(200, s3Xml('ListBucketResult', body));
  };

  return [
    { method: 'GET', path: '/{Bucket}?list-type=2', action: 'ListObjectsV2', handler: async (req, p) => listObjects(req, p, true) },
    { method: 'GET', path: '/{Bucket}', action: 'ListObjects', handler: async (req, p) => listObjects(req, p, false) },
  ];
}
