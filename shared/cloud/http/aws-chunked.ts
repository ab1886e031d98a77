/**
 * Decoder for S3's `Content-Encoding: aws-chunked` bodies (x-amz-content-sha256 = STREAMING-*):
 *   <hex size>[;chunk-signature=<sig>]\r\n<data>\r\n ... 0[;chunk-signature=<sig>]\r\n[<trailer>:<value>\r\n]*\r\n
 * Signed variants chain each chunk's signature from the request's seed signature; they are verified here.
 */
import { createHash, createHmac } from 'node:crypto';
import { AwsError } from './errors';
import { EMPTY_SHA256 } from './sigv4';

/** What is needed to verify chunk signatures (absent for STREAMING-UNSIGNED-PAYLOAD-TRAILER). */
export interface ChunkSigning {
  seedSignature: string;
  amzDate: string;
  scope: string;
  signingKey: Buffer;
}

/** A decoded aws-chunked body: the payload and any trailing headers (e.g. x-amz-checksum-crc32). */
export interface DecodedChunkedBody {
  payload: Buffer;
  trailers: Record<string, string>;
}

const CRLF = Buffer.from('\r\n');

/** Decode an aws-chunked body; throws AwsError (400) on malformed framing or a bad chunk signature. */
export function decodeAwsChunked(body: Buffer, signing?: ChunkSigning): DecodedChunkedBody {
  const chunks: Buffer[] = [];
  let offset = 0;
  let previous = signing?.seedSignature ?? '';
  const malformed = (why: string): AwsError => new AwsError('IncompleteBody', `aws-chunked body malformed at byte ${offset}: ${why}`, 400);
  for (;;) {
    const lineEnd = body.indexOf(CRLF, offset);
    if (lineEnd < 0) throw malformed('missing chunk header');
    const header = body.subarray(offset, lineEnd).toString('latin1');
    const [sizeHex, ...extensions] = header.split(';');
    if (!/^[0-9a-fA-F]+$/.test(sizeHex)) throw malformed(`bad chunk size "${sizeHex}"`);
    const size = parseInt(sizeHex, 16);
    const dataStart = lineEnd + 2;
    if (dataStart + size > body.length) throw malformed(`chunk of ${size} bytes runs past the end of the body`);
    const data = body.subarray(dataStart, dataStart + size);
    if (signing) {
      const sig = extensions.map((e) => e.trim()).find((e) => e.startsWith('chunk-signature='))?.slice('chunk-signature='.length);
      if (!sig) throw malformed('chunk-signature missing');
      const stringToSign = [
        'AWS4-HMAC-SHA256-PAYLOAD',
        signing.amzDate,
        signing.scope,
        previous,
        EMPTY_SHA256,
        createHash('sha256').update(data).digest('hex'),
      ].join('\n');
      const expected = createHmac('sha256', signing.signingKey).update(stringToSign).digest('hex');
      if (expected !== sig) {
        throw new AwsError('SignatureDoesNotMatch', 'The chunk signature we calculated does not match the signature you provided.', 403);
      }
      previous = sig;
    }
    offset = dataStart + size;
    if (size === 0) break;
    chunks.push(data);
    if (!body.subarray(offset, offset + 2).equals(CRLF)) throw malformed('chunk data not followed by CRLF');
    offset += 2;
  }
  // Trailers: "name:value\r\n" lines until an empty line or the end of the body.
  const trailers: Record<string, string> = {};
  const rest = body.subarray(offset).toString('latin1');
  for (const line of rest.split('\r\n')) {
    if (line === '') continue;
    const colon = line.indexOf(':');
    if (colon <= 0) throw malformed(`bad trailer line "${line.slice(0, 40)}"`);
    trailers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { payload: Buffer.concat(chunks), trailers };
}
