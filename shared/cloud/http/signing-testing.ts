/**
 * Test helpers: sign requests with the SDK's own SigV4 signer (@smithy/signature-v4), independent of the
 * cloud's verifier, to send hand-made signed requests (skewed dates, unknown services, awsJson targets).
 */
import { createHash, createHmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import type { CloudCredentials } from '../credentials';

function toBytes(d: string | ArrayBuffer | ArrayBufferView): string | Buffer {
  if (typeof d === 'string') return d;
  return ArrayBuffer.isView(d) ? Buffer.from(d.buffer, d.byteOffset, d.byteLength) : Buffer.from(d);
}

/** node:crypto sha256 / HMAC-sha256 in the shape the smithy signer wants. */
export class NodeSha256 {
  private readonly h;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.h = secret ? createHmac('sha256', toBytes(secret)) : createHash('sha256');
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.h.update(toBytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.h.digest());
  }
}

/** The SDK signer for a service, with S3's path rules when service is 's3'. */
export function sdkSigner(credentials: CloudCredentials, region: string, service: string): SignatureV4 {
  return new SignatureV4({ credentials, region, service, sha256: NodeSha256, uriEscapePath: service !== 's3' });
}

export interface SignedFetchOptions {
  service: string;
  method: string;
  /** Path with an optional query string (`/bucket?delete`). */
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** Signing time (default now). */
  date?: Date;
  /** Headers added after signing (what a tampering client would do). */
  unsignedHeaders?: Record<string, string>;
}

/** Sign a request with the SDK signer and send it with fetch to the cloud's HTTP endpoint. */
export async function signedFetch(cloud: { endpoints: { http: string }; credentials: CloudCredentials; region: string }, o: SignedFetchOptions): Promise<Response> {
  const url = new URL(cloud.endpoints.http);
  const body = o.body ?? '';
  const headers: Record<string, string> = { host: url.host, ...(o.headers ?? {}) };
  if (o.service === 's3') headers['x-amz-content-sha256'] = createHash('sha256').update(body).digest('hex');
  const q = o.path.indexOf('?');
  const path = q < 0 ? o.path : o.path.slice(0, q);
  const query = q < 0 ? {} : Object.fromEntries(new URLSearchParams(o.path.slice(q + 1)));
  const signed = await sdkSigner(cloud.credentials, cloud.region, o.service).sign(
    { method: o.method, protocol: 'http:', hostname: url.hostname, port: Number(url.port), path, query, headers, body },
    { signingDate: o.date ?? new Date() },
  );
  return fetch(`${cloud.endpoints.http}${o.path}`, {
    method: o.method,
    headers: { ...(signed.headers as Record<string, string>), ...(o.unsignedHeaders ?? {}) },
    body: o.method === 'GET' || o.method === 'HEAD' ? undefined : body,
  });
}
