/**
 * DeviceConnection against the real TLS broker: a device whose first connect fails (the cloud is not up
 * yet, or its TLS handshake timed out in a reconnect storm) must still notice a later outage and come back.
 * aws-crt drops the interrupt/resume callbacks of a connection whose first connect failed; reusing it left
 * such devices "online" forever after the broker went away (439 of 1000 in the reconnect-storm scenario).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { issueDeviceCertificate, loadOrCreateCa, loadOrCreateServerCertificate } from '../cloud/iot/ca';
import { allowAllAuthorizer } from '../cloud/mqtt/authorizer';
import { startMqttBroker } from '../cloud/mqtt/broker';
import { DeviceConnection } from './device-connection';

/** A TCP port nothing listens on (yet). */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

test('a device whose first connect failed still notices a broker outage and reconnects', { timeout: 180_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'device-connection-test-'));
  const ca = await loadOrCreateCa(join(dir, 'ca'));
  const tls = { caCertPem: ca.caCertPem, ...(await loadOrCreateServerCertificate(ca)) };
  const device = await issueDeviceCertificate(ca);
  const port = await freePort();
  const lines: string[] = [];
  let failedOnce!: () => void;
  const firstFailure = new Promise<void>((resolve) => (failedOnce = resolve));
  const connection = new DeviceConnection({ host: '127.0.0.1', port, clientId: 'late-cloud-device', certificatePem: device.certificatePem, privateKeyPem: device.privateKeyPem, caPem: ca.caCertPem }, (line) => {
    lines.push(line);
    if (line.startsWith('cannot connect')) failedOnce();
  });
  let broker: Awaited<ReturnType<typeof startMqttBroker>> | undefined;
  try {
    const started = connection.start();
    await firstFailure;
    assert.ok(lines.some((l) => /cannot connect to 127\.0\.0\.1:\d+ \(Failed to connect: .*REFUSED/.test(l)), `the failure says why: ${lines.join(' | ')}`);

    broker = await startMqttBroker({ tls, authorizer: allowAllAuthorizer, port });
    await started;
    assert.equal(connection.isOnline, true);
    const received: string[] = [];
    let echo!: () => void;
    const echoed = new Promise<void>((resolve) => (echo = resolve));
    await connection.subscribe('late/topic', (_topic, payload) => {
      received.push(Buffer.from(payload).toString('utf8'));
      echo();
    });
    await connection.connection.publish('late/topic', 'through the service-client view', 1);
    await echoed;
    assert.deepEqual(received, ['through the service-client view']);

    const offline = once(connection, 'offline');
    await broker.stop();
    broker = undefined;
    await offline;
    assert.equal(connection.isOnline, false);

    const online = once(connection, 'online');
    broker = await startMqttBroker({ tls, authorizer: allowAllAuthorizer, port });
    await online;
    assert.equal(connection.isOnline, true);
  } finally {
    await connection.stop();
    await broker?.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test('connection timing that would make a device give up on a live broker, or never retry, is refused with the reason', () => {
  const endpoint = { host: '127.0.0.1', port: 1, clientId: 'timing-device', certificatePem: '', privateKeyPem: '', caPem: '' };
  assert.throws(() => new DeviceConnection(endpoint, undefined, { pingTimeoutMs: 30_000 }), /pingTimeoutMs \(30000\) must be above 0 and below keepAliveSeconds \(30 s\)/);
  assert.throws(() => new DeviceConnection(endpoint, undefined, { reconnectMinSeconds: 8, reconnectMaxSeconds: 4 }), /reconnect back-off 8\.\.4 s/);
  assert.throws(() => new DeviceConnection(endpoint, undefined, { firstRetryMs: 0 }), /firstRetryMs must be above 0/);
});
