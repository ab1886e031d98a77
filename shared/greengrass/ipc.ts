/**
 * Local IPC of the nucleus: publish/subscribe between components and an MQTT proxy to the cloud, with
 * the authorization AWS Greengrass applies. Each component process gets a secret token (env SVCUID)
 * and the socket path (env AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT); its requests are
 * allowed only by the `accessControl` of its configuration, in the AWS format:
 *
 *   accessControl:
 *     aws.greengrass.ipc.pubsub:        { <policyId>: { operations: [aws.greengrass#PublishToTopic, aws.greengrass#SubscribeToTopic], resources: [turbine/+/alarms] } }
 *     aws.greengrass.ipc.mqttproxy:     { <policyId>: { operations: [aws.greengrass#PublishToIoTCore, aws.greengrass#SubscribeToIoTCore], resources: [...] } }
 *
 * The wire is simpler than AWS's event-stream RPC: one JSON object per line over a Unix socket
 * (ipc-client.ts speaks it). Lines over MAX_LINE_BYTES close the connection before they are buffered.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { topicMatches } from '../cloud/mqtt/topic-filter';

/** Longest request line accepted (a message payload included). */
export const MAX_LINE_BYTES = 256 * 1024;

/** IPC operations and the accessControl service that governs each. */
export const OPERATIONS = {
  publish: { service: 'aws.greengrass.ipc.pubsub', operation: 'aws.greengrass#PublishToTopic' },
  subscribe: { service: 'aws.greengrass.ipc.pubsub', operation: 'aws.greengrass#SubscribeToTopic' },
  publishToIoTCore: { service: 'aws.greengrass.ipc.mqttproxy', operation: 'aws.greengrass#PublishToIoTCore' },
  subscribeToIoTCore: { service: 'aws.greengrass.ipc.mqttproxy', operation: 'aws.greengrass#SubscribeToIoTCore' },
} as const;
type Op = keyof typeof OPERATIONS;

/** The cloud side of the MQTT proxy (the device's MQTT connection). */
export interface CloudMqtt {
  publish(topic: string, payload: string): Promise<void>;
  subscribe(topic: string, handler: (topic: string, payload: Buffer) => void): Promise<void>;
}

interface Client {
  component: string;
  socket: Socket;
  subscriptions: { filter: string; cloud: boolean }[];
}

type Obj = Record<string, unknown>;

/** True when the component's accessControl allows op on topic. */
export function authorized(accessControl: unknown, op: Op, topic: string): boolean {
  const { service, operation } = OPERATIONS[op];
  const policies = (accessControl as Obj | undefined)?.[service];
  if (!policies || typeof policies !== 'object') return false;
  return Object.values(policies as Obj).some((p) => {
    const policy = p as { operations?: unknown; resources?: unknown };
    const ops = Array.isArray(policy.operations) ? policy.operations : [];
    const resources = Array.isArray(policy.resources) ? policy.resources : [];
    if (!ops.includes(operation) && !ops.includes('*')) return false;
    return resources.some((r) => r === '*' || r === topic || (op.startsWith('publish') && typeof r === 'string' && topicMatches(r, topic)));
  });
}

/** The nucleus's IPC server. */
export class IpcServer {
  private readonly server: Server;
  private readonly tokens = new Map<string, { component: string; accessControl: () => unknown }>();
  private readonly clients = new Set<Client>();
  private readonly cloudFilters = new Set<string>();
  cloud: CloudMqtt | undefined;

  private constructor(
    readonly socketPath: string,
    private readonly log: (line: string) => void,
  ) {
    this.server = createServer((socket) => this.accept(socket));
  }

  /** Listen on a Unix socket (an old socket file is replaced). */
  static async start(socketPath: string, log: (line: string) => void): Promise<IpcServer> {
    rmSync(socketPath, { force: true });
    const s = new IpcServer(socketPath, log);
    await new Promise<void>((resolve, reject) => {
      s.server.once('error', reject);
      s.server.listen(socketPath, () => resolve());
    });
    return s;
  }

  /** A new token for a component; accessControl is read at each request (configuration may change). */
  issueToken(component: string, accessControl: () => unknown): string {
    const token = randomBytes(24).toString('hex');
    this.tokens.set(token, { component, accessControl });
    return token;
  }

  /** Forget a token and drop its connections (the component stopped). */
  revokeToken(token: string): void {
    const entry = this.tokens.get(token);
    this.tokens.delete(token);
    if (!entry) return;
    for (const c of this.clients) if (c.component === entry.component && !this.componentHasToken(entry.component)) c.socket.destroy();
  }

  private componentHasToken(component: string): boolean {
    return [...this.tokens.values()].some((t) => t.component === component);
  }

  /**
   * Publish on the local publish/subscribe from the nucleus's own process (a sensor wired to the device,
   * the way AWS's local pub/sub carries a sensor component's readings); returns the subscriptions reached.
   */
  publishLocal(topic: string, message: string, from: string): number {
    let reached = 0;
    const line = `${JSON.stringify({ event: 'message', topic, message, from })}\n`;
    for (const c of this.clients)
      for (const sub of c.subscriptions)
        if (!sub.cloud && topicMatches(sub.filter, topic)) {
          c.socket.write(line);
          reached++;
        }
    return reached;
  }

  async stop(): Promise<void> {
    for (const c of this.clients) c.socket.destroy();
    await new Promise((r) => this.server.close(r));
    rmSync(this.socketPath, { force: true });
  }

  private accept(socket: Socket): void {
    let buffered = '';
    let client: Client | undefined;
    let access: (() => unknown) | undefined;
    const send = (o: Obj): void => void socket.write(`${JSON.stringify(o)}\n`);
    socket.setEncoding('utf8');
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (client) this.clients.delete(client);
    });
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      if (Buffer.byteLength(buffered) > MAX_LINE_BYTES && !buffered.includes('\n')) {
        socket.end(`${JSON.stringify({ error: { code: 'InvalidArgumentsError', message: `request line over ${MAX_LINE_BYTES} bytes` } })}\n`);
        buffered = '';
        return;
      }
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        let req: Obj;
        try {
          req = JSON.parse(line) as Obj;
        } catch {
          send({ error: { code: 'InvalidArgumentsError', message: 'each request is one JSON object per line' } });
          continue;
        }
        const id = req.id;
        if (!client) {
          const entry = req.op === 'connect' && typeof req.token === 'string' ? this.tokens.get(req.token) : undefined;
          if (!entry) {
            // end(), not destroy(): the answer must reach the client before the socket closes.
            socket.end(`${JSON.stringify({ id, error: { code: 'UnauthorizedError', message: 'connect first with the SVCUID token the nucleus gave this component' } })}\n`);
            buffered = '';
            return;
          }
          client = { component: entry.component, socket, subscriptions: [] };
          access = entry.accessControl;
          this.clients.add(client);
          send({ id, ok: true, component: entry.component });
          continue;
        }
        void this.handle(client, access as () => unknown, req).then((answer) => send({ id, ...answer }));
      }
    });
  }

  private async handle(client: Client, access: () => unknown, req: Obj): Promise<Obj> {
    const op = req.op as Op;
    if (!(op in OPERATIONS)) return { error: { code: 'InvalidArgumentsError', message: `unknown operation ${String(req.op)} (known: ${Object.keys(OPERATIONS).join(', ')})` } };
    const topic = req.topic;
    if (typeof topic !== 'string' || topic === '') return { error: { code: 'InvalidArgumentsError', message: 'topic is required' } };
    if (!authorized(access(), op, topic)) {
      this.log(`ipc: ${client.component} is not authorized to ${OPERATIONS[op].operation} on ${topic}`);
      return { error: { code: 'UnauthorizedError', message: `${client.component} is not authorized to perform ${OPERATIONS[op].operation} on resource ${topic}; add it to the component's accessControl (${OPERATIONS[op].service})` } };
    }
    const message = typeof req.message === 'string' ? req.message : JSON.stringify(req.message ?? null);
    switch (op) {
      case 'publish':
        this.publishLocal(topic, message, client.component);
        return { ok: true };
      case 'subscribe':
        client.subscriptions.push({ filter: topic, cloud: false });
        return { ok: true };
      case 'publishToIoTCore':
        if (!this.cloud) return { error: { code: 'ServiceError', message: 'the nucleus has no cloud connection' } };
        try {
          await this.cloud.publish(topic, message);
          return { ok: true };
        } catch (err) {
          return { error: { code: 'ServiceError', message: (err as Error).message } };
        }
      case 'subscribeToIoTCore':
        if (!this.cloud) return { error: { code: 'ServiceError', message: 'the nucleus has no cloud connection' } };
        client.subscriptions.push({ filter: topic, cloud: true });
        if (!this.cloudFilters.has(topic)) {
          this.cloudFilters.add(topic);
          await this.cloud.subscribe(topic, (t, payload) => this.fromCloud(topic, t, payload));
        }
        return { ok: true };
    }
  }

  private fromCloud(filter: string, topic: string, payload: Buffer): void {
    const message = payload.toString('utf8');
    for (const c of this.clients) for (const s of c.subscriptions) if (s.cloud && s.filter === filter) c.socket.write(`${JSON.stringify({ event: 'message', topic, message, from: 'iotcore' })}\n`);
  }
}
