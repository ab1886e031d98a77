/**
 * Capture ingest: the local stand-in for the AWS IoT rule that stores devices' captured data in S3.
 * A device publishes a capture batch (JSON with a batchId) on `<prefix>/<thing>/capture`; this service
 * writes it to s3://<capture bucket>/capture/<thing>/<batchId>.json through the S3 API and then publishes
 * `{ batchId, bucket, key }` on `<prefix>/<thing>/capture/accepted` (or `{ batchId, message }` on
 * `.../capture/rejected`). The key depends only on the thing and the batch id, so a batch sent twice is
 * stored once.
 *
 * On AWS the same contract is one topic rule (see shared/edge/README.md):
 *   SELECT * FROM '+/+/capture'  →  S3 action, bucket <capture bucket>, key capture/${topic(2)}/${batchId}.json
 *                                 +  republish action to ${topic()}/accepted
 */
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { cloudSettings, resourceName } from '../config';
import type { CloudContext, ServiceHandle } from '../contracts';
import { loadOrCreateCredentials } from '../credentials';
import { SingleFlight } from './single-flight';

/** Bucket the capture ingest writes to: CLOUD_CAPTURE_BUCKET, else "<resource prefix>data". */
export function captureBucketName(env: NodeJS.ProcessEnv = process.env): string {
  return env.CLOUD_CAPTURE_BUCKET || resourceName(cloudSettings({}, env), 'data');
}

/** The S3 key of a captured batch. */
export function captureKey(thingName: string, batchId: string): string {
  return `capture/${thingName}/${batchId}.json`;
}

const BATCH_ID = /^[A-Za-z0-9_-]{1,128}$/;

/** Installs the capture ingest into the local cloud (after S3 and the broker). */
export async function installCaptureIngest(ctx: CloudContext): Promise<ServiceHandle> {
  const bus = ctx.bus;
  if (!bus || !ctx.endpoints) throw new Error('capture ingest needs the MQTT broker and the HTTP endpoint');
  const bucket = captureBucketName();
  const s3 = new S3Client({ region: ctx.region, endpoint: ctx.endpoints.http, forcePathStyle: true, credentials: loadOrCreateCredentials(ctx.dir) });
  let stopped = false;
  let bucketReady: Promise<void> | null = null;
  const ensureBucket = (): Promise<void> =>
    (bucketReady ??= s3.send(new CreateBucketCommand({ Bucket: bucket })).then(
      () => undefined,
      (err: Error) => {
        if (err.name !== 'BucketAlreadyOwnedByYou' && err.name !== 'BucketAlreadyExists') {
          bucketReady = null;
          throw err;
        }
      },
    ));
  const inflight = new Set<Promise<void>>();
  const storing = new SingleFlight<void>();

  const ingest = async (topic: string, payload: Buffer): Promise<void> => {
    const thing = topic.split('/')[1];
    let batchId: unknown;
    try {
      const batch = JSON.parse(payload.toString('utf8')) as { batchId?: unknown; thingName?: unknown; records?: unknown };
      batchId = batch.batchId;
      if (typeof batchId !== 'string' || !BATCH_ID.test(batchId)) throw new Error(`batchId ${JSON.stringify(batchId)} must be 1-128 letters, digits, '_' or '-'`);
      if (batch.thingName !== thing) throw new Error(`thingName ${JSON.stringify(batch.thingName)} is not the topic's thing "${thing}"`);
      if (!Array.isArray(batch.records)) throw new Error('records must be an array');
    } catch (err) {
      await bus.publish(`${topic}/rejected`, JSON.stringify({ batchId: typeof batchId === 'string' ? batchId : null, message: (err as Error).message }), { qos: 1 });
      return;
    }
    const key = captureKey(thing, batchId as string);
    try {
      // A copy re-sent while the first is being stored waits for that write (same key, same bytes).
      await storing.run(key, async () => {
        await ensureBucket();
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: payload, ContentType: 'application/json' }));
      });
    } catch (err) {
      if (!stopped) await bus.publish(`${topic}/rejected`, JSON.stringify({ batchId, message: `cannot store the batch: ${(err as Error).message}` }), { qos: 1 });
      return;
    }
    if (!stopped) await bus.publish(`${topic}/accepted`, JSON.stringify({ batchId, bucket, key }), { qos: 1 });
  };

  bus.onPublish('+/+/capture', (topic, payload) => {
    if (stopped) return;
    const p = ingest(topic, payload).catch(() => undefined);
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
  });
  return {
    async stop() {
      // Batches already received are stored before the cloud stops (their accepted message may be lost:
      // the device re-sends them and the same key is written again).
      await Promise.allSettled([...inflight]);
      stopped = true;
      s3.destroy();
    },
  };
}
