/**
 * Device Shadow in the local cloud: a device on aws-iot-device-sdk-v2 (IotShadowClientv2 over MQTT 3.1.1,
 * mutual TLS) and a back end on @aws-sdk/client-iot-data-plane, against registry + broker + shadow.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DeleteThingShadowCommand,
  GetThingShadowCommand,
  IoTDataPlaneClient,
  ListNamedShadowsForThingCommand,
  UpdateThingShadowCommand,
} from '@aws-sdk/client-iot-data-plane';
import { iotshadow, mqtt } from 'aws-iot-device-sdk-v2';
import { cloudClientConfig } from '../local-cloud';
import { installIotRegistry } from '../iot/registry-service';
import { connectThing, createPolicy, issueThingCertificate, ownTopicsPolicy, startRegistryCloud, type RegistryCloud, type ThingCredentials } from '../iot/registry-testing';
import { installMqttBroker } from '../mqtt/service';
import { closeDevice, Inbox, interrupted } from '../mqtt/mqtt-testing';
import { installShadow } from './service';
import { waitUntil } from '../../labs/poll-until';

const installers = [
  { name: 'iot-registry', install: installIotRegistry },
  { name: 'mqtt', install: installMqttBroker },
  { name: 'shadow', install: installShadow },
];

let rc: RegistryCloud;
let a: ThingCredentials;
let b: ThingCredentials;
let connA: mqtt.MqttClientConnection;
let shadowA: iotshadow.IotShadowClientv2;

function connect(t: ThingCredentials) {
  return connectThing(rc, t);
}

/** The modeled error of a rejected shadow request ({code, message, clientToken}). */
async function modeledError(p: Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await p;
  } catch (err) {
    const modeled = (err as { modeledError?: { code: number; message: string } }).modeledError;
    assert.ok(modeled, `expected a modeled shadow error, got ${String(err)}`);
    return modeled;
  }
  assert.fail('expected the request to be rejected');
}

const listening: string[] = [];

/**
 * Unsubscribe, close the shadow client, disconnect. (aws-crt 1.28 aborts the process at exit when a
 * connection that carried a request-response client is freed with live subscriptions, so unsubscribe first.)
 */
async function closeShadowDevice(): Promise<void> {
  for (const topic of listening.splice(0)) await connA.unsubscribe(topic).catch(() => undefined);
  shadowA?.close();
  if (connA) await closeDevice(connA);
}

/**
 * Subscribe to a shadow event topic and collect its documents. (IotShadowClientv2's streaming operations
 * receive these events too, but aws-crt 1.28's native streaming operation keeps the process from exiting
 * cleanly, so tests listen with a plain subscription, which is what the device SDK does underneath.)
 */
async function listen<T>(topic: string): Promise<T[]> {
  const events: T[] = [];
  listening.push(topic);
  await connA.subscribe(topic, mqtt.QoS.AtLeastOnce, (_t, payload) => events.push(JSON.parse(Buffer.from(payload).toString()) as T));
  return events;
}

function waitFor<T>(events: T[], count: number, ms = 5000): Promise<void> {
  return waitUntil(`${count} events`, () => events.length >= count, { timeoutMs: ms, intervalMs: 20, maxIntervalMs: 20 });
}

before(async () => {
  rc = await startRegistryCloud({ installers });
  await createPolicy(rc.iot, 'shadow-policy', ownTopicsPolicy(rc.cloud.region, rc.cloud.accountId, '$aws/things/${iot:Connection.Thing.ThingName}/shadow/*'));
  a = await issueThingCertificate(rc.iot, 'turbine-a', 'shadow-policy');
  b = await issueThingCertificate(rc.iot, 'turbine-b', 'shadow-policy');
  connA = await connect(a);
  shadowA = iotshadow.IotShadowClientv2.newFromMqtt311(connA, {
    maxRequestResponseSubscriptions: 6,
    maxStreamingSubscriptions: 4,
    operationTimeoutInSeconds: 5,
  });
});

after(async () => {
  await closeShadowDevice();
  await rc?.cleanup();
});

test('classic shadow through IotShadowClientv2: 404, update, delta and documents streams, get, version conflict, delete', async () => {
  const missing = await modeledError(shadowA.getShadow({ thingName: 'turbine-a' }));
  assert.equal(missing.code, 404);
  assert.match(missing.message, /^No shadow exists with name/);

  const deltas = await listen<iotshadow.model.ShadowDeltaUpdatedEvent>('$aws/things/turbine-a/shadow/update/delta');
  const documents = await listen<iotshadow.model.ShadowUpdatedEvent>('$aws/things/turbine-a/shadow/update/documents');

  const first = await shadowA.updateShadow({ thingName: 'turbine-a', state: { desired: { model: '1.0.0', threshold: 0.2 } } });
  assert.equal(first.version, 1);
  assert.deepEqual(first.state?.desired, { model: '1.0.0', threshold: 0.2 });
  await waitFor(deltas, 1);
  assert.deepEqual(deltas[0].state, { model: '1.0.0', threshold: 0.2 });
  assert.equal(deltas[0].version, 1);
  await waitFor(documents, 1);
  assert.equal(documents[0].current?.version, 1);
  assert.equal(documents[0].previous, undefined);

  const second = await shadowA.updateShadow({ thingName: 'turbine-a', state: { reported: { model: '1.0.0' } }, version: 1 });
  assert.equal(second.version, 2);
  await waitFor(deltas, 2);
  assert.deepEqual(deltas[1].state, { threshold: 0.2 }, 'the delta shrinks to what still differs');
  await waitFor(documents, 2);
  assert.equal(documents[1].previous?.version, 1);
  assert.deepEqual(documents[1].current?.state?.reported, { model: '1.0.0' });

  const got = await shadowA.getShadow({ thingName: 'turbine-a' });
  assert.equal(got.version, 2);
  assert.deepEqual(got.state?.delta, { threshold: 0.2 });
  assert.deepEqual(got.state?.reported, { model: '1.0.0' });
  assert.ok(typeof (got.metadata?.desired as { threshold: { timestamp: unknown } }).threshold.timestamp !== 'undefined');

  const conflict = await modeledError(shadowA.updateShadow({ thingName: 'turbine-a', state: { reported: { threshold: 0.2 } }, version: 1 }));
  assert.equal(conflict.code, 409);
  assert.equal(conflict.message, 'Version conflict');

  const deleted = await shadowA.deleteShadow({ thingName: 'turbine-a' });
  assert.equal(deleted.version, 2);
  assert.equal((await modeledError(shadowA.getShadow({ thingName: 'turbine-a' }))).code, 404);
});

test('named shadows are separate documents with their own versions', async () => {
  const named = await shadowA.updateNamedShadow({ thingName: 'turbine-a', shadowName: 'model', state: { reported: { name: 'ae', version: '1.0.0' } } });
  assert.equal(named.version, 1);
  const classic = await shadowA.updateShadow({ thingName: 'turbine-a', state: { reported: { rps: 3 } } });
  assert.equal(classic.version, 3, 'the classic shadow continues its version after the delete');
  const got = await shadowA.getNamedShadow({ thingName: 'turbine-a', shadowName: 'model' });
  assert.deepEqual(got.state?.reported, { name: 'ae', version: '1.0.0' });
  assert.equal((await shadowA.deleteNamedShadow({ thingName: 'turbine-a', shadowName: 'model' })).version, 1);
  assert.equal((await modeledError(shadowA.getNamedShadow({ thingName: 'turbine-a', shadowName: 'model' }))).code, 404);
});

test('malformed requests are rejected with the AWS error document, echoing the clientToken', async () => {
  const inbox = new Inbox();
  const prefix = '$aws/things/turbine-a/shadow/name/raw';
  listening.push(`${prefix}/update/rejected`);
  await connA.subscribe(`${prefix}/update/rejected`, mqtt.QoS.AtLeastOnce, inbox.onMessage);
  await connA.publish(`${prefix}/update`, '{not json', mqtt.QoS.AtLeastOnce);
  const invalid = JSON.parse(await inbox.next(`${prefix}/update/rejected`));
  assert.equal(invalid.code, 400);
  assert.equal(invalid.message, 'Invalid JSON');
  assert.equal(typeof invalid.timestamp, 'number');
  await connA.publish(`${prefix}/update`, JSON.stringify({ clientToken: 'ct-1', state: { desired: 'on' } }), mqtt.QoS.AtLeastOnce);
  const wrongNode = JSON.parse(await inbox.next(`${prefix}/update/rejected`));
  assert.deepEqual(wrongNode, { code: 400, message: 'Desired node must be an object', timestamp: wrongNode.timestamp, clientToken: 'ct-1' });
  assert.equal(typeof wrongNode.timestamp, 'number');
});

test("thing B's certificate cannot read thing A's shadow", async () => {
  const connB = await connect(b);
  const dropped = interrupted(connB);
  connB.subscribe('$aws/things/turbine-a/shadow/get/accepted', mqtt.QoS.AtLeastOnce, () => {}).catch(() => {});
  await dropped;
  await closeDevice(connB);
});

test('the HTTP shadow API (client-iot-data-plane) sees and changes the same shadows, and the device hears about it', async () => {
  const data = new IoTDataPlaneClient(cloudClientConfig(rc.cloud));
  try {
    const deltas = await listen<iotshadow.model.ShadowDeltaUpdatedEvent>('$aws/things/turbine-a/shadow/name/config/update/delta');
    const updated = await data.send(
      new UpdateThingShadowCommand({
        thingName: 'turbine-a',
        shadowName: 'config',
        payload: Buffer.from(JSON.stringify({ state: { desired: { sampling: 10 } } })),
      }),
    );
    const accepted = JSON.parse(Buffer.from(updated.payload!).toString());
    assert.equal(accepted.version, 1);
    await waitFor(deltas, 1);
    assert.deepEqual(deltas[0].state, { sampling: 10 });

    const got = JSON.parse(Buffer.from((await data.send(new GetThingShadowCommand({ thingName: 'turbine-a' }))).payload!).toString());
    assert.deepEqual(got.state.reported, { rps: 3 });
    const list = await data.send(new ListNamedShadowsForThingCommand({ thingName: 'turbine-a' }));
    assert.deepEqual(list.results, ['config']);

    await assert.rejects(data.send(new GetThingShadowCommand({ thingName: 'turbine-z' })), (err: Error) => {
      assert.equal(err.name, 'ResourceNotFoundException');
      assert.match(err.message, /No shadow exists with name: 'turbine-z'/);
      return true;
    });
    await assert.rejects(
      data.send(new UpdateThingShadowCommand({ thingName: 'turbine-a', shadowName: 'config', payload: Buffer.from('{"state":{"reported":{}},"version":7}') })),
      (err: Error) => err.name === 'ConflictException',
    );
    await assert.rejects(
      data.send(new UpdateThingShadowCommand({ thingName: 'turbine-a', payload: Buffer.from('nope') })),
      (err: Error) => err.name === 'InvalidRequestException' && /Invalid JSON/.test(err.message),
    );
    const del = JSON.parse(Buffer.from((await data.send(new DeleteThingShadowCommand({ thingName: 'turbine-a', shadowName: 'config' }))).payload!).toString());
    assert.equal(del.version, 1);
  } finally {
    data.destroy();
  }
});

test('shadows survive a restart of the cloud', async () => {
  await closeShadowDevice();
  await rc.stop();
  rc = await startRegistryCloud({ installers, dir: rc.dir });
  connA = await connect(a);
  shadowA = iotshadow.IotShadowClientv2.newFromMqtt311(connA, { maxRequestResponseSubscriptions: 6, maxStreamingSubscriptions: 4, operationTimeoutInSeconds: 5 });
  const got = await shadowA.getShadow({ thingName: 'turbine-a' });
  assert.equal(got.version, 3);
  assert.deepEqual(got.state?.reported, { rps: 3 });
});
