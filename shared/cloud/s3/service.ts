/**
 * The local S3 service: registers the S3 routes, keeps objects under <dir>/s3/, and provides the
 * cloud's Presigner (pre-signed GET/PUT URLs signed with the cloud's key at cloud-clock time, as Jobs
 * needs for ${aws:iot:s3-presigned-url:...} placeholders).
 */
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { CloudContext, Presigner, ServiceHandle } from '../contracts';
import { loadOrCreateCredentials } from '../credentials';
import type { Installer } from '../services';
import type { FileLayer } from '../state/file-writes';
import { S3Storage } from './object-store';
import { s3Routes } from './routes';

export interface S3ServiceOptions {
  /** Minimum size of every multipart part but the last (default 5 MiB, as AWS). */
  minPartSize?: number;
  /** The disk object files are written to (default the real one; tests stand in a slow or full disk). */
  files?: FileLayer;
}

/** Pre-signs S3 URLs against the local cloud's endpoint with its own key. */
export class LocalPresigner implements Presigner {
  private readonly client: S3Client;
  /** For PUT URLs: no checksum signed in, so any body can be uploaded (as AWS requires for presigned PUTs). */
  private readonly putClient: S3Client;

  constructor(private readonly ctx: CloudContext) {
    if (!ctx.endpoints) throw new Error('LocalPresigner: the HTTP endpoint is not known yet');
    this.client = new S3Client({
      region: ctx.region,
      endpoint: ctx.endpoints.http,
      forcePathStyle: true,
      credentials: loadOrCreateCredentials(ctx.dir),
    });
    this.putClient = new S3Client({
      region: ctx.region,
      endpoint: ctx.endpoints.http,
      forcePathStyle: true,
      credentials: loadOrCreateCredentials(ctx.dir),
      requestChecksumCalculation: 'WHEN_REQUIRED',
    });
  }

  /** A URL that GETs bucket/key for expiresInSeconds of cloud time. */
  presignGet(bucket: string, key: string, expiresInSeconds: number): Promise<string> {
    return getSignedUrl(this.client, new GetObjectCommand({ Bucket: bucket, Key: key }), {
      expiresIn: expiresInSeconds,
      signingDate: new Date(this.ctx.clock.now()),
    });
  }

  /** A URL that PUTs bucket/key (any body, any content type) for expiresInSeconds of cloud time. */
  presignPut(bucket: string, key: string, expiresInSeconds: number): Promise<string> {
    return getSignedUrl(this.putClient, new PutObjectCommand({ Bucket: bucket, Key: key }), {
      expiresIn: expiresInSeconds,
      signingDate: new Date(this.ctx.clock.now()),
    });
  }

  /** Release the client's sockets. */
  destroy(): void {
    this.client.destroy();
    this.putClient.destroy();
  }
}

/** An S3 installer with options (tests use a small minimum part size). */
export function s3Installer(options: S3ServiceOptions = {}): Installer {
  return async (ctx: CloudContext): Promise<ServiceHandle> => {
    const storage = new S3Storage(ctx.dir, ctx.store, options.files);
    ctx.routes.add('s3', s3Routes({ storage, clock: ctx.clock, region: ctx.region, minPartSize: options.minPartSize }));
    const presigner = new LocalPresigner(ctx);
    ctx.presigner = presigner;
    return { stop: async () => presigner.destroy() };
  };
}

/** The S3 service with AWS's limits. */
export const installS3: Installer = s3Installer();
