/**
 * The monitoring's inputs read from the cloud (the local cloud or AWS, through the same SDK clients): the
 * captured batches under s3://<capture bucket>/capture/<thing>/ and each device's latest heartbeat in its
 * shadow's reported.agent. A batch that is not a capture batch is named in the error, never skipped.
 */
import { GetThingShadowCommand, type IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { CaptureBatch } from '../edge/capture';
import type { Heartbeat } from '../edge/agent';

/** Checks the shape of a parsed capture batch; throws naming the key and what is wrong. */
export function parseCaptureBatch(key: string, text: string): CaptureBatch {
  let b: Partial<CaptureBatch>;
  try {
    b = JSON.parse(text) as Partial<CaptureBatch>;
  } catch (err) {
    throw new Error(`${key} is not JSON: ${(err as Error).message}`);
  }
  if (typeof b.batchId !== 'string' || typeof b.thingName !== 'string' || !Array.isArray(b.records)) throw new Error(`${key} is not a capture batch (needs batchId, thingName and records)`);
  return b as CaptureBatch;
}

/** Every object key under the prefixes in bucket, page by page. */
export async function listObjectKeys(s3: S3Client, bucket: string, prefixes: readonly string[]): Promise<string[]> {
  const keys: string[] = [];
  for (const prefix of prefixes) {
    let token: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
      for (const o of page.Contents ?? []) keys.push(o.Key as string);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }
  return keys;
}

/** An object's body as text. */
export async function readObjectText(s3: S3Client, bucket: string, key: string): Promise<string> {
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return (await out.Body?.transformToString('utf-8')) ?? '';
}

/** Every captured batch in bucket, of the things given (default all), optionally only batches created at or after since. */
export async function readCapturedBatches(s3: S3Client, bucket: string, options: { things?: readonly string[]; since?: number } = {}): Promise<CaptureBatch[]> {
  const keys = await listObjectKeys(s3, bucket, options.things ? options.things.map((t) => `capture/${t}/`) : ['capture/']);
  const out: CaptureBatch[] = [];
  for (const key of keys.filter((k) => k.endsWith('.json'))) {
    const batch = parseCaptureBatch(`s3://${bucket}/${key}`, await readObjectText(s3, bucket, key));
    if (options.since === undefined || Date.parse(batch.createdAt) >= options.since) out.push(batch);
  }
  return out;
}

/** The latest heartbeat of each thing (shadow reported.agent); things without one are left out. */
export async function readHeartbeats(iotData: IoTDataPlaneClient, things: readonly string[]): Promise<Heartbeat[]> {
  const out: Heartbeat[] = [];
  for (const thingName of things) {
    try {
      const shadow = await iotData.send(new GetThingShadowCommand({ thingName }));
      const hb = JSON.parse(new TextDecoder().decode(shadow.payload)).state?.reported?.agent as Heartbeat | undefined;
      if (hb) out.push(hb);
    } catch (err) {
      if ((err as Error).name !== 'ResourceNotFoundException') throw err;
    }
  }
  return out;
}
