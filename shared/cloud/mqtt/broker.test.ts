/**
 * The TLS broker with AWS IoT authorisation, driven by aws-iot-device-sdk-v2 devices over mutual TLS.
 * The registry is replaced here by an in-memory PrincipalDirectory; the registry flow end to end is in
 * service.test.ts.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { once } from 'node:events';
import { mqtt } from 'aws-iot-device-sdk-v2';
import { certificateIdOf, issueDeviceCertificate, loadOrCreateCa, loadOrCreateServerCertificate, type IssuedCertificate } from '../iot/ca';
import { PolicyAuthorizer } from './authorizer';
import { MQTT_LIMITS, startMqttBroker, type MqttBroker } from './broker';
import { closeDevice, connectDevice, deviceConnection, Inbox, interrupted, MemoryPrincipalDirectory } from './mqtt-testing';
import { waitUntil } from '../../labs/poll-until';

const REGION = 'us-east-1';
const ACCOUNT = '000000000000';

/** The workshop's device policy: each thing may use only its own topics. */
const THING_POLICY = {
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Action: 'iot:Connect', Resource: `arn:aws:iot:${REGION}:${ACCOUNT}:client/\${iot:Connection.Thing.ThingName}` },
    {
      Effect: 'Allow',
      Action: ['iot:Publish', 'iot:Receive', 'iot:RetainPublish'],
      Resource: [
        `arn:aws:iot:${REGION}:${ACCOUNT}:topic/$aws/things/\${iot:Connection.Thing.ThingName}/*`,
        `arn:aws:iot:${REGION}:${ACCOUNT}:topic/turbines/\${iot:Connection.Thing.ThingName}/*`,
      ],
    },
    {
      Effect: 'Allow',
      Action: 'iot:Subscribe',
      Resource: [
        `arn:aws:iot:${REGION}:${ACCOUNT}:topicfilter/$aws/things/\${iot:Connection.Thing.ThingName}/*`,
        `arn:aws:iot:${REGION}:${ACCOUNT}:topicfilter/turbines/\${iot:Connection.Thing.ThingName}/*`,
      ],
    },
  ],
};

interface Device {
  thing: string;
  cert: IssuedCertificate;
  certificateId: string;
  certificateArn: string;
}

let dir: string;
let caCertPem: string;
let directory: MemoryPrincipalDirectory;
let broker: MqttBroker;
let lenientBroker: MqttBroker; // answers SUBACK 0x80 instead of disconnecting
let a: Device;
let b: Device;
let foreignCert: IssuedCertificate;
const brokerLog: string[] = [];

async function newDevice(ca: Awaited<ReturnType<typeof loadOrCreateCa>>, thing: string, policy: object = THING_POLICY): Promise<Device> {
  const cert = await issueDeviceCertificate(ca);
  const certificateId = certificateIdOf(cert.certificatePem);
  const certificateArn = directory.addCertificate(certificateId, cert.certificatePem, REGION, ACCOUNT);
  directory.attachThing(certificateArn, thing);
  directory.attachPolicy(certificateArn, 'thing-policy', policy);
  return { thing, cert, certificateId, certificateArn };
}

function connect(d: Device, opts: { clientId?: string; cleanSession?: boolean; port?: number } = {}) {
  return connectDevice({
    certificatePem: d.cert.certificatePem,
    privateKeyPem: d.cert.privateKeyPem,
    caCertPem,
    host: '127.0.0.1',
    port: opts.port ?? broker.port,
    clientId: opts.clientId ?? d.thing,
    cleanSession: opts.cleanSession,
  });
}

/** A device's mutual-TLS socket to the broker, for writing MQTT bytes by hand. */
async function rawTlsDevice(d: Device, alpn?: string[]): Promise<TLSSocket> {
  const socket = tlsConnect({
    host: '127.0.0.1',
    port: broker.port,
    ca: caCertPem,
    cert: d.cert.certificatePem,
    key: d.cert.privateKeyPem,
    servername: 'localhost',
    ALPNProtocols: alpn,
  });
  await once(socket, 'secureConnect');
  return socket;
}

/** Send an MQTT 3.1.1 CONNECT (clean session, keep-alive 60) and resolve with the first bytes answered (the CONNACK). */
async function rawConnect(socket: TLSSocket, clientId: string): Promise<Buffer> {
  const id = Buffer.from(clientId);
  const variable = Buffer.from([0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x02, 0x00, 0x3c]);
  const payload = Buffer.concat([Buffer.from([0x00, id.length]), id]);
  socket.write(Buffer.concat([Buffer.from([0x10, variable.length + payload.length]), variable, payload]));
  const [connack] = (await once(socket, 'data')) as [Buffer];
  return connack;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mqtt-broker-test-'));
  const ca = await loadOrCreateCa(join(dir, 'ca'));
  const server = await loadOrCreateServerCertificate(ca);
  caCertPem = ca.caCertPem;
  directory = new MemoryPrincipalDirectory();
  a = await newDevice(ca, 'turbine-a');
  b = await newDevice(ca, 'turbine-b');
  const otherCa = await loadOrCreateCa(join(dir, 'other-ca'));
  foreignCert = await issueDeviceCertificate(otherCa);
  const tls = { caCertPem: ca.caCertPem, ...server };
  const authorizer = new PolicyAuthorizer(directory, { region: REGION, accountId: ACCOUNT });
  broker = await startMqttBroker({ tls, authorizer, revocationCheckMs: 100, log: (l) => brokerLog.push(l) });
  lenientBroker = await startMqttBroker({ tls, authorizer, onSubscribeDenied: 'suback-failure' });
});

after(async () => {
  await broker?.stop();
  await lenientBroker?.stop();
  await rm(dir, { recursive: true, force: true });
});

test('a device publishes and receives on its own topics', async () => {
  const conn = await connect(a);
  try {
    const inbox = new Inbox();
    const sub = await conn.subscribe('turbines/turbine-a/#', mqtt.QoS.AtLeastOnce, inbox.onMessage);
    assert.equal(sub.qos, mqtt.QoS.AtLeastOnce);
    await conn.publish('turbines/turbine-a/telemetry', JSON.stringify({ rps: 3 }), mqtt.QoS.AtLeastOnce);
    assert.deepEqual(JSON.parse(await inbox.next('turbines/turbine-a/telemetry')), { rps: 3 });
  } finally {
    await closeDevice(conn);
  }
});

test("a device cannot subscribe to another thing's topics: AWS closes the connection", async () => {
  const conn = await connect(a);
  try {
    const dropped = interrupted(conn);
    const sub = conn.subscribe('turbines/turbine-b/#', mqtt.QoS.AtLeastOnce, () => {}).catch((e: unknown) => e);
    await dropped;
    assert.ok(brokerLog.some((l) => l.includes('iot:Subscribe on topicfilter/turbines/turbine-b/# is not allowed')));
    await closeDevice(conn);
    await sub;
  } finally {
    await closeDevice(conn);
  }
});

test('interrupted() waits for the interrupt even when a request the close cancelled reports its error first', async () => {
  const conn = await connect(a);
  try {
    const dropped = interrupted(conn);
    // The order a CI run once saw: aws-crt's echo of a cancelled subscribe, then the interrupt.
    conn.emit('error', new Error('Failed to subscribe: AWS_ERROR_MQTT_CANCELLED_FOR_CLEAN_SESSION'));
    const sub = conn.subscribe('turbines/turbine-b/#', mqtt.QoS.AtLeastOnce, () => {}).catch((e: unknown) => e);
    await dropped;
    await closeDevice(conn);
    await sub;
  } finally {
    await closeDevice(conn);
  }
});

test('with onSubscribeDenied "suback-failure" a denied filter gets SUBACK 0x80 and the connection stays', async () => {
  const conn = await connect(a, { port: lenientBroker.port });
  try {
    const denied = await conn.subscribe('$aws/things/turbine-b/shadow/update/accepted', mqtt.QoS.AtLeastOnce, () => {});
    assert.equal(denied.qos, 128);
    const inbox = new Inbox();
    const own = await conn.subscribe('$aws/things/turbine-a/shadow/update/accepted', mqtt.QoS.AtMostOnce, inbox.onMessage);
    assert.equal(own.qos, mqtt.QoS.AtMostOnce);
    await lenientBroker.bus.publish('$aws/things/turbine-b/shadow/update/accepted', '{"b":1}');
    await lenientBroker.bus.publish('$aws/things/turbine-a/shadow/update/accepted', '{"a":1}');
    assert.equal(await inbox.next('$aws/things/turbine-a/shadow/update/accepted'), '{"a":1}');
    assert.equal(inbox.messages.length, 0);
  } finally {
    await closeDevice(conn);
  }
});

test("a device cannot publish on another thing's topics: the message is dropped and the connection closed", async () => {
  const connB = await connect(b);
  const connA = await connect(a);
  try {
    const inboxB = new Inbox();
    await connB.subscribe('turbines/turbine-b/#', mqtt.QoS.AtLeastOnce, inboxB.onMessage);
    const dropped = interrupted(connA);
    connA.publish('turbines/turbine-b/cmd', 'spoofed', mqtt.QoS.AtMostOnce).catch(() => {});
    await dropped;
    await assert.rejects(inboxB.next('turbines/turbine-b/cmd', 300));
    assert.ok(brokerLog.some((l) => l.includes('iot:Publish on topic/turbines/turbine-b/cmd is not allowed')));
  } finally {
    await closeDevice(connA);
    await closeDevice(connB);
  }
});

test("a device cannot connect with another thing's client id", async () => {
  await assert.rejects(connect(a, { clientId: 'turbine-b' }));
  assert.ok(brokerLog.some((l) => l.includes('iot:Connect on client/turbine-b is not allowed')));
});

test('a revoked certificate cannot connect, and revoking drops a live connection', async () => {
  const ca = await loadOrCreateCa(join(dir, 'ca'));
  const c = await newDevice(ca, 'turbine-c');
  const conn = await connect(c);
  const dropped = interrupted(conn);
  directory.setStatus(c.certificateId, 'REVOKED');
  await dropped;
  await closeDevice(conn);
  await assert.rejects(connect(c));
  assert.ok(brokerLog.some((l) => l.includes(`certificate ${c.certificateId} is REVOKED`)));
  directory.setStatus(c.certificateId, 'INACTIVE');
  await assert.rejects(connect(c));
});

test('a certificate from an unknown CA cannot connect (TLS handshake refused)', async () => {
  await assert.rejects(
    connectDevice({
      certificatePem: foreignCert.certificatePem,
      privateKeyPem: foreignCert.privateKeyPem,
      caCertPem,
      host: '127.0.0.1',
      port: broker.port,
      clientId: 'turbine-a',
    }),
  );
  assert.ok(brokerLog.some((l) => l.startsWith('TLS handshake refused')));
});

test('an unregistered certificate signed by the CA cannot connect', async () => {
  const ca = await loadOrCreateCa(join(dir, 'ca'));
  const stray = await issueDeviceCertificate(ca);
  await assert.rejects(
    connectDevice({ certificatePem: stray.certificatePem, privateKeyPem: stray.privateKeyPem, caCertPem, host: '127.0.0.1', port: broker.port, clientId: 'stray' }),
  );
  assert.ok(brokerLog.some((l) => l.includes(`certificate ${certificateIdOf(stray.certificatePem)} is not registered`)));
});

test('a retained message reaches a subscriber that comes later', async () => {
  const publisher = await connect(a);
  await publisher.publish('turbines/turbine-a/config', '{"threshold":0.2}', mqtt.QoS.AtLeastOnce, true);
  await closeDevice(publisher);
  const late = await connect(a);
  try {
    const inbox = new Inbox();
    await late.subscribe('turbines/turbine-a/config', mqtt.QoS.AtLeastOnce, inbox.onMessage);
    assert.equal(await inbox.next('turbines/turbine-a/config'), '{"threshold":0.2}');
  } finally {
    await closeDevice(late);
  }
});

test('RETAIN on a reserved $aws topic is refused with a disconnect', async () => {
  const conn = await connect(a);
  try {
    const dropped = interrupted(conn);
    conn.publish('$aws/things/turbine-a/shadow/update', '{}', mqtt.QoS.AtMostOnce, true).catch(() => {});
    await dropped;
  } finally {
    await closeDevice(conn);
  }
});

test('a QoS 1 message for a persistent session is delivered after the device reconnects', async () => {
  const first = await connect(b, { cleanSession: false });
  await first.subscribe('turbines/turbine-b/cmd', mqtt.QoS.AtLeastOnce, () => {});
  await closeDevice(first);
  await broker.bus.publish('turbines/turbine-b/cmd', 'while-offline', { qos: 1 });
  const inbox = new Inbox();
  const second = deviceConnectionWithHandler(b, inbox);
  try {
    const sessionPresent = await second.connect();
    assert.equal(sessionPresent, true);
    assert.equal(await inbox.next('turbines/turbine-b/cmd'), 'while-offline');
  } finally {
    await closeDevice(second);
  }
});

/** A persistent-session connection whose messages (also those for restored subscriptions) land in inbox. */
function deviceConnectionWithHandler(d: Device, inbox: Inbox) {
  const conn = deviceConnection({
    certificatePem: d.cert.certificatePem,
    privateKeyPem: d.cert.privateKeyPem,
    caCertPem,
    host: '127.0.0.1',
    port: broker.port,
    clientId: d.thing,
    cleanSession: false,
  });
  conn.on('message', (topic, payload) => inbox.onMessage(topic, payload));
  return conn;
}

test('iot:Receive is checked per delivery: a denied topic is silently not delivered', async () => {
  const ca = await loadOrCreateCa(join(dir, 'ca'));
  const watcher = await newDevice(ca, 'watcher', {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Action: ['iot:Connect', 'iot:Subscribe'], Resource: '*' },
      { Effect: 'Allow', Action: 'iot:Receive', Resource: `arn:aws:iot:${REGION}:${ACCOUNT}:topic/turbines/*` },
      { Effect: 'Deny', Action: 'iot:Receive', Resource: `arn:aws:iot:${REGION}:${ACCOUNT}:topic/turbines/secret/*` },
    ],
  });
  const conn = await connect(watcher);
  try {
    const inbox = new Inbox();
    await conn.subscribe('turbines/#', mqtt.QoS.AtMostOnce, inbox.onMessage);
    await broker.bus.publish('turbines/secret/x', 'hidden');
    await broker.bus.publish('turbines/open/x', 'visible');
    assert.equal(await inbox.next('turbines/open/x'), 'visible');
    assert.deepEqual(inbox.messages.filter((m) => m.topic.startsWith('turbines/secret')), []);
  } finally {
    await closeDevice(conn);
  }
});

test('detaching the policy takes effect on a live connection', async () => {
  const ca = await loadOrCreateCa(join(dir, 'ca'));
  const d = await newDevice(ca, 'turbine-d');
  const conn = await connect(d);
  try {
    await conn.publish('turbines/turbine-d/x', 'ok', mqtt.QoS.AtLeastOnce);
    directory.detachPolicy(d.certificateArn, 'thing-policy');
    const dropped = interrupted(conn);
    conn.publish('turbines/turbine-d/x', 'now denied', mqtt.QoS.AtMostOnce).catch(() => {});
    await dropped;
  } finally {
    await closeDevice(conn);
  }
});

test('the bus hands authorised device publishes to internal handlers with the thing name, not its own', async () => {
  const seen: { topic: string; payload: string; thing: string | undefined }[] = [];
  broker.bus.onPublish('$aws/things/+/jobs/#', (topic, payload, thing) => seen.push({ topic, payload: payload.toString(), thing }));
  assert.throws(() => broker.bus.onPublish('a/#/b', () => {}), /"#" must be a whole level at the end/);
  const conn = await connect(a);
  try {
    const inbox = new Inbox();
    await conn.subscribe('$aws/things/turbine-a/jobs/get/accepted', mqtt.QoS.AtLeastOnce, inbox.onMessage);
    await broker.bus.publish('$aws/things/turbine-a/jobs/get/accepted', '{"cloud":true}', { qos: 1 });
    await conn.publish('$aws/things/turbine-a/jobs/get', '{"clientToken":"t1"}', mqtt.QoS.AtLeastOnce);
    await inbox.next('$aws/things/turbine-a/jobs/get/accepted');
    // PUBACK precedes the hand-over to handlers: wait for it.
    await waitUntil('the handler to see the request', () => seen.length > 0, { timeoutMs: 5000, intervalMs: 20 });
    assert.deepEqual(seen, [{ topic: '$aws/things/turbine-a/jobs/get', payload: '{"clientToken":"t1"}', thing: 'turbine-a' }]);
  } finally {
    await closeDevice(conn);
  }
});

test('MQTT 5 is not spoken (aedes 0.51): a v5 CONNECT gets CONNACK "unacceptable protocol version" and the socket closes', async () => {
  const socket = await rawTlsDevice(a);
  const clientId = Buffer.from(a.thing);
  // CONNECT: protocol "MQTT", level 5, clean start, keep-alive 60, no properties, client id.
  const variable = Buffer.from([0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x05, 0x02, 0x00, 0x3c, 0x00]);
  const payload = Buffer.concat([Buffer.from([0x00, clientId.length]), clientId]);
  socket.write(Buffer.concat([Buffer.from([0x10, variable.length + payload.length]), variable, payload]));
  const chunks: Buffer[] = [];
  socket.on('data', (d: Buffer) => chunks.push(d));
  await once(socket, 'close');
  assert.deepEqual([...Buffer.concat(chunks)], [0x20, 0x02, 0x00, 0x01]);
});

test('a second connection with the same client id closes the first, as AWS IoT does', async () => {
  const first = await connect(a);
  const dropped = interrupted(first);
  const second = await connect(a);
  try {
    await dropped;
  } finally {
    await closeDevice(first);
    await closeDevice(second);
  }
});

test('lifecycle events: $aws/events/presence/connected and disconnected with the client id and reason', async () => {
  const ca = await loadOrCreateCa(join(dir, 'ca'));
  const monitor = await newDevice(ca, 'monitor', {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: ['iot:Connect', 'iot:Subscribe', 'iot:Receive'], Resource: '*' }],
  });
  const conn = await connect(monitor);
  try {
    const inbox = new Inbox();
    await conn.subscribe('$aws/events/presence/+/turbine-b', mqtt.QoS.AtMostOnce, inbox.onMessage);
    const device = await connect(b);
    const connected = JSON.parse(await inbox.next('$aws/events/presence/connected/turbine-b'));
    assert.equal(connected.clientId, 'turbine-b');
    assert.equal(connected.eventType, 'connected');
    assert.equal(connected.principalIdentifier, b.certificateId);
    assert.equal(typeof connected.timestamp, 'number');
    await closeDevice(device);
    const disconnected = JSON.parse(await inbox.next('$aws/events/presence/disconnected/turbine-b'));
    assert.equal(disconnected.clientInitiatedDisconnect, true);
    assert.equal(disconnected.disconnectReason, 'CLIENT_INITIATED_DISCONNECT');
    assert.equal(disconnected.sessionIdentifier, connected.sessionIdentifier);
  } finally {
    await closeDevice(conn);
  }
});

test('TLS with ALPN x-amzn-mqtt-ca (what devices send on port 443) or without ALPN both reach MQTT 3.1.1', async () => {
  for (const alpn of [['x-amzn-mqtt-ca'], undefined]) {
    const socket = await rawTlsDevice(a, alpn);
    assert.equal(socket.alpnProtocol, alpn ? 'x-amzn-mqtt-ca' : false);
    assert.deepEqual([...(await rawConnect(socket, a.thing))], [0x20, 0x02, 0x00, 0x00]);
    socket.end(Buffer.from([0xe0, 0x00])); // DISCONNECT
    await once(socket, 'close');
  }
});

test('an EXCLUSIVE_THING attachment resolves the thing whatever the client id', async () => {
  const ca = await loadOrCreateCa(join(dir, 'ca'));
  const e = await newDevice(ca, 'turbine-e', {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Action: 'iot:Connect', Resource: `arn:aws:iot:${REGION}:${ACCOUNT}:client/*` },
      { Effect: 'Allow', Action: 'iot:Subscribe', Resource: `arn:aws:iot:${REGION}:${ACCOUNT}:topicfilter/turbines/\${iot:Connection.Thing.ThingName}/*` },
    ],
  });
  const sub = async (clientId: string) => {
    const conn = await connect(e, { clientId, port: lenientBroker.port });
    try {
      return (await conn.subscribe('turbines/turbine-e/x', mqtt.QoS.AtMostOnce, () => {})).qos;
    } finally {
      await closeDevice(conn);
    }
  };
  assert.equal(await sub('some-client'), 128, 'non-exclusive: the variable is unresolved for another client id');
  directory.exclusive.set(e.certificateArn, 'turbine-e');
  assert.equal(await sub('some-client'), mqtt.QoS.AtMostOnce);
});

/** A policy written with ${iot:ClientId} (as many AWS samples are): each client may use only topics named by its client id. */
const CLIENT_ID_POLICY = {
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Action: 'iot:Connect', Resource: `arn:aws:iot:${REGION}:${ACCOUNT}:client/\${iot:ClientId}` },
    { Effect: 'Allow', Action: ['iot:Publish', 'iot:Receive'], Resource: `arn:aws:iot:${REGION}:${ACCOUNT}:topic/turbines/\${iot:ClientId}/*` },
    { Effect: 'Allow', Action: 'iot:Subscribe', Resource: `arn:aws:iot:${REGION}:${ACCOUNT}:topicfilter/turbines/\${iot:ClientId}/*` },
  ],
};

test('client ids AWS IoT does not allow (control characters, a leading $) are refused with CONNACK 2 "identifier rejected"', async () => {
  const ca = await loadOrCreateCa(join(dir, 'ca'));
  const intruder = await newDevice(ca, 'intruder', CLIENT_ID_POLICY);
  // With U+0001 the value once closed the "literal" mark around a substituted variable: "*" became a wildcard.
  // The device SDK refuses control characters itself (AWS_ERROR_INVALID_ARGUMENT, and then keeps the process
  // alive), so those go by hand, as an independent client sends them; the SDK sends the reserved "$" one.
  await assert.rejects(connect(intruder, { clientId: '$aws-client' }));
  for (const clientId of ['\u0001*', 'x\u0001*\u0000y', '\u007f', '$aws-client']) {
    const socket = await rawTlsDevice(intruder);
    try {
      assert.deepEqual([...(await rawConnect(socket, clientId))], [0x20, 0x02, 0x00, 0x02], JSON.stringify(clientId));
    } finally {
      socket.destroy();
    }
  }
  assert.ok(brokerLog.some((l) => l.includes('refused client "\\u0001*": client id holds U+0001')), brokerLog.join('\n'));
  assert.ok(brokerLog.some((l) => l.includes('client ids starting with $ are reserved')));
});

test("a client id's characters are literal in ${iot:ClientId}: the client id \"*\" reaches no other device's topics", async () => {
  const ca = await loadOrCreateCa(join(dir, 'ca'));
  const intruder = await newDevice(ca, 'intruder-star', CLIENT_ID_POLICY);
  const victim = await connect(b);
  const star = await connect(intruder, { clientId: '*' });
  try {
    const victimInbox = new Inbox();
    await victim.subscribe('turbines/turbine-b/#', mqtt.QoS.AtLeastOnce, victimInbox.onMessage);
    // Its own (literal) topic works...
    const ownInbox = new Inbox();
    await star.subscribe('turbines/*/echo', mqtt.QoS.AtLeastOnce, ownInbox.onMessage);
    await star.publish('turbines/*/echo', 'mine', mqtt.QoS.AtLeastOnce);
    assert.equal(await ownInbox.next('turbines/*/echo'), 'mine');
    // ...another thing's is refused: the connection is closed and nothing reaches turbine-b.
    const dropped = interrupted(star);
    star.publish('turbines/turbine-b/cmd', 'spoofed', mqtt.QoS.AtMostOnce).catch(() => {});
    await dropped;
    await assert.rejects(victimInbox.next('turbines/turbine-b/cmd', 300));
    assert.ok(brokerLog.some((l) => l.includes('*: iot:Publish on topic/turbines/turbine-b/cmd is not allowed')), brokerLog.join('\n'));
  } finally {
    await closeDevice(star);
    await closeDevice(victim);
  }
});

test('a packet declaring more than the packet limit is refused from its header, before its body is read', async () => {
  const socket = await rawTlsDevice(a);
  try {
    assert.deepEqual([...(await rawConnect(socket, a.thing))], [0x20, 0x02, 0x00, 0x00]);
    // The broker resets the connection while bytes are still in flight: an error, then 'close'.
    socket.on('error', () => {});
    const closed = new Promise((resolve) => socket.once('close', resolve));
    // PUBLISH QoS 0 declaring 200 MiB (remaining length 0xC80000 as a variable byte integer), then 64 KiB of it.
    const declared = 200 * 1024 * 1024;
    const header = Buffer.from([0x30, 0x80 | (declared & 0x7f), 0x80 | ((declared >> 7) & 0x7f), 0x80 | ((declared >> 14) & 0x7f), declared >> 21]);
    const topic = Buffer.from('turbines/turbine-a/big');
    socket.write(Buffer.concat([header, Buffer.from([0, topic.length]), topic, Buffer.alloc(64 * 1024)]));
    const notClosed = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the broker kept waiting for the 200 MiB packet')), 10_000).unref());
    await Promise.race([closed, notClosed]);
    assert.ok(
      brokerLog.some((l) => l.includes(`disconnecting turbine-a: packet of ${declared} bytes exceeds ${MQTT_LIMITS.maxPacketBytes}`)),
      brokerLog.join('\n'),
    );
  } finally {
    socket.destroy();
  }
});

test('a packet at the limit passes the guard: a 128 KiB payload is delivered, one byte more closes the connection', async () => {
  const conn = await connect(a);
  try {
    const inbox = new Inbox();
    await conn.subscribe('turbines/turbine-a/full', mqtt.QoS.AtLeastOnce, inbox.onMessage);
    const full = 'x'.repeat(MQTT_LIMITS.maxPayloadBytes);
    await conn.publish('turbines/turbine-a/full', full, mqtt.QoS.AtLeastOnce);
    assert.equal((await inbox.next('turbines/turbine-a/full')).length, full.length);
    const dropped = interrupted(conn);
    conn.publish('turbines/turbine-a/full', full + 'x', mqtt.QoS.AtMostOnce).catch(() => {});
    await dropped;
  } finally {
    await closeDevice(conn);
  }
});

test('a retained message is acknowledged only once stored: a full disk closes the publisher without PUBACK and keeps nothing', async () => {
  const ca = await loadOrCreateCa(join(dir, 'ca'));
  const server = await loadOrCreateServerCertificate(ca);
  const saved: string[] = [];
  const fullDisk = await startMqttBroker({
    tls: { caCertPem: ca.caCertPem, ...server },
    authorizer: new PolicyAuthorizer(directory, { region: REGION, accountId: ACCOUNT }),
    log: (l) => brokerLog.push(l),
    retained: {
      load: () => [],
      save: async (topic) => {
        saved.push(topic);
        throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
      },
    },
  });
  try {
    const publisher = await connect(a, { port: fullDisk.port });
    try {
      const dropped = interrupted(publisher);
      const acked = publisher.publish('turbines/turbine-a/state', 'kept?', mqtt.QoS.AtLeastOnce, true).then(
        () => true,
        () => false,
      );
      await dropped;
      assert.ok(saved.length >= 1 && saved.every((t) => t === 'turbines/turbine-a/state'), saved.join()); // the SDK may resend it after reconnecting
      assert.ok(brokerLog.some((l) => l.includes('retained message on turbines/turbine-a/state not stored: ENOSPC')), brokerLog.join('\n'));
      await closeDevice(publisher);
      assert.equal(await acked, false, 'no PUBACK for a message that was not stored');
    } finally {
      await closeDevice(publisher); // again, should an assertion have failed
    }
    const late = await connect(a, { port: fullDisk.port });
    try {
      const inbox = new Inbox();
      await late.subscribe('turbines/turbine-a/state', mqtt.QoS.AtLeastOnce, inbox.onMessage);
      await assert.rejects(inbox.next('turbines/turbine-a/state', 500), 'the broker kept no retained message');
    } finally {
      await closeDevice(late);
    }
  } finally {
    await fullDisk.stop();
  }
});
