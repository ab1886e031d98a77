/**
 * Fault: every device reconnects at once. N device connections (50 in the short form, 1000 under
 * FAULTS_SCALE=full), each its own thing with its own certificate (see storm-devices.ts) over mutual TLS, use the agent's
 * own connection module (shared/edge/device-connection.ts: aws-iot-device-sdk-v2, reconnect and
 * re-subscribe) without the rest of the agent, subscribed to their IoT Jobs notify-next topic. The broker
 * restarts (the local cloud stopped and started on the same ports), so all of them drop and reconnect
 * together; then one job targets every thing. All must be back online with their subscriptions, and each
 * must receive its job notification.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { CreateJobCommand, DescribeThingCommand, IoTClient } from '@aws-sdk/client-iot';
import { cloudClientConfig } from '../cloud';
import { DeviceConnection } from '../edge/device-connection';
import { startTestCloud, tempDir, waitFor } from '../edge/agent-testing';
import { recordFigure, scaled } from './figures';
import { provisionStormDevices } from './storm-devices';

const DEVICES = scaled(50, 1000);

test(`${DEVICES} devices reconnecting at once after a broker restart: all reconnect and resubscribe, none misses its job notification`, { timeout: 300_000 + DEVICES * 400 }, async () => {
  const tmp = await tempDir('faults-storm-');
  const cloudDir = join(tmp.dir, 'cloud');
  let cloud = await startTestCloud(cloudDir);
  const ports = { port: Number(new URL(cloud.endpoints.http).port), mqttPort: cloud.endpoints.mqttPort };
  const devices: { thingName: string; connection: DeviceConnection; onlineCount: number; notified: Map<string, number> }[] = [];
  const logs: string[] = [];
  try {
    const t0 = Date.now();
    const endpoints = await provisionStormDevices(cloud, join(tmp.dir, 'devices'), DEVICES);
    const provisionMs = Date.now() - t0;
    for (const endpoint of endpoints) {
      const thingName = endpoint.clientId;
      const connection = new DeviceConnection(endpoint, (l) => logs.push(`${thingName} ${l}`));
      const device = { thingName, connection, onlineCount: 0, notified: new Map<string, number>() };
      connection.on('online', () => device.onlineCount++);
      await connection.subscribe(`$aws/things/${thingName}/jobs/notify-next`, (_t, payload) => {
        const jobId = (JSON.parse(Buffer.from(payload).toString('utf8')) as { execution?: { jobId?: string } }).execution?.jobId;
        if (jobId) device.notified.set(jobId, (device.notified.get(jobId) ?? 0) + 1);
      });
      devices.push(device);
    }
    const c0 = Date.now();
    await Promise.all(devices.map((d) => d.connection.start()));
    const connectMs = Date.now() - c0;

    // The storm: every connection drops at once and comes back by itself.
    await cloud.stop();
    const down = Date.now();
    // Every device must notice (a connection whose first connect had failed once never did: device-connection.ts).
    await waitFor(() => devices.every((d) => !d.connection.isOnline), 60_000, 'every device to notice the broker is gone').catch((err: Error) => {
      const still = devices.filter((d) => d.connection.isOnline).map((d) => d.thingName);
      throw new Error(`${err.message}: ${still.length} still online, e.g. ${still.slice(0, 5).join(', ')}`);
    });
    const noticed = devices.filter((d) => !d.connection.isOnline).length;
    cloud = await startTestCloud(cloudDir, ports);
    const back = Date.now();
    const reconnectWait = 60_000 + DEVICES * 200;
    await waitFor(() => devices.every((d) => d.connection.isOnline && d.onlineCount >= 2), reconnectWait, 'every device to reconnect and re-subscribe').catch(() => undefined);
    const reconnectMs = Date.now() - back;
    const reconnected = devices.filter((d) => d.connection.isOnline && d.onlineCount >= 2).length;

    const iot = new IoTClient(cloudClientConfig(cloud));
    const targets: string[] = [];
    for (const d of devices) targets.push((await iot.send(new DescribeThingCommand({ thingName: d.thingName }))).thingArn as string);
    const jobId = 'after-the-storm';
    const created = Date.now();
    await iot.send(new CreateJobCommand({ jobId, targets, document: JSON.stringify({ operation: 'noop' }) }));
    iot.destroy();
    await waitFor(() => devices.every((d) => d.notified.has(jobId)), 30_000 + DEVICES * 50, 'every device to be notified').catch(() => undefined);
    const notifyMs = Date.now() - created;
    const missed = devices.filter((d) => !d.notified.has(jobId));
    const duplicated = devices.reduce((n, d) => n + Math.max(0, (d.notified.get(jobId) ?? 0) - 1), 0);
    const ok = reconnected === DEVICES && missed.length === 0;
    recordFigure({
      scenario: 'reconnect-storm',
      injected: `broker restarted under ${DEVICES} connected devices (the agent's DeviceConnection, aws-iot-device-sdk-v2, own thing and certificate each, one shared RSA key, mutual TLS), all dropping and reconnecting at once; then one job to all of them`,
      held: `${reconnected} of ${DEVICES} reconnected and re-subscribed; ${DEVICES - missed.length} of ${DEVICES} received their notify-next for the job`,
      ok,
      lost: missed.length,
      duplicated,
      refused: DEVICES - reconnected,
      durationsMs: { provision: provisionMs, 'first connect': connectMs, outage: back - down, 'all reconnected': reconnectMs, 'all notified': notifyMs },
      counts: { devices: DEVICES, noticedOutageWithin60s: noticed, reconnected, notified: DEVICES - missed.length },
    });
    assert.equal(reconnected, DEVICES, `devices not back online: ${devices.filter((d) => !(d.connection.isOnline && d.onlineCount >= 2)).slice(0, 5).map((d) => d.thingName).join(', ')}; ${logs.filter((l) => /fail|error/i.test(l)).slice(0, 5).join(' | ')}`);
    assert.deepEqual(missed.map((d) => d.thingName), [], 'every device got its job notification');
  } finally {
    await Promise.all(devices.map((d) => d.connection.stop()));
    await cloud.stop();
    await tmp.remove();
  }
});
