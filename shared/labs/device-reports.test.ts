import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateThingCommand, IoTClient } from '@aws-sdk/client-iot';
import { IoTDataPlaneClient, UpdateThingShadowCommand } from '@aws-sdk/client-iot-data-plane';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { openLabCloud } from './lab-cloud';
import { waitForCaptureBatch, waitForHeartbeat } from './device-reports';
import { s3ObjectBytes } from './s3-object';

test('a heartbeat and a captured batch are read back from the local cloud once they are there', async () => {
  const keys = mkdtempSync(join(tmpdir(), 'reports-keys-'));
  const lab = await openLabCloud({ name: 'reports', signingKeyDir: keys, env: {} });
  const iot = new IoTClient(lab.clientConfig);
  const data = new IoTDataPlaneClient(lab.clientConfig);
  const s3 = new S3Client(lab.clientConfig);
  try {
    await iot.send(new CreateThingCommand({ thingName: 'turbine-0' }));
    const report = (inferences: number) => data.send(new UpdateThingShadowCommand({ thingName: 'turbine-0', payload: new TextEncoder().encode(JSON.stringify({ state: { reported: { agent: { inferences } } } })) }));
    await report(3);
    // The wanted heartbeat is not there yet: it arrives while the helper asks again.
    const waiting = waitForHeartbeat(data, 'turbine-0', (hb) => hb.inferences >= 20, { intervalMs: 20 });
    await report(25);
    assert.equal((await waiting).inferences, 25);
    await assert.rejects(waitForHeartbeat(data, 'turbine-0', (hb) => hb.inferences >= 100, { timeoutMs: 200, intervalMs: 20 }), /waiting for a heartbeat of turbine-0 as asked/);

    await s3.send(new CreateBucketCommand({ Bucket: 'captures' }));
    await assert.rejects(waitForCaptureBatch(s3, 'captures', 'turbine-0', { timeoutMs: 200, intervalMs: 20 }), /waiting for a captured batch under s3:\/\/captures\/capture\/turbine-0\//);
    const batch = { thingName: 'turbine-0', records: [{ window: 1 }] };
    await s3.send(new PutObjectCommand({ Bucket: 'captures', Key: 'capture/turbine-0/b1.json', Body: JSON.stringify(batch) }));
    const found = await waitForCaptureBatch(s3, 'captures', 'turbine-0');
    assert.deepEqual(found.keys, ['capture/turbine-0/b1.json']);
    assert.deepEqual(found.batch, batch);
    await assert.rejects(s3ObjectBytes(s3, 'captures/b1.json'), /"captures\/b1.json" is not an s3:\/\/bucket\/key URI/);
  } finally {
    iot.destroy();
    data.destroy();
    s3.destroy();
    await lab.stop();
    rmSync(keys, { recursive: true, force: true });
  }
});
