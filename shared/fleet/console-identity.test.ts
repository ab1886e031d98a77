/**
 * The operator console's identity against the local cloud's real broker: it reads the fleet's alarms and
 * shadows, and the broker refuses it anything else (publishing telemetry, writing a shadow), as AWS IoT
 * would with the same policy.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { IoTClient } from '@aws-sdk/client-iot';
import { cloudClientConfig, type LocalCloud } from '../cloud/local-cloud';
import { DeviceConnection } from '../edge/device-connection';
import { provisionTestDevices, startTestCloud, tempDir, waitFor } from '../edge/agent-testing';
import { consolePolicyDocument, ensureConsoleIdentity } from './console-identity';
import { OperatorConsole } from './operator-console';

let cloud: LocalCloud;
let remove: () => Promise<void>;
let dir: string;
let bundles: string[];

before(async () => {
  const tmp = await tempDir('console-identity-');
  dir = tmp.dir;
  remove = tmp.remove;
  cloud = await startTestCloud(join(dir, 'cloud'));
  bundles = await provisionTestDevices(join(dir, 'cloud'), join(dir, 'devices'), 1);
});

after(async () => {
  await cloud?.stop();
  await remove?.();
});

test('the policy allows reading the fleet and asking for shadows, nothing else', () => {
  const doc = JSON.parse(consolePolicyDocument('us-east-1', '000000000000', 'fleet-console')) as { Statement: { Action: string | string[]; Resource: string | string[] }[] };
  const actions = doc.Statement.map((s) => s.Action).flat();
  assert.deepEqual(actions.sort(), ['iot:Connect', 'iot:Publish', 'iot:Receive', 'iot:Subscribe']);
  const publish = doc.Statement.find((s) => s.Action === 'iot:Publish');
  assert.deepEqual(publish?.Resource, 'arn:aws:iot:us-east-1:000000000000:topic/$aws/things/*/shadow/get');
});

test('the console receives a device alarm; a publish it has no right to makes the broker drop it', async () => {
  const iot = new IoTClient(cloudClientConfig(cloud));
  const identity = await ensureConsoleIdentity(iot, join(dir, 'console'), readFileSync(cloud.caCertPath as string, 'utf8'), { region: cloud.region, accountId: cloud.accountId });
  // A second call reuses the certificate kept in the folder.
  const again = await ensureConsoleIdentity(iot, join(dir, 'console'), identity.caPem, { region: cloud.region, accountId: cloud.accountId });
  assert.equal(again.certificatePem, identity.certificatePem);
  iot.destroy();
  const endpoint = { host: cloud.endpoints.mqttHost, port: cloud.endpoints.mqttPort };
  const operator = new OperatorConsole(identity, endpoint);
  await operator.start();

  const device = JSON.parse(readFileSync(join(bundles[0], 'device.json'), 'utf8')) as { thingName: string };
  const pem = (f: string): string => readFileSync(join(bundles[0], f), 'utf8');
  const deviceConnection = new DeviceConnection({ ...endpoint, clientId: device.thingName, certificatePem: pem('certificate.pem'), privateKeyPem: pem('private.key'), caPem: pem('ca.pem') });
  await deviceConnection.start();
  await deviceConnection.publish(`wind-turbine/${device.thingName}/alarms`, JSON.stringify({ thingName: device.thingName, model: 'm', version: '1.0.0', endEventTime: '2021-03-01T12:00:01.000Z', score: 3, overThreshold: ['roll'] }));
  await deviceConnection.publish(`wind-turbine/${device.thingName}/alarms`, 'not json');
  await waitFor(() => (operator.devices.get(device.thingName)?.alarms ?? 0) === 1 && operator.unreadable === 1, 10_000, 'the console to read the alarm and count the garbled message');
  assert.deepEqual(operator.devices.get(device.thingName)?.featureAlarmAt.roll !== undefined, true);
  await deviceConnection.stop();
  await operator.stop();

  // The same identity, publishing telemetry or writing a shadow: the broker closes the connection.
  for (const topic of [`wind-turbine/${device.thingName}/alarms`, `$aws/things/${device.thingName}/shadow/update`]) {
    const raw = new DeviceConnection({ ...endpoint, clientId: identity.thingName, certificatePem: identity.certificatePem, privateKeyPem: identity.privateKeyPem, caPem: identity.caPem });
    await raw.start();
    let dropped = false;
    raw.on('offline', () => (dropped = true));
    await raw.publish(topic, '{"state":{"desired":{"contingency":{"release":"x"}}}}').catch(() => (dropped = true));
    await waitFor(() => dropped, 10_000, `the broker to drop the console after publishing to ${topic}`);
    await raw.stop();
  }
});
