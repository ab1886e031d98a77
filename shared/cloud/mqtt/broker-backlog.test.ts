/**
 * The broker under a message backlog, as in a reconnect storm: a subscriber whose socket stops reading
 * holds deliveries in flight (each waits for 'drain'), so aedes' emitter reaches its concurrency limit and
 * queues every further message (in a storm: each connect's and disconnect's $SYS and presence events).
 * When the slow subscriber drains, the queue is released; messages nobody subscribes to complete
 * synchronously, and mqemitter used to release the next one from inside the previous one's callback, one
 * stack level per queued message, until `RangeError: Maximum call stack size exceeded` killed the cloud.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { once } from 'node:events';
import { issueDeviceCertificate, loadOrCreateCa, loadOrCreateServerCertificate } from '../iot/ca';
import { allowAllAuthorizer } from './authorizer';
import { startMqttBroker } from './broker';
import { mqttPacket as packet } from './testing';

/** A length-prefixed MQTT string. */
function mqttString(text: string): Buffer {
  const bytes = Buffer.from(text);
  return Buffer.concat([Buffer.from([bytes.length >> 8, bytes.length & 0xff]), bytes]);
}

test('a backlog of thousands of queued messages released at once does not overflow the stack; every message is delivered or completed', { timeout: 300_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mqtt-backlog-test-'));
  const ca = await loadOrCreateCa(join(dir, 'ca'));
  const server = await loadOrCreateServerCertificate(ca);
  const device = await issueDeviceCertificate(ca);
  const broker = await startMqttBroker({ tls: { caCertPem: ca.caCertPem, ...server }, authorizer: allowAllAuthorizer });
  const socket = tlsConnect({ host: '127.0.0.1', port: broker.port, ca: ca.caCertPem, cert: device.certificatePem, key: device.privateKeyPem, servername: 'localhost' });
  try {
    await once(socket, 'secureConnect');
    // CONNECT (MQTT 3.1.1, clean session, keep-alive 600 s), then SUBSCRIBE slow/# at QoS 0.
    socket.write(packet(0x10, Buffer.concat([mqttString('MQTT'), Buffer.from([0x04, 0x02, 0x02, 0x58]), mqttString('slow-subscriber')])));
    socket.write(packet(0x82, Buffer.concat([Buffer.from([0x00, 0x01]), mqttString('slow/#'), Buffer.from([0x00])])));
    let received = Buffer.alloc(0);
    const onData = (chunk: Buffer) => (received = Buffer.concat([received, chunk]));
    socket.on('data', onData);
    // CONNACK (4 bytes) and SUBACK (5 bytes).
    while (received.length < 9) await once(socket, 'data');
    socket.off('data', onData);
    assert.deepEqual([...received.subarray(0, 4)], [0x20, 0x02, 0x00, 0x00], 'CONNACK accepted');
    assert.deepEqual([...received.subarray(4, 9)], [0x90, 0x03, 0x00, 0x01, 0x00], 'SUBACK granted QoS 0');

    // The subscriber stops reading: once the kernel buffers are full, each delivery to it waits for 'drain'.
    socket.pause();
    const slowMessages = 400;
    const payload = Buffer.alloc(100 * 1024, 0x61);
    const slow = Array.from({ length: slowMessages }, () => broker.bus.publish('slow/big', payload));
    // With aedes' 100 deliveries in flight, these all wait in the emitter's queue.
    const backlogMessages = 20_000;
    const backlog = Array.from({ length: backlogMessages }, (_, i) => broker.bus.publish(`nobody/listens/${i}`, 'x'));
    let completed = 0;
    for (const p of backlog) void p.then(() => completed++);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.ok(completed < backlogMessages, 'the backlog is held behind the stalled deliveries (else this test shows nothing)');

    // The subscriber reads again: its deliveries drain and the whole backlog is released.
    let bytes = 0;
    socket.on('data', (chunk: Buffer) => (bytes += chunk.length));
    socket.resume();
    await Promise.all([...slow, ...backlog]);
    assert.equal(completed, backlogMessages);
    const expected = slowMessages * packet(0x30, Buffer.concat([mqttString('slow/big'), payload])).length;
    while (bytes < expected) await once(socket, 'data');
    assert.equal(bytes, expected, 'every slow message delivered, nothing more');
  } finally {
    socket.destroy();
    await broker.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
