import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { guardPacketSize, MqttPacketScanner } from './packet-size-guard';
import { mqttPacket as packet } from './testing';

test('packets up to the limit pass, whatever the chunking; the first one over it is reported from its header', () => {
  const stream = Buffer.concat([packet(0x30, Buffer.alloc(100)), packet(0xc0, Buffer.alloc(0)), packet(0x30, Buffer.alloc(200)), packet(0x30, Buffer.alloc(201))]);
  for (const chunkSize of [1, 2, 3, 7, 64, stream.length]) {
    const scanner = new MqttPacketScanner(200);
    let found;
    for (let i = 0; i < stream.length && !found; i += chunkSize) found = scanner.scan(stream.subarray(i, i + chunkSize));
    assert.deepEqual(found, { declaredBytes: 201, maxBytes: 200 }, `chunks of ${chunkSize}`);
  }
});

test('an oversized length is reported before all its bytes arrived, and a five-byte length is malformed', () => {
  assert.equal(new MqttPacketScanner(1000).scan(Buffer.from([0x30, 0xff])), undefined, 'length incomplete and not yet over');
  assert.deepEqual(new MqttPacketScanner(100).scan(Buffer.from([0x30, 0xff])), { declaredBytes: 127, maxBytes: 100 });
  assert.deepEqual(new MqttPacketScanner(1 << 30).scan(Buffer.from([0x30, 0x80, 0x80, 0x80, 0x80])), { declaredBytes: Infinity, maxBytes: 1 << 30 });
});

test('the guard hands the reader nothing from an oversized packet on', () => {
  const socket = new PassThrough();
  const refused: number[] = [];
  guardPacketSize(socket, 10, (p) => refused.push(p.declaredBytes));
  socket.write(packet(0x30, Buffer.alloc(10)));
  assert.equal((socket.read() as Buffer).length, 12);
  socket.write(packet(0x30, Buffer.alloc(11)));
  assert.equal(socket.read(), null);
  socket.write(packet(0x30, Buffer.alloc(1)));
  assert.equal(socket.read(), null);
  assert.deepEqual(refused, [11]);
});
