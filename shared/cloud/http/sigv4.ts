/**
 * AWS Signature Version 4 verification, written against the published algorithm and checked in tests
 * against the SDK's own signer (@smithy/signature-v4) and the real clients: the server rebuilds the
 * canonical request from the bytes it received and compares HMACs in constant time.
 *
 * Handles the Authorization header form and the query-string (pre-signed URL) form, S3's path rules (no
 * normalisation, no double encoding) versus every other service's (normalised, double-encoded path), and
 * the payload hash modes UNSIGNED-PAYLOAD, STREAMING-* (see aws-chunked.ts) and a literal sha256.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { AwsError } from './errors';

export const SIGV4_ALGORITHM = 'AWS4-HMAC-SHA256';
export const EMPTY_SHA256 = createHash('sha256').update('').digest('hex');
/** Longest lifetime of a pre-signed URL: 7 days. */
export const MAX_PRESIGNED_EXPIRES_SECONDS = 604800;

/** What a request's signature claims, parsed from the Authorization header or the query string. */
export interface SigV4Claim {
  accessKeyId: string;
  /** YYYYMMDD from the credential scope. */
  scopeDate: string;
  region: string;
  service: string;
  /** Lower-case names, in the order given. */
  signedHeaders: string[];
  signature: string;
  /** X-Amz-Date, e.g. 20260101T120000Z. */
  amzDate: string;
  /** Milliseconds since the epoch of amzDate. */
  signedAt: number;
  /** Pre-signed URL: true, with its lifetime in seconds. */
  presigned: boolean;
  expiresSeconds?: number;
}

/** The parts of an HTTP request the signature covers, exactly as received. */
export interface RawRequest {
  method: string;
  /** Path as sent on the wire (still percent-encoded), without the query string. */
  rawPath: string;
  /** Query string as sent, without the leading '?'. */
  rawQuery: string;
  /** Node's rawHeaders: [name, value, name, value, ...]. */
  rawHeaders: string[];
}

/** Credential scope `AKID/date/region/service/aws4_request` → its parts, or an AWS error. */
function parseCredential(credential: string, service: string | undefined): Omit<SigV4Claim, 'signedHeaders' | 'signature' | 'amzDate' | 'signedAt' | 'presigned'> {
  const parts = credential.split('/');
  if (parts.length !== 5 || parts[4] !== 'aws4_request' || !/^\d{8}$/.test(parts[1]) || !parts[0] || !parts[2] || !parts[3]) {
    throw new AwsError(
      service === 's3' ? 'AuthorizationHeaderMalformed' : 'IncompleteSignatureException',
      `The credential '${credential}' is malformed; expected "<access key id>/<YYYYMMDD>/<region>/<service>/aws4_request".`,
      service === 's3' ? 400 : 403,
    );
  }
  return { accessKeyId: parts[0], scopeDate: parts[1], region: parts[2], service: parts[3] };
}

/** Milliseconds since the epoch of an ISO-8601 basic timestamp (20260101T120000Z), or NaN. */
export function parseAmzDate(amzDate: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  if (!m) return NaN;
  return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
}

/** Service named by the request's credential scope, or undefined when the request carries no SigV4 auth. */
export function scopeServiceOf(authorization: string | undefined, query: URLSearchParams): string | undefined {
  const credential = authorization?.startsWith(SIGV4_ALGORITHM)
    ? /Credential=([^,\s]+)/.exec(authorization)?.[1]
    : query.get('X-Amz-Credential') ?? undefined;
  return credential?.split('/')[3] || undefined;
}

/**
 * Parse the SigV4 claim of a request; undefined when the request carries no signature at all.
 * Throws AwsError when a signature is present but malformed.
 */
export function parseSigV4(authorization: string | undefined, amzDateHeader: string | undefined, query: URLSearchParams): SigV4Claim | undefined {
  if (authorization !== undefined && authorization !== '') {
    const service = scopeServiceOf(authorization, query);
    if (!authorization.startsWith(SIGV4_ALGORITHM + ' ')) {
      throw new AwsError(
        service === 's3' ? 'InvalidArgument' : 'IncompleteSignatureException',
        `Unsupported Authorization type; only ${SIGV4_ALGORITHM} is accepted.`,
        service === 's3' ? 400 : 403,
      );
    }
    const fields: Record<string, string> = {};
    for (const part of authorization.slice(SIGV4_ALGORITHM.length + 1).split(',')) {
      const eq = part.indexOf('=');
      if (eq > 0) fields[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
    }
    if (!fields.Credential || !fields.SignedHeaders || !fields.Signature) {
      throw new AwsError(
        service === 's3' ? 'AuthorizationHeaderMalformed' : 'IncompleteSignatureException',
        'Authorization header requires Credential, SignedHeaders and Signature.',
        service === 's3' ? 400 : 403,
      );
    }
    const cred = parseCredential(fields.Credential, service);
    const amzDate = amzDateHeader ?? '';
    const signedAt = parseAmzDate(amzDate);
    if (Number.isNaN(signedAt)) {
      throw new AwsError(
        cred.service === 's3' ? 'AccessDenied' : 'IncompleteSignatureException',
        'AWS authentication requires a valid X-Amz-Date header (YYYYMMDDTHHMMSSZ).',
        403,
      );
    }
    return {
      ...cred,
      signedHeaders: fields.SignedHeaders.toLowerCase().split(';'),
      signature: fields.Signature,
      amzDate,
      signedAt,
      presigned: false,
    };
  }
  const credential = query.get('X-Amz-Credential');
  if (credential === null) return undefined;
  const service = credential.split('/')[3];
  const s3 = service === 's3';
  const algorithm = query.get('X-Amz-Algorithm');
  const amzDate = query.get('X-Amz-Date') ?? '';
  const signedHeaders = query.get('X-Amz-SignedHeaders');
  const signature = query.get('X-Amz-Signature');
  const expires = query.get('X-Amz-Expires');
  if (algorithm !== SIGV4_ALGORITHM || !signedHeaders || !signature || expires === null) {
    throw new AwsError(
      s3 ? 'AuthorizationQueryParametersError' : 'IncompleteSignatureException',
      `Query-string authentication requires X-Amz-Algorithm=${SIGV4_ALGORITHM}, X-Amz-Credential, X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders and X-Amz-Signature.`,
      s3 ? 400 : 403,
    );
  }
  const expiresSeconds = Number(expires);
  // S3's messages; a pre-signed URL lives at most 7 days.
  const expiresProblem = !/^\d+$/.test(expires)
    ? 'X-Amz-Expires should be a number'
    : expiresSeconds < 1
      ? 'X-Amz-Expires must be at least 1 second'
      : expiresSeconds > MAX_PRESIGNED_EXPIRES_SECONDS
        ? `X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than ${MAX_PRESIGNED_EXPIRES_SECONDS} seconds`
        : undefined;
  if (expiresProblem) throw new AwsError(s3 ? 'AuthorizationQueryParametersError' : 'IncompleteSignatureException', expiresProblem, s3 ? 400 : 403);
  const signedAt = parseAmzDate(amzDate);
  if (Number.isNaN(signedAt)) {
    throw new AwsError(s3 ? 'AuthorizationQueryParametersError' : 'IncompleteSignatureException', 'X-Amz-Date must be YYYYMMDDTHHMMSSZ.', s3 ? 400 : 403);
  }
  return {
    ...parseCredential(credential, service),
    signedHeaders: signedHeaders.toLowerCase().split(';'),
    signature,
    amzDate,
    signedAt,
    presigned: true,
    expiresSeconds,
  };
}

/** RFC 3986 encoding as the AWS signers do it (encodeURIComponent plus !'()*). */
export function escapeUri(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

/** Percent-decode without throwing on malformed escapes (they stay as they are). */
export function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Canonical URI: S3 signs the path as sent; other services sign it normalised and encoded once more. */
export function canonicalPath(rawPath: string, service: string): string {
  const path = rawPath === '' ? '/' : rawPath;
  if (service === 's3') return path;
  const segments: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const normalized = `${path.startsWith('/') ? '/' : ''}${segments.join('/')}${segments.length > 0 && path.endsWith('/') ? '/' : ''}`;
  return escapeUri(normalized).replace(/%2F/g, '/');
}

/** Canonical query string: decoded pairs re-encoded, sorted by key then value, without X-Amz-Signature. */
export function canonicalQuery(rawQuery: string): string {
  const byKey = new Map<string, string[]>();
  for (const pair of rawQuery.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const key = safeDecode(eq < 0 ? pair : pair.slice(0, eq));
    const value = eq < 0 ? '' : safeDecode(pair.slice(eq + 1));
    if (key.toLowerCase() === 'x-amz-signature') continue;
    const encodedKey = escapeUri(key);
    const list = byKey.get(encodedKey) ?? [];
    list.push(`${encodedKey}=${escapeUri(value)}`);
    byKey.set(encodedKey, list);
  }
  return [...byKey.keys()]
    .sort()
    .map((k) => (byKey.get(k) as string[]).sort().join('&'))
    .join('&');
}

/** Header values by lower-case name, repeated headers joined with ',' as SigV4 requires. */
export function headerValues(rawHeaders: string[]): Map<string, string> {
  const values = new Map<string, string[]>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i].toLowerCase();
    const list = values.get(name) ?? [];
    list.push(rawHeaders[i + 1].trim().replace(/\s+/g, ' '));
    values.set(name, list);
  }
  return new Map([...values].map(([k, v]) => [k, v.join(',')]));
}

/** The canonical request of SigV4, rebuilt from what was received. */
export function canonicalRequest(req: RawRequest, claim: SigV4Claim, payloadHash: string): string {
  const headers = headerValues(req.rawHeaders);
  const canonicalHeaders = claim.signedHeaders.map((name) => `${name}:${headers.get(name) ?? ''}\n`).join('');
  return [
    req.method,
    canonicalPath(req.rawPath, claim.service),
    canonicalQuery(req.rawQuery),
    canonicalHeaders,
    claim.signedHeaders.join(';'),
    payloadHash,
  ].join('\n');
}

/** Credential scope string of a claim: date/region/service/aws4_request. */
export function credentialScope(claim: Pick<SigV4Claim, 'scopeDate' | 'region' | 'service'>): string {
  return `${claim.scopeDate}/${claim.region}/${claim.service}/aws4_request`;
}

const signingKeys = new Map<string, Buffer>();

/** The derived signing key for a secret and scope (cached: it changes once a day per scope). */
export function signingKey(secret: string, scopeDate: string, region: string, service: string): Buffer {
  const cacheKey = `${secret}\n${scopeDate}\n${region}\n${service}`;
  let key = signingKeys.get(cacheKey);
  if (!key) {
    const kDate = createHmac('sha256', 'AWS4' + secret).update(scopeDate).digest();
    const kRegion = createHmac('sha256', kDate).update(region).digest();
    const kService = createHmac('sha256', kRegion).update(service).digest();
    key = createHmac('sha256', kService).update('aws4_request').digest();
    if (signingKeys.size > 256) signingKeys.clear();
    signingKeys.set(cacheKey, key);
  }
  return key;
}

/** The signature the request should carry if it was signed with secret. */
export function expectedSignature(req: RawRequest, claim: SigV4Claim, secret: string, payloadHash: string): string {
  const hashedCanonical = createHash('sha256').update(canonicalRequest(req, claim, payloadHash)).digest('hex');
  const stringToSign = [SIGV4_ALGORITHM, claim.amzDate, credentialScope(claim), hashedCanonical].join('\n');
  return createHmac('sha256', signingKey(secret, claim.scopeDate, claim.region, claim.service)).update(stringToSign).digest('hex');
}

/** Constant-time comparison of two hex signatures. */
export function signaturesEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}
