import { test } from 'node:test';
import assert from 'node:assert/strict';
import { S3Client } from '@aws-sdk/client-s3';
import { IoTDataPlaneClient, UpdateThingShadowCommand } from '@aws-sdk/client-iot-data-plane';
import { cloudClientConfig } from '../cloud';
import { captureKey } from '../cloud/capture/service';
import { putObjects, startTestCloud, tempDir } from '../edge/agent-testing';
import { readCapturedBatches, readHeartbeats } from './field-data-reader';
import { captureFieldBatches } from './field-capture-testing';

test('captured batches and heartbeats read back from the local cloud through the AWS SDK; a foreign object is named', async () => {
  const tmp = await tempDir('monitoring-reader-');
  const cloud = await startTestCloud(tmp.dir);
  const s3 = new S3Client(cloudClientConfig(cloud));
  const iotData = new IoTDataPlaneClient(cloudClientConfig(cloud));
  try {
    const { batches } = await captureFieldBatches({ turbines: 2, frames: 1500, seed: 4 });
    const bucket = 'capture-test';
    await putObjects(cloud, bucket, Object.fromEntries(batches.map((b) => [captureKey(b.thingName, b.batchId), Buffer.from(JSON.stringify(b))])));
    const all = await readCapturedBatches(s3, bucket);
    assert.deepEqual(all.map((b) => b.batchId).sort(), batches.map((b) => b.batchId).sort());
    const one = await readCapturedBatches(s3, bucket, { things: ['turbine-1'] });
    assert.ok(one.length > 0 && one.every((b) => b.thingName === 'turbine-1'));
    await putObjects(cloud, bucket, { 'capture/turbine-1/zz.json': Buffer.from('{"hello":1}') });
    await assert.rejects(readCapturedBatches(s3, bucket), /s3:\/\/capture-test\/capture\/turbine-1\/zz.json is not a capture batch/);

    const agent = { thingName: 'turbine-0', time: new Date().toISOString(), alarms: 3 };
    await iotData.send(new UpdateThingShadowCommand({ thingName: 'turbine-0', payload: Buffer.from(JSON.stringify({ state: { reported: { agent } } })) }));
    const hbs = await readHeartbeats(iotData, ['turbine-0', 'turbine-9']);
    assert.deepEqual(hbs.map((h) => [h.thingName, h.alarms]), [['turbine-0', 3]], 'a thing without a shadow has no heartbeat');
  } finally {
    s3.destroy();
    iotData.destroy();
    await cloud.stop();
    await tmp.remove();
  }
});
