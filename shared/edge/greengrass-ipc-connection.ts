/**
 * The agent's cloud link when it runs as a Greengrass component: the nucleus holds the device's one MQTT
 * connection (a second one with the same certificate would take over its client id), so the agent
 * publishes and subscribes through the nucleus's MQTT proxy over IPC, as AWS components do
 * (PublishToIoTCore / SubscribeToIoTCore, allowed by the component's accessControl). Frames from the
 * turbine's sensors arrive on the same IPC as local publish/subscribe messages (subscribeLocal).
 */
import { EventEmitter } from 'node:events';
import type { mqtt } from 'aws-iot-device-sdk-v2';
import { connectIpc, type IpcClient } from '../greengrass/ipc-client';
import type { CloudConnection } from './device-connection';

type Handler = (topic: string, payload: ArrayBuffer) => void;

/** Text payload to the ArrayBuffer the SDK's handlers take. */
function bytes(message: string): ArrayBuffer {
  const b = Buffer.from(message, 'utf8');
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

/** A CloudConnection over the nucleus IPC (socket and token from the environment the nucleus set). */
export class GreengrassIpcConnection extends EventEmitter implements CloudConnection {
  readonly connection: mqtt.MqttClientConnection;
  private client: IpcClient | null = null;
  private readonly pending = new Map<string, Handler>();
  private connecting: Promise<void> | null = null;

  constructor(
    private readonly ipc: { socketPath?: string; token?: string } = {},
    private readonly log: (line: string) => void = () => undefined,
  ) {
    super();
    // The SDK's shadow client only publishes and subscribes (QoS and the extra callback arguments are the proxy's business).
    const shim = {
      publish: (topic: string, payload: string | ArrayBuffer | Buffer) => this.publish(topic, typeof payload === 'string' ? payload : Buffer.from(payload as ArrayBuffer)).then(() => ({})),
      subscribe: (topic: string, _qos: unknown, handler: (topic: string, payload: ArrayBuffer, dup: boolean, qos: number, retain: boolean) => void) =>
        this.subscribe(topic, (t, p) => handler(t, p, false, 1, false)).then(() => ({ topic, qos: 1 })),
    };
    this.connection = shim as unknown as mqtt.MqttClientConnection;
  }

  get isOnline(): boolean {
    return this.client !== null;
  }

  /** Connects to the nucleus IPC; 'online' follows. */
  start(): Promise<void> {
    this.connecting ??= (async () => {
      const client = await connectIpc(this.ipc);
      this.client = client;
      for (const [topic, handler] of this.pending) await client.subscribeToIoTCore(topic, (m) => handler(m.topic, bytes(m.message)));
      this.pending.clear();
      this.log(`connected to the nucleus IPC as ${client.component}`);
      this.emit('online');
    })();
    return this.connecting;
  }

  /** The IPC client once started (local publish/subscribe for sensor frames). */
  async local(): Promise<IpcClient> {
    await this.start();
    return this.client as IpcClient;
  }

  async subscribe(topic: string, handler: Handler): Promise<void> {
    if (!this.client) {
      this.pending.set(topic, handler);
      return;
    }
    await this.client.subscribeToIoTCore(topic, (m) => handler(m.topic, bytes(m.message)));
  }

  async publish(topic: string, payload: string | Buffer): Promise<void> {
    if (!this.client) throw new Error(`not connected to the nucleus: cannot publish to ${topic}`);
    await this.client.publishToIoTCore(topic, typeof payload === 'string' ? payload : payload.toString('utf8'));
  }

  async stop(): Promise<void> {
    this.client?.close();
    this.client = null;
  }
}
