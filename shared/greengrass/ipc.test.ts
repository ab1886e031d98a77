/**
 * The nucleus IPC over its real Unix socket: local publish/subscribe and the MQTT proxy, each allowed
 * only by the component's accessControl (AWS format), and a component process finds the socket and its
 * token in its environment.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectIpc, type IpcMessage } from './ipc-client';
import { authorized, IpcServer } from './ipc';
import { deploymentOf, recipeOf, startTestNucleus } from './nucleus-testing';
import { waitUntil } from '../labs/poll-until';

const pubsub = (operations: string[], resources: string[]) => ({ 'aws.greengrass.ipc.pubsub': { 'com.example:pubsub:1': { policyDescription: 'test', operations, resources } } });

test('accessControl: operation and resource must both be allowed; MQTT wildcards in resources match published topics', () => {
  const acl = { ...pubsub(['aws.greengrass#PublishToTopic'], ['turbine/+/alarms']), 'aws.greengrass.ipc.mqttproxy': { p: { operations: ['*'], resources: ['wind-turbine/t1/#'] } } };
  assert.equal(authorized(acl, 'publish', 'turbine/7/alarms'), true);
  assert.equal(authorized(acl, 'publish', 'turbine/7/telemetry'), false);
  assert.equal(authorized(acl, 'subscribe', 'turbine/7/alarms'), false, 'publish rights do not give subscribe');
  assert.equal(authorized(acl, 'publishToIoTCore', 'wind-turbine/t1/alarms'), true);
  assert.equal(authorized(acl, 'subscribeToIoTCore', 'wind-turbine/t1/#'), true);
  assert.equal(authorized(acl, 'subscribeToIoTCore', 'wind-turbine/t1/+'), false, 'a subscription filter must be listed as is');
  assert.equal(authorized(undefined, 'publish', 'x'), false);
});

test('components publish and subscribe through the socket; unauthorized requests and unknown tokens are refused', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ipc-'));
  const log: string[] = [];
  const server = await IpcServer.start(join(dir, 'ipc.socket'), (l) => log.push(l));
  const cloudOut: [string, string][] = [];
  const cloudHandlers = new Map<string, (t: string, p: Buffer) => void>();
  server.cloud = { publish: async (t, p) => void cloudOut.push([t, p]), subscribe: async (t, h) => void cloudHandlers.set(t, h) };
  try {
    const detectorToken = server.issueToken('Detector', () => ({ ...pubsub(['aws.greengrass#PublishToTopic'], ['alarms/#']), 'aws.greengrass.ipc.mqttproxy': { p: { operations: ['aws.greengrass#PublishToIoTCore', 'aws.greengrass#SubscribeToIoTCore'], resources: ['wind-turbine/t1/alarms', 'wind-turbine/t1/commands'] } } }));
    const uiToken = server.issueToken('Ui', () => pubsub(['aws.greengrass#SubscribeToTopic'], ['alarms/#']));
    const detector = await connectIpc({ socketPath: server.socketPath, token: detectorToken });
    const ui = await connectIpc({ socketPath: server.socketPath, token: uiToken });
    assert.equal(detector.component, 'Detector');
    const got: IpcMessage[] = [];
    await ui.subscribe('alarms/#', (m) => got.push(m));
    await detector.publish('alarms/t1', '{"score":9}');
    await waitUntil('the alarm to reach the subscriber', () => got.length > 0, { timeoutMs: 5000, intervalMs: 10 });
    assert.deepEqual(got, [{ event: 'message', topic: 'alarms/t1', message: '{"score":9}', from: 'Detector' } as unknown as IpcMessage]);
    await assert.rejects(ui.publish('alarms/t1', 'x'), { name: 'UnauthorizedError', message: /Ui is not authorized to perform aws.greengrass#PublishToTopic on resource alarms\/t1/ });
    await assert.rejects(detector.subscribe('alarms/#', () => undefined), { name: 'UnauthorizedError' });

    await detector.publishToIoTCore('wind-turbine/t1/alarms', 'alarm');
    assert.deepEqual(cloudOut, [['wind-turbine/t1/alarms', 'alarm']]);
    const commands: IpcMessage[] = [];
    await detector.subscribeToIoTCore('wind-turbine/t1/commands', (m) => commands.push(m));
    cloudHandlers.get('wind-turbine/t1/commands')?.('wind-turbine/t1/commands', Buffer.from('reload'));
    await waitUntil('the command to reach the component', () => commands.length > 0, { timeoutMs: 5000, intervalMs: 10 });
    assert.deepEqual(commands.map((m) => [m.topic, m.message, m.from]), [['wind-turbine/t1/commands', 'reload', 'iotcore']]);
    await assert.rejects(detector.publishToIoTCore('wind-turbine/t2/alarms', 'x'), { name: 'UnauthorizedError' });

    await assert.rejects(connectIpc({ socketPath: server.socketPath, token: 'forged' }), { name: 'UnauthorizedError' });
    server.revokeToken(uiToken);
    const closed = /closed the IPC connection|EPIPE|ECONNRESET|This socket has been ended/;
    // Until the server's close arrives, the request is refused as unauthorized instead: wait for the close.
    await waitUntil('the revoked connection to close', () => ui.publish('alarms/x', 'x').then(() => false, (err: Error) => closed.test(err.message)), { timeoutMs: 5000, intervalMs: 10 });
    await assert.rejects(ui.publish('alarms/x', 'x'), closed);
    detector.close();
  } finally {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test('a component process gets the IPC socket and its own token in its environment', async () => {
  const t = await startTestNucleus();
  try {
    const check = recipeOf('Env', '1.0.0', { Startup: 'test -S "$AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT" && test ${#SVCUID} -eq 48 && test "$AWS_IOT_THING_NAME" = turbine-test' });
    const r = await t.nucleus.deploy(deploymentOf({ Env: '1.0.0' }, [check]));
    assert.equal(r.status, 'SUCCEEDED', r.reason);
  } finally {
    await t.cleanup();
  }
});
