/**
 * The component side of the nucleus IPC (ipc.ts): connect with the token and socket the nucleus put in
 * the environment, then publish/subscribe locally or to IoT Core through the nucleus's MQTT proxy.
 * Every call resolves when the nucleus answers and rejects with its error (e.g. UnauthorizedError).
 */
import { connect, type Socket } from 'node:net';
import { topicMatches } from '../cloud/mqtt/topic-filter';

/** A message delivered to a subscription. */
export interface IpcMessage {
  topic: string;
  message: string;
  from: string;
}

/** A connected IPC client. */
export interface IpcClient {
  component: string;
  publish(topic: string, message: string): Promise<void>;
  subscribe(topic: string, onMessage: (m: IpcMessage) => void): Promise<void>;
  publishToIoTCore(topic: string, message: string): Promise<void>;
  subscribeToIoTCore(topic: string, onMessage: (m: IpcMessage) => void): Promise<void>;
  close(): void;
}

/** An error the nucleus answered with; name is its code. */
export class IpcError extends Error {
  constructor(code: string, message: string) {
    super(message);
    this.name = code;
  }
}

/** Connect to the nucleus (defaults: the SVCUID and socket path env vars the nucleus sets). */
export async function connectIpc(opts: { socketPath?: string; token?: string } = {}): Promise<IpcClient> {
  const socketPath = opts.socketPath ?? process.env.AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT;
  const token = opts.token ?? process.env.SVCUID;
  if (!socketPath || !token) throw new Error('not started by a nucleus: AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT and SVCUID are not set');
  const socket: Socket = connect(socketPath);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  let seq = 0;
  const pending = new Map<number, { resolve: (v: Record<string, unknown>) => void; reject: (e: Error) => void }>();
  const handlers: { filter: string; cloud: boolean; fn: (m: IpcMessage) => void }[] = [];
  let buffered = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffered += chunk;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const msg = JSON.parse(buffered.slice(0, nl)) as Record<string, unknown>;
      buffered = buffered.slice(nl + 1);
      if (msg.event === 'message') {
        const m = msg as unknown as IpcMessage;
        for (const h of handlers) if ((h.cloud === (m.from === 'iotcore')) && topicMatches(h.filter, m.topic)) h.fn(m);
        continue;
      }
      const waiter = pending.get(msg.id as number);
      pending.delete(msg.id as number);
      const error = msg.error as { code: string; message: string } | undefined;
      if (error) waiter?.reject(new IpcError(error.code, error.message));
      else waiter?.resolve(msg);
    }
  });
  const failAll = (): void => {
    for (const w of pending.values()) w.reject(new Error('the nucleus closed the IPC connection'));
    pending.clear();
  };
  socket.on('error', failAll);
  socket.on('close', failAll);
  const call = (req: Record<string, unknown>): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      if (socket.destroyed || !socket.writable) return reject(new Error('the nucleus closed the IPC connection'));
      const id = ++seq;
      pending.set(id, { resolve, reject });
      socket.write(`${JSON.stringify({ id, ...req })}\n`);
    });
  const hello = await call({ op: 'connect', token });
  return {
    component: String(hello.component),
    publish: async (topic, message) => void (await call({ op: 'publish', topic, message })),
    subscribe: async (topic, fn) => {
      await call({ op: 'subscribe', topic });
      handlers.push({ filter: topic, cloud: false, fn });
    },
    publishToIoTCore: async (topic, message) => void (await call({ op: 'publishToIoTCore', topic, message })),
    subscribeToIoTCore: async (topic, fn) => {
      await call({ op: 'subscribeToIoTCore', topic });
      handlers.push({ filter: topic, cloud: true, fn });
    },
    close: () => socket.destroy(),
  };
}
