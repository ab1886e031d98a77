/**
 * The local cloud's MQTT data plane: an aedes broker (MQTT 3.1.1) behind a node:tls server that demands a
 * client certificate signed by the local CA, with AWS IoT's authorisation on every connect, publish,
 * subscribe and delivery, and the MqttBus through which Jobs and Shadow see device requests and answer.
 *
 * aedes 0.51 speaks MQTT 3.1 and 3.1.1 only: an MQTT 5 CONNECT gets CONNACK "unacceptable protocol version".
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import type { AddressInfo, Socket } from 'node:net';
import { createBroker, type AuthenticateError, type Client } from 'aedes';
import type { MqttBus } from '../contracts';
import type { ConnectionIdentity, MqttAuthorizer } from './authorizer';
import { guardPacketSize } from './packet-size-guard';
import { dispatchIteratively } from './iterative-dispatch';
import { clientIdProblem, MAX_CLIENT_ID_BYTES, printableClientId } from './client-id';
import { topicFilterProblem, topicMatches } from './topic-filter';

/** AWS IoT Core limits the broker enforces. */
export const MQTT_LIMITS = {
  /** Bytes of a PUBLISH payload. */
  maxPayloadBytes: 128 * 1024,
  /** Bytes of a client id. */
  maxClientIdBytes: MAX_CLIENT_ID_BYTES,
  /**
   * Bytes of a packet after its fixed header (MQTT "remaining length"): the largest payload plus room for
   * a topic (at most 256 bytes), a packet id, or a CONNECT's client id, will topic, username and password.
   * Checked before the packet is buffered; the MQTT 3.1.1 limit would be 256 MiB.
   */
  maxPacketBytes: 128 * 1024 + 4096,
};

/** What to do when a SUBSCRIBE is not allowed by policy. */
export type SubscribeDeniedBehaviour = 'disconnect' | 'suback-failure';

/** Options of startMqttBroker. */
export interface MqttBrokerOptions {
  /** PEMs: the CA that signs device certificates, and the broker's server certificate and key. */
  tls: { caCertPem: string; serverCertPem: string; serverKeyPem: string };
  authorizer: MqttAuthorizer;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (a free port). */
  port?: number;
  /**
   * AWS IoT closes the connection of a client that subscribes to a filter its policy denies (MQTT 3.1.1);
   * 'suback-failure' answers SUBACK 0x80 for that filter instead. Default 'disconnect'.
   */
  onSubscribeDenied?: SubscribeDeniedBehaviour;
  /** How often live connections are checked for a certificate that left ACTIVE (ms, real time). Default 500. */
  revocationCheckMs?: number;
  /** One line per refused connection or denied action. */
  log?: (line: string) => void;
  /** Time for lifecycle event timestamps (ms since the epoch). Default Date.now. */
  now?: () => number;
  /** Where retained messages are kept across restarts (default: memory only). */
  retained?: RetainedMessageStore;
}

/** A retained message as kept on disk. */
export interface RetainedMessage {
  topic: string;
  /** Base64 of the payload. */
  payload: string;
  qos: 0 | 1;
}

/** Durable home of retained messages: loaded at start, told of every change. */
export interface RetainedMessageStore {
  load(): RetainedMessage[];
  /**
   * Store (or, with undefined, forget) the retained message of a topic; resolves once durable. The PUBLISH
   * is acknowledged only then: a rejection (a full disk) closes the publisher's connection without PUBACK.
   */
  save(topic: string, message: RetainedMessage | undefined): Promise<void> | void;
}

/** A running broker. */
export interface MqttBroker {
  host: string;
  port: number;
  bus: MqttBus;
  /** Client ids connected now. */
  connectedClientIds(): string[];
  /** Close every connection, the server and the broker. */
  stop(): Promise<void>;
}

interface BusHandler {
  filter: string;
  handler: (topic: string, payload: Buffer, clientThingName: string | undefined) => void;
}

/** Errors the broker raises on purpose (already logged): aedes closes the connection, as AWS IoT does. */
const refusals = new WeakSet<Error>();

/** A client-caused error that makes aedes close the connection (as AWS IoT does on a denied action). */
function refuse(message: string, returnCode?: number): Error {
  const err = returnCode === undefined ? new Error(message) : Object.assign(new Error(message), { returnCode });
  refusals.add(err);
  return err;
}

/** Start the TLS MQTT broker; resolves once it listens. */
export async function startMqttBroker(options: MqttBrokerOptions): Promise<MqttBroker> {
  const { authorizer } = options;
  const log = options.log ?? (() => {});
  const subscribeDenied = options.onSubscribeDenied ?? 'disconnect';
  const identities = new WeakMap<Client, ConnectionIdentity>();
  const connected = new Set<Client>();
  const sockets = new Set<Socket>();
  const handlers: BusHandler[] = [];
  const retained = options.retained ? retainedMirror(options.retained) : undefined;

  const aedes = createBroker({
    authenticate(client, _username, _password, done) {
      const socket = client.conn as TLSSocket;
      const clientId = client.id;
      const badClientId = clientIdProblem(clientId);
      if (badClientId) {
        log(`refused client ${printableClientId(clientId)}: ${badClientId}`);
        return done(refuse('identifier rejected', 2) as AuthenticateError, false);
      }
      const peer = typeof socket.getPeerCertificate === 'function' ? socket.getPeerCertificate(false) : undefined;
      const decision = authorizer.connect(clientId, peer && peer.raw ? peer : undefined, socket.remoteAddress);
      if (!decision.ok) {
        log(`refused client ${clientId}: ${decision.reason}`);
        return done(refuse('not authorized', 5) as AuthenticateError, false);
      }
      identities.set(client, decision.identity);
      done(null, true);
    },

    authorizePublish(client, packet, done) {
      if (!client) return done(null); // the cloud itself
      const identity = identities.get(client);
      if (!identity || !authorizer.stillValid(identity)) return done(refuse('certificate is no longer active'));
      const topic = packet.topic;
      let problem: string | undefined;
      if (packet.retain && topic.startsWith('$')) problem = `RETAIN is not allowed on the reserved topic ${topic}`;
      else if (packet.payload && packet.payload.length > MQTT_LIMITS.maxPayloadBytes) {
        problem = `payload of ${packet.payload.length} bytes exceeds ${MQTT_LIMITS.maxPayloadBytes}`;
      } else if (!authorizer.publish(identity, topic, packet.retain)) {
        problem = `iot:Publish${packet.retain ? '/iot:RetainPublish' : ''} on topic/${topic} is not allowed`;
      }
      if (problem) {
        log(`disconnecting ${client.id}: ${problem}`);
        return done(refuse(problem));
      }
      if (!packet.retain || !retained) return done(null);
      // aedes sends PUBACK right after this hook: a retained message must be durable by then.
      retained.saveBeforeAck(topic, Buffer.from(packet.payload ?? []), packet.qos).then(
        () => done(null),
        (err: Error) => {
          const reason = `retained message on ${topic} not stored: ${err.message}`;
          log(`disconnecting ${client.id}: ${reason}`);
          done(refuse(reason));
        },
      );
    },

    authorizeSubscribe(client, sub, done) {
      const identity = identities.get(client);
      if (!identity || !authorizer.stillValid(identity)) return done(refuse('certificate is no longer active'));
      const problem = topicFilterProblem(sub.topic);
      if (problem) return done(refuse(problem));
      if (authorizer.subscribe(identity, sub.topic)) {
        // AWS IoT grants QoS 0 and 1 only.
        return done(null, sub.qos > 1 ? { ...sub, qos: 1 } : sub);
      }
      log(`${client.id}: iot:Subscribe on topicfilter/${sub.topic} is not allowed (${subscribeDenied})`);
      if (subscribeDenied === 'suback-failure') return done(null, null);
      done(refuse(`iot:Subscribe on topicfilter/${sub.topic} is not allowed`));
    },

    authorizeForward(client, packet) {
      const identity = identities.get(client);
      if (!identity) return null;
      // iot:Receive is checked per message against the concrete topic; a denied delivery is silently dropped.
      return authorizer.receive(identity, packet.topic) ? packet : null;
    },

    published(packet, client, done) {
      if (client && !packet.topic.startsWith('$SYS')) {
        const thingName = identities.get(client)?.thingName;
        for (const h of handlers) {
          if (!topicMatches(h.filter, packet.topic)) continue;
          try {
            h.handler(packet.topic, Buffer.from(packet.payload), thingName);
          } catch (err) {
            log(`bus handler for ${h.filter} failed on ${packet.topic}: ${(err as Error).message}`);
          }
        }
      }
      done(null);
    },
  });

  // A reconnect storm queues thousands of messages; their release must not recurse (see iterative-dispatch.ts).
  dispatchIteratively((aedes as unknown as { mq: unknown }).mq);

  // Lifecycle events on $aws/events/presence/..., as AWS IoT publishes them (checked by iot:Receive like any delivery).
  const now = options.now ?? Date.now;
  const sessions = new WeakMap<Client, string>();
  const presence = (client: Client, eventType: 'connected' | 'disconnected', extra: Record<string, unknown>) => {
    const identity = identities.get(client);
    if (!identity) return;
    const event = {
      clientId: client.id,
      timestamp: now(),
      eventType,
      sessionIdentifier: sessions.get(client),
      principalIdentifier: identity.certificateId,
      versionNumber: 0,
      ...extra,
    };
    aedes.publish(
      { cmd: 'publish', topic: `$aws/events/presence/${eventType}/${client.id}`, payload: Buffer.from(JSON.stringify(event)), qos: 0, retain: false, dup: false },
      () => {},
    );
  };
  if (retained) await retained.install(aedes);

  aedes.on('clientReady', (client) => {
    connected.add(client);
    sessions.set(client, randomUUID());
    presence(client, 'connected', { ipAddress: (client.conn as TLSSocket).remoteAddress });
  });
  aedes.on('clientDisconnect', (client) => {
    connected.delete(client);
    const clientInitiated = (client as Client & { _disconnected?: boolean })._disconnected === true;
    presence(client, 'disconnected', {
      clientInitiatedDisconnect: clientInitiated,
      disconnectReason: clientInitiated ? 'CLIENT_INITIATED_DISCONNECT' : 'CONNECTION_LOST',
    });
  });
  aedes.on('clientError', (client, err) => {
    if (!refusals.has(err)) log(`client ${client.id}: ${err.message}`);
  });

  const server: Server = createServer(
    {
      key: options.tls.serverKeyPem,
      cert: options.tls.serverCertPem,
      ca: options.tls.caCertPem,
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
      // AWS IoT takes MQTT on 443 with ALPN x-amzn-mqtt-ca; clients that send no ALPN are fine too.
      ALPNProtocols: ['x-amzn-mqtt-ca', 'mqtt'],
    },
    (socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      // MQTT 3.1.1 has no DISCONNECT from the server: the reason goes to the log and the socket is closed.
      guardPacketSize(socket, MQTT_LIMITS.maxPacketBytes, ({ declaredBytes, maxBytes }) => {
        log(`disconnecting ${client.id ?? 'a client before CONNECT'}: packet of ${declaredBytes} bytes exceeds ${maxBytes} (not read)`);
        socket.destroy();
      });
      const client = aedes.handle(socket);
    },
  );
  server.on('tlsClientError', (err) => log(`TLS handshake refused: ${err.message}`));

  // Revoking or deactivating a certificate drops its live connections, as AWS IoT does: at once when the
  // directory reports changes, and by a periodic sweep otherwise.
  const dropInvalid = () => {
    for (const client of connected) {
      const identity = identities.get(client);
      if (identity && !authorizer.stillValid(identity)) {
        log(`disconnecting ${client.id}: certificate ${identity.certificateId} is no longer active`);
        client.close();
      }
    }
  };
  const revocationTimer = setInterval(dropInvalid, options.revocationCheckMs ?? 500);
  revocationTimer.unref();
  authorizer.watch?.(() => setImmediate(dropInvalid));

  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  const bus: MqttBus = {
    publish(topic, payload, opts) {
      return new Promise((resolve, reject) => {
        aedes.publish(
          {
            cmd: 'publish',
            topic,
            payload: typeof payload === 'string' ? Buffer.from(payload) : payload,
            qos: opts?.qos ?? 0,
            retain: opts?.retain ?? false,
            dup: false,
          },
          (err) => (err ? reject(err) : resolve()),
        );
      });
    },
    onPublish(filter, handler) {
      const problem = topicFilterProblem(filter);
      if (problem) throw new Error(`MqttBus.onPublish: ${problem}`);
      handlers.push({ filter, handler });
    },
  };

  let stopped: Promise<void> | undefined;
  return {
    host,
    port,
    bus,
    connectedClientIds: () => [...connected].map((c) => c.id),
    stop() {
      stopped ??= (async () => {
        clearInterval(revocationTimer);
        const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const s of sockets) s.destroy();
        await serverClosed;
        await new Promise<void>((resolve) => aedes.close(() => resolve()));
      })();
      return stopped;
    },
  };
}

/**
 * Retained messages in aedes' in-memory persistence, mirrored to a durable store: a device's retained
 * PUBLISH is saved before its PUBACK (saveBeforeAck), the cloud's own when aedes stores it.
 */
function retainedMirror(store: RetainedMessageStore) {
  type Packet = { topic: string; payload: Buffer; qos: number; retain: boolean; cmd: 'publish'; dup: boolean; brokerId?: string; brokerCounter?: number };
  // An empty retained payload clears the topic's retained message (MQTT 3.1.1 §3.3.1.3).
  const messageOf = (topic: string, payload: Buffer, qos: number): RetainedMessage | undefined =>
    payload.length === 0 ? undefined : { topic, payload: payload.toString('base64'), qos: qos > 0 ? 1 : 0 };
  const keyOf = (m: RetainedMessage | undefined) => (m ? `${m.qos}:${m.payload}` : '');
  /** topic -> the message saved before its PUBACK, which aedes is about to store in memory. */
  const savedBeforeAck = new Map<string, string>();
  return {
    /** Make a device's retained message durable; rejects (no PUBACK then) when the store cannot. */
    async saveBeforeAck(topic: string, payload: Buffer, qos: number): Promise<void> {
      const message = messageOf(topic, payload, qos);
      await store.save(topic, message);
      savedBeforeAck.set(topic, keyOf(message));
    },
    /** Load stored retained messages into aedes and mirror every later change to the store. */
    async install(aedes: ReturnType<typeof createBroker>): Promise<void> {
      const persistence = (aedes as unknown as { persistence: unknown }).persistence as { storeRetained(p: Packet, cb: (err?: Error | null) => void): void };
      const storeInMemory = persistence.storeRetained.bind(persistence);
      for (const m of store.load()) {
        const packet: Packet = { cmd: 'publish', topic: m.topic, payload: Buffer.from(m.payload, 'base64'), qos: m.qos, retain: true, dup: false };
        await new Promise<void>((resolve, reject) => storeInMemory(packet, (err) => (err ? reject(err) : resolve())));
      }
      persistence.storeRetained = (packet, cb) => {
        const message = messageOf(packet.topic, Buffer.from(packet.payload ?? []), packet.qos);
        if (savedBeforeAck.get(packet.topic) === keyOf(message)) {
          savedBeforeAck.delete(packet.topic);
          return storeInMemory(packet, cb);
        }
        Promise.resolve()
          .then(() => store.save(packet.topic, message))
          .then(
            () => storeInMemory(packet, cb),
            (err: Error) => cb(new Error(`retained message on ${packet.topic} not stored: ${err.message}`)),
          );
      };
    },
  };
}
