import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mqtt } from 'aws-iot-device-sdk-v2';
import { UpdateCertificateCommand } from '@aws-sdk/client-iot';
import { startLocalCloud } from '../../cloud/local-cloud';
import { closeDevice, connectDevice, Inbox, interrupted } from '../../cloud/mqtt/mqtt-testing';
import { readDeviceConfig } from '../../edge/device-config';
import { provisionDevices } from './provision';
import { localTarget } from './targets';

/** Connects as the device of a bundle, exactly from the bundle's files. */
async function connectFromBundle(bundleDir: string, clientId?: string): Promise<mqtt.MqttClientConnection> {
  const config = readDeviceConfig(bundleDir).config;
  return connectDevice({
    certificatePem: await readFile(join(bundleDir, config.files.certificate), 'utf8'),
    privateKeyPem: await readFile(join(bundleDir, config.files.privateKey), 'utf8'),
    caCertPem: await readFile(join(bundleDir, config.files.ca), 'utf8'),
    host: config.mqtt.host,
    port: config.mqtt.port,
    clientId: clientId ?? config.thingName,
  });
}

test('a provisioned bundle connects over mutual TLS and is held to its own topics; revoking its certificate locks it out', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cloud-'));
  const out = await mkdtemp(join(tmpdir(), 'bundles-'));
  const cloud = await startLocalCloud({ dir, port: 0, mqttPort: 0, log: () => undefined });
  const target = localTarget(dir);
  const connections: mqtt.MqttClientConnection[] = [];
  try {
    const { devices } = await provisionDevices({ ...target, devices: 2, outDir: out });
    const [mine, theirs] = devices;
    const device = await connectFromBundle(mine.bundleDir);
    connections.push(device);
    const inbox = new Inbox();
    const topic = readDeviceConfig(mine.bundleDir).config.topics.telemetry;
    await device.subscribe(topic, mqtt.QoS.AtLeastOnce, inbox.onMessage);
    await device.publish(topic, JSON.stringify({ rps: 3.2 }), mqtt.QoS.AtLeastOnce);
    assert.deepEqual(JSON.parse(await inbox.next(topic)), { rps: 3.2 });

    // Another device's topic: the broker closes the connection, as AWS IoT does.
    const cut = interrupted(device);
    device.subscribe(readDeviceConfig(theirs.bundleDir).config.topics.telemetry, mqtt.QoS.AtLeastOnce).catch(() => undefined);
    await cut;
    // Posing as the other thing is refused at connect.
    await assert.rejects(connectFromBundle(mine.bundleDir, theirs.thingName));

    await target.iot.send(new UpdateCertificateCommand({ certificateId: mine.certificateId, newStatus: 'REVOKED' }));
    await assert.rejects(connectFromBundle(mine.bundleDir));
    // The other device is unaffected.
    connections.push(await connectFromBundle(theirs.bundleDir));
  } finally {
    for (const c of connections) await closeDevice(c);
    target.iot.destroy();
    await cloud.stop();
    await rm(out, { recursive: true, force: true });
    await rm(dir, { recursive: true, force: true });
  }
});
