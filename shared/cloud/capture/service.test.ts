import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectDevice, closeDevice, Inbox } from '../mqtt/mqtt-testing';
import { mqtt } from 'aws-iot-device-sdk-v2';
import { capturedBatches, provisionTestDevices, startTestCloud, tempDir } from '../../edge/agent-testing';
import { readDeviceConfig } from '../../edge/device-config';
import { captureBucketName, captureKey } from './service';

test('capture ingest stores a batch under its id once, however often it is sent, and refuses bad batches', async () => {
  const tmp = await tempDir('capture-ingest-');
  const cloud = await startTestCloud(join(tmp.dir, 'cloud'));
  try {
    const [bundle] = await provisionTestDevices(join(tmp.dir, 'cloud'), join(tmp.dir, 'devices'), 1);
    const { config } = readDeviceConfig(bundle);
    const device = await connectDevice({
      certificatePem: readFileSync(join(bundle, config.files.certificate), 'utf8'),
      privateKeyPem: readFileSync(join(bundle, config.files.privateKey), 'utf8'),
      caCertPem: readFileSync(join(bundle, config.files.ca), 'utf8'),
      host: config.mqtt.host,
      port: config.mqtt.port,
      clientId: config.thingName,
    });
    const topic = config.topics.telemetry.replace(/telemetry$/, 'capture');
    const inbox = new Inbox();
    await device.subscribe(`${topic}/+`, mqtt.QoS.AtLeastOnce, inbox.onMessage);
    const batch = { batchId: 'b-1', thingName: config.thingName, createdAt: new Date().toISOString(), records: [{ captureId: 'c1' }, { captureId: 'c2' }] };
    for (let i = 0; i < 2; i++) {
      await device.publish(topic, JSON.stringify(batch), mqtt.QoS.AtLeastOnce);
      assert.deepEqual(JSON.parse(await inbox.next(`${topic}/accepted`)), { batchId: 'b-1', bucket: captureBucketName(), key: captureKey(config.thingName, 'b-1') });
    }
    const stored = await capturedBatches(cloud, config.thingName);
    assert.equal(stored.length, 1);
    assert.deepEqual(stored[0].batch, batch);
    for (const [bad, why] of [
      [{ ...batch, batchId: '../x' }, /batchId "..\/x" must be/],
      [{ ...batch, thingName: 'someone-else' }, /is not the topic's thing/],
      ['not json', /Unexpected token|not valid JSON/],
    ] as const) {
      await device.publish(topic, typeof bad === 'string' ? bad : JSON.stringify(bad), mqtt.QoS.AtLeastOnce);
      assert.match(JSON.parse(await inbox.next(`${topic}/rejected`)).message, why);
    }
    assert.equal((await capturedBatches(cloud, config.thingName)).length, 1);
    await closeDevice(device);
  } finally {
    await cloud.stop();
    await tmp.remove();
  }
});
