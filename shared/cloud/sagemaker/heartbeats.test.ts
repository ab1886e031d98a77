import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mqtt } from 'aws-iot-device-sdk-v2';
import { CreateDeviceFleetCommand, DescribeDeviceCommand, ListDevicesCommand, RegisterDevicesCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { ManualClock } from '../clock';
import { cloudClientConfig, startLocalCloud } from '../local-cloud';
import { closeDevice, connectDevice } from '../mqtt/mqtt-testing';
import { provisionDevices } from '../../workflows/provisioning/provision';
import { localTarget } from '../../workflows/provisioning/targets';
import { installers } from '../services';
import { parseHeartbeat } from './heartbeats';
import { sageMakerInstaller, type SageMakerServiceHandle } from './service';
import { waitUntil } from '../../labs/poll-until';

const heartbeat = (over: Record<string, unknown> = {}) =>
  JSON.stringify({ thingName: 'ignored', agentVersion: '1.0.0', models: [{ name: 'wind-turbine', version: '1.0.0', role: 'active', inferences: 10 }], capture: { captured: 2 }, ...over });

test('heartbeats are parsed only when they have the agent version and models', () => {
  assert.deepEqual(parseHeartbeat(Buffer.from(heartbeat())), { agentVersion: '1.0.0', models: [{ name: 'wind-turbine', version: '1.0.0', inferences: 10 }], captured: 2 });
  for (const bad of ['not json', '[]', '{}', heartbeat({ agentVersion: 3 }), heartbeat({ models: 'x' }), heartbeat({ models: [{ name: 'm' }] }), heartbeat({ agentVersion: 'v'.repeat(65) })]) {
    assert.equal(parseHeartbeat(Buffer.from(bad)), undefined, bad);
  }
});

test('an agent heartbeat on MQTT updates its SageMaker device: LatestHeartbeat, AgentVersion, Models, list filters', { timeout: 50_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sagemaker-heartbeat-'));
  const clock = new ManualClock();
  let handle: SageMakerServiceHandle | undefined;
  const list = installers.map((i) => (i.name === 'sagemaker' ? { name: i.name, install: async (ctx: Parameters<typeof i.install>[0]) => (handle = (await sageMakerInstaller({})(ctx)) as SageMakerServiceHandle) } : i));
  const cloud = await startLocalCloud({ dir, port: 0, mqttPort: 0, clock, installers: list, log: () => undefined });
  const sm = new SageMakerClient(cloudClientConfig(cloud));
  let connection: mqtt.MqttClientConnection | undefined;
  try {
    const target = localTarget(dir);
    const provisioned = await provisionDevices({ ...target, devices: 1, prefix: 'turbine-', group: 'turbines', outDir: join(dir, 'devices') });
    target.iot.destroy();
    const device = provisioned.devices[0];
    await sm.send(new CreateDeviceFleetCommand({ DeviceFleetName: 'turbines', OutputConfig: { S3OutputLocation: 's3://b/fleet' } }));
    await sm.send(new RegisterDevicesCommand({ DeviceFleetName: 'turbines', Devices: [{ DeviceName: 'sm-turbine-0', IotThingName: device.thingName }] }));
    const before = await sm.send(new DescribeDeviceCommand({ DeviceName: 'sm-turbine-0', DeviceFleetName: 'turbines' }));
    assert.equal(before.LatestHeartbeat, undefined);

    const bundle = (f: string) => readFile(join(device.bundleDir, f), 'utf8');
    connection = await connectDevice({
      certificatePem: await bundle('certificate.pem'),
      privateKeyPem: await bundle('private.key'),
      caCertPem: await bundle('ca.pem'),
      host: provisioned.mqtt.host,
      port: provisioned.mqtt.port,
      clientId: device.thingName,
    });
    const topic = `wind-turbine/${device.thingName}/heartbeat`;
    const describe = () => sm.send(new DescribeDeviceCommand({ DeviceName: 'sm-turbine-0', DeviceFleetName: 'turbines' }));
    const waitFor = (recorded: number, ignored: number): Promise<void> =>
      waitUntil(`${recorded} heartbeats recorded, ${ignored} ignored`, () => handle?.heartbeats?.recorded === recorded && handle.heartbeats.ignored === ignored, { timeoutMs: 10_000, intervalMs: 20, maxIntervalMs: 20 });

    const first = clock.now();
    await connection.publish(topic, heartbeat(), mqtt.QoS.AtLeastOnce);
    await waitFor(1, 0);
    let d = await describe();
    assert.equal(d.LatestHeartbeat?.getTime(), first);
    assert.equal(d.AgentVersion, '1.0.0');
    assert.deepEqual(d.Models?.map((m) => [m.ModelName, m.ModelVersion, m.LatestInference?.getTime(), m.LatestSampleTime?.getTime()]), [['wind-turbine', '1.0.0', first, first]]);

    // A malformed heartbeat changes nothing.
    await clock.advance(30_000);
    await connection.publish(topic, '{"agentVersion":', mqtt.QoS.AtLeastOnce);
    await waitFor(1, 1);
    assert.equal((await describe()).LatestHeartbeat?.getTime(), first);

    // No new inferences: LatestInference stays; a new model version appears.
    const second = clock.now();
    await connection.publish(topic, heartbeat({ agentVersion: '1.1.0', models: [{ name: 'wind-turbine', version: '1.0.0', inferences: 10 }, { name: 'wind-turbine', version: '2.0.0', inferences: 1 }], capture: { captured: 2 } }), mqtt.QoS.AtLeastOnce);
    await waitFor(2, 1);
    d = await describe();
    assert.equal(d.LatestHeartbeat?.getTime(), second);
    assert.equal(d.AgentVersion, '1.1.0');
    assert.deepEqual(d.Models?.map((m) => [m.ModelVersion, m.LatestInference?.getTime(), m.LatestSampleTime?.getTime()]), [['1.0.0', first, first], ['2.0.0', second, undefined]]);

    const recent = await sm.send(new ListDevicesCommand({ LatestHeartbeatAfter: new Date(first + 1) }));
    assert.deepEqual(recent.DeviceSummaries?.map((s) => [s.DeviceName, s.AgentVersion]), [['sm-turbine-0', '1.1.0']]);
    assert.deepEqual((await sm.send(new ListDevicesCommand({ LatestHeartbeatAfter: new Date(second) }))).DeviceSummaries, []);
    assert.equal((await sm.send(new ListDevicesCommand({ ModelName: 'wind-turbine' }))).DeviceSummaries?.length, 1);
  } finally {
    if (connection) await closeDevice(connection);
    sm.destroy();
    await cloud.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
