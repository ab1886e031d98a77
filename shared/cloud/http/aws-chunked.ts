/**
 * Decoder for S3's `Content-Encoding: aws-chunked` bodies (x-amz-content-sha256 = STREAMING-*):
 *   <hex size>[;chunk-signature=<sig>]\r\n<data>\r\n ... 0[;chunk-signature=<sig>]\r\n[<trailer>:<value>\r\n]*\r\n
 * It decodes as the bytes arrive: signed variants chain each chunk's signature from the request's seed
 * signature, and each chunk is verified as soon as it is complete, so a forged chunk is refused while the
 * client is still sending. Only the payload is kept, not the framing.
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

/** Longest chunk header line and longest trailer section accepted (real ones are under 100 bytes). */
const MAX_CHUNK_HEADER_BYTES = 4096;
const MAX_TRAILER_BYTES = 16 * 1024;

/** An aws-chunked body decoded piece by piece: push() what arrives, end() when the body ended. */
export class AwsChunkedDecoder {
  private state: 'header' | 'data' | 'data-end' | 'trailers' = 'header';
  /** Bytes held back because a header line or a CRLF is not complete yet. */
  private pending = Buffer.alloc(0);
  /** Body bytes consumed so far (for error messages). */
  private offset = 0;
  private chunkSize = 0;
  private chunkSignature: string | undefined;
  private chunkParts: Buffer[] = [];
  private chunkHave = 0;
  private previous: string;
  private readonly payload: Buffer[] = [];
  private trailerText = '';

  constructor(private readonly signing?: ChunkSigning) {
    this.previous = signing?.seedSignature ?? '';
  }

  /** Decode the next bytes of the body; throws AwsError on malformed framing or a bad chunk signature. */
  push(data: Buffer): void {
    const buf = this.pending.length > 0 ? Buffer.concat([this.pending, data]) : data;
    this.pending = Buffer.alloc(0);
    let at = 0;
    while (at < buf.length) {
      if (this.state === 'header') {
        const lineEnd = buf.indexOf('\r\n', at);
        if (lineEnd < 0) {
          if (buf.length - at > MAX_CHUNK_HEADER_BYTES) throw this.malformed('chunk header line too long');
          this.pending = buf.subarray(at);
          return;
        }
        this.startChunk(buf.subarray(at, lineEnd).toString('latin1'));
        this.offset += lineEnd + 2 - at;
        at = lineEnd + 2;
      } else if (this.state === 'data') {
        const take = Math.min(this.chunkSize - this.chunkHave, buf.length - at);
        this.chunkParts.push(buf.subarray(at, at + take));
        this.chunkHave += take;
        this.offset += take;
        at += take;
        if (this.chunkHave === this.chunkSize) this.finishChunk();
      } else if (this.state === 'data-end') {
        if (buf.length - at < 2) {
          this.pending = buf.subarray(at);
          return;
        }
        if (buf[at] !== 0x0d || buf[at + 1] !== 0x0a) throw this.malformed('chunk data not followed by CRLF');
        this.offset += 2;
        at += 2;
        this.state = 'header';
      } else {
        this.trailerText += buf.subarray(at).toString('latin1');
        if (this.trailerText.length > MAX_TRAILER_BYTES) throw this.malformed('trailers too long');
        this.offset += buf.length - at;
        at = buf.length;
      }
    }
  }

  /** The body ended: the payload and trailers; throws AwsError when it ended before the final chunk. */
  end(): DecodedChunkedBody {
    if (this.state !== 'trailers') throw this.malformed(this.state === 'header' && this.pending.length === 0 ? 'missing chunk header' : 'body ended inside a chunk');
    // Trailers: "name:value\r\n" lines until an empty line or the end of the body.
    const trailers: Record<string, string> = {};
    for (const line of this.trailerText.split('\r\n')) {
      if (line === '') continue;
      const colon = line.indexOf(':');
      if (colon <= 0) throw this.malformed(`bad trailer line "${line.slice(0, 40)}"`);
      trailers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    return { payload: Buffer.concat(this.payload), trailers };
  }

  private startChunk(header: string): void {
    const [sizeHex, ...extensions] = header.split(';');
    if (!/^[0-9a-fA-F]{1,12}$/.test(sizeHex)) throw this.malformed(`bad chunk size "${sizeHex.slice(0, 40)}"`);
    this.chunkSize = parseInt(sizeHex, 16);
    this.chunkSignature = extensions.map((e) => e.trim()).find((e) => e.startsWith('chunk-signature='))?.slice('chunk-signature='.length);
    if (this.signing && !this.chunkSignature) throw this.malformed('chunk-signature missing');
    this.chunkParts = [];
    this.chunkHave = 0;
    this.state = 'data';
    if (this.chunkSize === 0) this.finishChunk();
  }

  private finishChunk(): void {
    if (this.signing) {
      const hash = createHash('sha256');
      for (const part of this.chunkParts) hash.update(part);
      const stringToSign = ['AWS4-HMAC-SHA256-PAYLOAD', this.signing.amzDate, this.signing.scope, this.previous, EMPTY_SHA256, hash.digest('hex')].join('\n');
      const expected = createHmac('sha256', this.signing.signingKey).update(stringToSign).digest('hex');
      if (expected !== this.chunkSignature) {
        throw new AwsError('SignatureDoesNotMatch', 'The chunk signature we calculated does not match the signature you provided.', 403);
      }
      this.previous = this.chunkSignature;
    }
    if (this.chunkSize === 0) {
      this.state = 'trailers';
      return;
    }
    this.payload.push(...this.chunkParts);
    this.chunkParts = [];
    this.state = 'data-end';
  }

  private malformed(why: string): AwsError {
    return new AwsError('IncompleteBody', `aws-chunked body malformed at byte ${this.offset}: ${why}`, 400);
  }
}

/** Decode a whole aws-chunked body; throws AwsError (400) on malformed framing or a bad chunk signature. */
export function decodeAwsChunked(body: Buffer, signing?: ChunkSigning): DecodedChunkedBody {
  const decoder = new AwsChunkedDecoder(signing);
  decoder.push(body);
  return decoder.end();
}
