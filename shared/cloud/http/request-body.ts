/**
 * Reading a request body that has already been authenticated from its headers: up to a limit, hashed as
 * it arrives (so the payload hash is checked without a second pass over the bytes), or handed piece by
 * piece to a decoder that checks it as it arrives (aws-chunked).
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** The bytes kept and their sha256 (hex, when asked), or how many bytes came in total when over the limit. */
export type BodyRead = { ok: true; body: Buffer; sha256?: string } | { ok: false; received: number };

export interface ReadBodyOptions {
  /** Compute the sha256 of the bytes as they arrive. */
  sha256?: boolean;
  /**
   * Called with every piece as it arrives, instead of keeping the bytes (body is then empty). When it
   * throws, reading stops with that error while the rest of the body is discarded.
   */
  onData?: (piece: Buffer) => void;
}

/** Read req's body, at most limit bytes; rejects with code ECONNRESET when the client goes away. */
export function readBody(req: IncomingMessage, limit: number, options: ReadBodyOptions = {}): Promise<BodyRead> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const hash = options.sha256 ? createHash('sha256') : undefined;
    let received = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      received += chunk.length;
      // Past the limit, or after a refusal, keep draining (so the client gets our answer, not a reset)
      // but stop keeping.
      if (failed) return;
      if (received > limit) {
        chunks.length = 0;
        return;
      }
      hash?.update(chunk);
      if (!options.onData) {
        chunks.push(chunk);
        return;
      }
      try {
        options.onData(chunk);
      } catch (err) {
        failed = true;
        reject(err);
      }
    });
    req.on('end', () => resolve(received <= limit ? { ok: true, body: Buffer.concat(chunks), sha256: hash?.digest('hex') } : { ok: false, received }));
    req.on('error', reject);
    req.on('close', () => {
      if (!req.complete) reject(Object.assign(new Error('client closed the connection before the body ended'), { code: 'ECONNRESET' }));
    });
  });
}
