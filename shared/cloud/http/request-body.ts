/**
 * Reading a request body that has already been authenticated from its headers: up to a limit, hashed as
 * it arrives (so the payload hash is checked without a second pass over the bytes).
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** The bytes and their sha256 (hex), or how many bytes came in total when over the limit. */
export type BodyRead = { ok: true; body: Buffer; sha256?: string } | { ok: false; received: number };

/**
 * Read req's body, keeping at most limit bytes, with its sha256 when asked; rejects with code ECONNRESET
 * when the client goes away.
 */
export function readBody(req: IncomingMessage, limit: number, withSha256: boolean): Promise<BodyRead> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const hash = withSha256 ? createHash('sha256') : undefined;
    let received = 0;
    req.on('data', (chunk: Buffer) => {
      received += chunk.length;
      // Past the limit keep draining (so the client gets our answer, not a reset) but stop keeping.
      if (received <= limit) {
        chunks.push(chunk);
        hash?.update(chunk);
      } else chunks.length = 0;
    });
    req.on('end', () => resolve(received <= limit ? { ok: true, body: Buffer.concat(chunks), sha256: hash?.digest('hex') } : { ok: false, received }));
    req.on('error', reject);
    req.on('close', () => {
      if (!req.complete) reject(Object.assign(new Error('client closed the connection before the body ended'), { code: 'ECONNRESET' }));
    });
  });
}
