/**
 * The broker as installed in the local cloud, with the real registry flow: CreatePolicy,
 * CreateKeysAndCertificate, AttachPolicy and AttachThingPrincipal through @aws-sdk/client-iot, then
 * devices on aws-iot-device-sdk-v2 over mutual TLS.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AddThingToThingGroupCommand,
  AttachPolicyCommand,
  CreateThingGroupCommand,
  DescribeEndpointCommand,
  DetachPolicyCommand,
  UpdateCertificateCommand,
} from '@aws-sdk/client-iot';
import { mqtt } from 'aws-iot-device-sdk-v2';
import { installIotRegistry } from '../iot/registry-service';
import { connectThing, createPolicy, issueThingCertificate, ownTopicsPolicy, startRegistryCloud, type RegistryCloud, type ThingCredentials } from '../iot/registry-testing';
import { installMqttBroker } from './service';
import { closeDevice, Inbox, interrupted } from './mqtt-testing';

const installers = [
  { name: 'iot-registry', install: installIotRegistry },
  { name: 'mqtt', install: installMqttBroker },
];

let rc: RegistryCloud;
let a: ThingCredentials;
let b: ThingCredentials;

function connect(t: ThingCredentials, clientId = t.thingName) {
  return connectThing(rc, t, clientId);
}

before(async () => {
  rc = await startRegistryCloud({ installers });
  await createPolicy(rc.iot, 'turbine-policy', ownTopicsPolicy(rc.cloud.region, rc.cloud.accountId, 'turbines/${iot:Connection.Thing.ThingName}/*', ['iot:RetainPublish']));
  a = await issueThingCertificate(rc.iot, 'turbine-a', 'turbine-policy');
  b = await issueThingCertificate(rc.iot, 'turbine-b', 'turbine-policy');
});

after(async () => {
  await rc?.cleanup();
});

test('the installer sets ctx.bus and the MQTT port, and DescribeEndpoint names the broker', async () => {
  assert.ok(rc.cloud.context.bus);
  assert.ok(rc.cloud.endpoints.mqttPort > 0);
  const ep = await rc.iot.send(new DescribeEndpointCommand({ endpointType: 'iot:Data-ATS' }));
  assert.ok(ep.endpointAddress?.includes(rc.cloud.endpoints.mqttHost), ep.endpointAddress);
});

test('thing A talks on its own topics but is disconnected for subscribing or publishing on thing B\'s', async () => {
  const connA = await connect(a);
  const inbox = new Inbox();
  await connA.subscribe('turbines/turbine-a/#', mqtt.QoS.AtLeastOnce, inbox.onMessage);
  await connA.publish('turbines/turbine-a/status', 'ok', mqtt.QoS.AtLeastOnce);
  assert.equal(await inbox.next('turbines/turbine-a/status'), 'ok');
  const dropped = interrupted(connA);
  connA.subscribe('turbines/turbine-b/#', mqtt.QoS.AtLeastOnce, () => {}).catch(() => {});
  await dropped;
  await closeDevice(connA);

  const connB = await connect(b);
  const inboxB = new Inbox();
  await connB.subscribe('turbines/turbine-b/#', mqtt.QoS.AtLeastOnce, inboxB.onMessage);
  const connA2 = await connect(a);
  const dropped2 = interrupted(connA2);
  connA2.publish('turbines/turbine-b/cmd', 'spoof', mqtt.QoS.AtMostOnce).catch(() => {});
  await dropped2;
  await assert.rejects(inboxB.next('turbines/turbine-b/cmd', 300));
  await closeDevice(connA2);
  await closeDevice(connB);
});

test("thing A's certificate cannot connect as thing B", async () => {
  await assert.rejects(connect(a, 'turbine-b'));
});

test('a thing-group policy applies only when the client id is the thing name', async () => {
  const arn = (rest: string) => `arn:aws:iot:${rc.cloud.region}:${rc.cloud.accountId}:${rest}`;
  await createPolicy(rc.iot, 'group-connect', {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: 'iot:Connect', Resource: arn('client/*') }],
  });
  const g = await issueThingCertificate(rc.iot, 'turbine-g');
  await rc.iot.send(new CreateThingGroupCommand({ thingGroupName: 'farm' }));
  await rc.iot.send(new AddThingToThingGroupCommand({ thingGroupName: 'farm', thingName: 'turbine-g' }));
  await rc.iot.send(new AttachPolicyCommand({ policyName: 'group-connect', target: arn('thinggroup/farm') }));
  const conn = await connect(g);
  await closeDevice(conn);
  await assert.rejects(connect(g, 'someone-else'));
});

test('detaching the policy refuses the next connection; revoking drops the live one and refuses reconnecting', async () => {
  const c = await issueThingCertificate(rc.iot, 'turbine-c', 'turbine-policy');
  const conn = await connect(c);
  const dropped = interrupted(conn, 3000);
  await rc.iot.send(new UpdateCertificateCommand({ certificateId: c.certificateId, newStatus: 'REVOKED' }));
  await dropped;
  await closeDevice(conn);
  await assert.rejects(connect(c));

  const d = await issueThingCertificate(rc.iot, 'turbine-d', 'turbine-policy');
  await closeDevice(await connect(d));
  await rc.iot.send(new DetachPolicyCommand({ policyName: 'turbine-policy', target: d.certificateArn }));
  await assert.rejects(connect(d));
});

test('retained messages survive a restart of the cloud, and an empty retained payload clears them for good', async () => {
  const topic = 'turbines/turbine-a/config';
  const restart = async () => {
    await rc.stop();
    rc = await startRegistryCloud({ installers, dir: rc.dir });
  };
  const retainedNow = async (): Promise<string | undefined> => {
    const conn = await connect(a);
    try {
      const inbox = new Inbox();
      await conn.subscribe(topic, mqtt.QoS.AtLeastOnce, inbox.onMessage);
      return await inbox.next(topic, 500).catch(() => undefined);
    } finally {
      await conn.unsubscribe(topic);
      await closeDevice(conn);
    }
  };
  const publisher = await connect(a);
  await publisher.publish(topic, '{"threshold":0.3}', mqtt.QoS.AtLeastOnce, true);
  await closeDevice(publisher);
  await restart();
  assert.equal(await retainedNow(), '{"threshold":0.3}');
  const clearer = await connect(a);
  await clearer.publish(topic, '', mqtt.QoS.AtLeastOnce, true);
  await closeDevice(clearer);
  await restart();
  assert.equal(await retainedNow(), undefined);
});
