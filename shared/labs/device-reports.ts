/**
 * What the cloud holds about a device, read the way an operator reads it: the heartbeat in its shadow and
 * the batches its data capture wrote to S3. Neither has an event a client can await, so both poll.
 */
import { GetThingShadowCommand, type IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { CaptureBatch } from '../edge/capture';
import type { Heartbeat } from '../edge/agent';
import { pollUntil, type PollOptions } from './poll-until';
import { s3ObjectBytes } from './s3-object';

/** The heartbeat in thingName's shadow (reported.agent) once accept says it is the one wanted. */
export function waitForHeartbeat(iotData: IoTDataPlaneClient, thingName: string, accept: (hb: Heartbeat) => boolean, options?: PollOptions): Promise<Heartbeat> {
  return pollUntil(`a heartbeat of ${thingName} as asked`, async () => {
    const shadow = await iotData.send(new GetThingShadowCommand({ thingName }));
    const hb = JSON.parse(new TextDecoder().decode(shadow.payload)).state?.reported?.agent as Heartbeat | undefined;
    return hb && accept(hb) ? hb : undefined;
  }, options);
}

/** The keys of thingName's captured batches in bucket once there is one, and the first batch. */
export async function waitForCaptureBatch(s3: S3Client, bucket: string, thingName: string, options?: PollOptions): Promise<{ keys: string[]; batch: CaptureBatch }> {
  const prefix = `capture/${thingName}/`;
  const keys = await pollUntil(`a captured batch under s3://${bucket}/${prefix}`, async () => {
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
    const found = (listed.Contents ?? []).map((o) => o.Key!);
    return found.length > 0 ? found : undefined;
  }, options);
  const batch = JSON.parse((await s3ObjectBytes(s3, `s3://${bucket}/${keys[0]}`)).toString('utf8')) as CaptureBatch;
  return { keys, batch };
}
