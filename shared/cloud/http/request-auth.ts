/**
 * Authentication of a request from what arrives before its body: the SigV4 claim's key, scope and time,
 * the headers it signed, and the payload hash it declares. When the hash is declared (S3 always; any
 * service that sends x-amz-content-sha256) the signature is verified here, before one byte of the body
 * is read; the returned plan says how the body must then be checked as it arrives.
 *
 * Refusals carry the service's AWS error shape, with S3's codes and messages for S3.
 */
import type { Clock } from '../contracts';
import type { CloudCredentials } from '../credentials';
import { AwsError } from './errors';
import { credentialScope, expectedSignature, headerValues, signaturesEqual, signingKey, type RawRequest, type SigV4Claim } from './sigv4';
import type { ChunkSigning } from './aws-chunked';

/** Largest allowed difference between a request's X-Amz-Date and the wall clock, as AWS. */
export const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;

/** How the body of an authenticated request must be checked as it is read. */
export type PayloadPlan =
  /** S3 UNSIGNED-PAYLOAD: the signature (verified) does not cover the body. */
  | { kind: 'unsigned' }
  /** The signature (verified) covers this sha256; the body must hash to it. */
  | { kind: 'sha256'; sha256: string }
  /** S3 aws-chunked framing (STREAMING-*), with the chunk signing key when chunks are signed. */
  | { kind: 'chunked'; signing?: ChunkSigning }
  /** No hash declared (non-S3 services): the signature can only be checked with the body's own hash. */
  | { kind: 'hash-body' };

export interface AuthenticateOptions {
  credentials: CloudCredentials;
  /** Cloud time: pre-signed URLs are valid from X-Amz-Date (less the skew) to X-Amz-Expires after it. */
  clock: Clock;
}

/**
 * Check everything of a request's SigV4 claim that does not need the body; verify the signature when the
 * payload hash is declared. Throws AwsError on any refusal.
 */
export function authenticateHeaders(claim: SigV4Claim, raw: RawRequest, query: URLSearchParams, options: AuthenticateOptions): PayloadPlan {
  const s3 = claim.service === 's3';
  const { accessKeyId, secretAccessKey } = options.credentials;
  if (claim.accessKeyId !== accessKeyId) {
    throw s3
      ? new AwsError('InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.', 403, { AWSAccessKeyId: claim.accessKeyId })
      : new AwsError('UnrecognizedClientException', 'The security token included in the request is invalid.', 403);
  }
  if (claim.scopeDate !== claim.amzDate.slice(0, 8)) {
    throw signatureMismatch(s3, `Date in Credential scope (${claim.scopeDate}) does not match the date of X-Amz-Date (${claim.amzDate}).`);
  }
  checkTime(claim, s3, options.clock);
  const headers = headerValues(raw.rawHeaders);
  refuseUnsignedAmzHeaders(claim, headers, s3);

  const declared = claim.presigned ? (query.get('X-Amz-Content-Sha256') ?? (s3 ? 'UNSIGNED-PAYLOAD' : undefined)) : headers.get('x-amz-content-sha256');
  if (declared === undefined) {
    // S3 requires the header on every header-signed request; the other services hash the body themselves.
    if (s3) throw new AwsError('InvalidRequest', 'Missing required header for this request: x-amz-content-sha256', 400);
    return { kind: 'hash-body' };
  }
  const unsignedPayload = declared === 'UNSIGNED-PAYLOAD' || declared.startsWith('STREAMING-');
  if (unsignedPayload && !s3) {
    // Only S3 lets a signature leave the body out (or sign it in chunks); elsewhere the body must be signed.
    throw new AwsError('InvalidSignatureException', `x-amz-content-sha256 "${declared}" is accepted only by S3: ${claim.service} requests sign the sha256 of their body.`, 403);
  }
  if (!unsignedPayload && !/^[0-9a-f]{64}$/i.test(declared)) {
    throw new AwsError('InvalidArgument', `x-amz-content-sha256 must be a sha256 hex digest, UNSIGNED-PAYLOAD or STREAMING-*, got "${declared}".`, 400);
  }
  if (!signaturesEqual(expectedSignature(raw, claim, secretAccessKey, declared), claim.signature)) {
    throw signatureMismatch(s3, 'The request signature we calculated does not match the signature you provided. Check your key and signing method.');
  }
  if (declared === 'UNSIGNED-PAYLOAD') return { kind: 'unsigned' };
  if (!declared.startsWith('STREAMING-')) return { kind: 'sha256', sha256: declared.toLowerCase() };
  if (!declared.startsWith('STREAMING-AWS4-HMAC-SHA256-PAYLOAD')) return { kind: 'chunked' };
  return {
    kind: 'chunked',
    signing: {
      seedSignature: claim.signature,
      amzDate: claim.amzDate,
      scope: credentialScope(claim),
      signingKey: signingKey(secretAccessKey, claim.scopeDate, claim.region, claim.service),
    },
  };
}

/** Verify a signature whose payload hash is the body's own (plan 'hash-body'), once the body was read. */
export function verifyWithBodyHash(claim: SigV4Claim, raw: RawRequest, bodySha256: string, credentials: CloudCredentials): void {
  if (!signaturesEqual(expectedSignature(raw, claim, credentials.secretAccessKey, bodySha256), claim.signature)) {
    throw signatureMismatch(claim.service === 's3', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.');
  }
}

/** The error for a signature that does not verify. */
function signatureMismatch(s3: boolean, message: string): AwsError {
  return new AwsError(s3 ? 'SignatureDoesNotMatch' : 'InvalidSignatureException', message, 403);
}

/**
 * Header signatures: X-Amz-Date within the skew of the wall clock (clients sign with Date.now() even when
 * tests speed the cloud up). Pre-signed URLs: by cloud time, not before X-Amz-Date (less the skew) and
 * not after X-Amz-Expires (at most 7 days, checked when parsed) past it.
 */
function checkTime(claim: SigV4Claim, s3: boolean, clock: Clock): void {
  if (!claim.presigned) {
    if (Math.abs(Date.now() - claim.signedAt) > MAX_CLOCK_SKEW_MS) {
      throw s3
        ? new AwsError('RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.', 403)
        : new AwsError('InvalidSignatureException', `Signature expired: ${claim.amzDate} is more than 15 minutes away from the server time.`, 403);
    }
    return;
  }
  const now = clock.now();
  const expiresAt = claim.signedAt + (claim.expiresSeconds as number) * 1000;
  if (claim.signedAt > now + MAX_CLOCK_SKEW_MS) {
    throw s3
      ? new AwsError('AccessDenied', 'Request is not yet valid', 403, { 'X-Amz-Date': claim.amzDate, Expires: new Date(expiresAt).toISOString(), ServerTime: new Date(now).toISOString() })
      : new AwsError('InvalidSignatureException', `Signature not yet current: ${claim.amzDate} is still later than the server time ${new Date(now).toISOString()} plus 15 minutes.`, 403);
  }
  if (now > expiresAt) {
    throw new AwsError(s3 ? 'AccessDenied' : 'AccessDeniedException', 'Request has expired', 403, s3 ? { Expires: new Date(expiresAt).toISOString() } : {});
  }
}

/**
 * Refuse x-amz-* headers the signature does not cover, as S3 does: an unsigned x-amz-copy-source added
 * to a pre-signed PUT would otherwise turn an upload into a copy of any object. x-amz-content-sha256 may
 * stay unsigned (as S3): its value is part of the canonical request anyway.
 */
function refuseUnsignedAmzHeaders(claim: SigV4Claim, headers: Map<string, string>, s3: boolean): void {
  const signed = new Set(claim.signedHeaders);
  const unsigned = [...headers.keys()].filter((name) => name.startsWith('x-amz-') && name !== 'x-amz-content-sha256' && !signed.has(name));
  if (unsigned.length === 0) return;
  const message = 'There were headers present in the request which were not signed';
  throw s3
    ? new AwsError('AccessDenied', message, 403, { HeadersNotSigned: unsigned.join(', ') })
    : new AwsError('InvalidSignatureException', `${message}: ${unsigned.join(', ')}`, 403);
}
