/**
 * The agent's one MQTT connection (aws-iot-device-sdk-v2, MQTT 3.1.1 over mutual TLS with the device
 * certificate), built as the SDK samples build theirs. It keeps trying until the first connect succeeds
 * (a device may boot before the network or the cloud is up), lets the SDK reconnect after interruptions,
 * and re-subscribes every registered subscription whenever the broker did not keep the session.
 */
import { EventEmitter } from 'node:events';
import { iot, mqtt } from 'aws-iot-device-sdk-v2';

/** Where and as whom to connect. */
export interface DeviceEndpoint {
  host: string;
  port: number;
  clientId: string;
  certificatePem: string;
  privateKeyPem: string;
  caPem: string;
}

type Handler = (topic: string, payload: ArrayBuffer) => void;

/**
 * What the agent needs of its link to the cloud: a DeviceConnection (its own MQTT connection), or, when
 * it runs as a Greengrass component, the nucleus's MQTT proxy (greengrass-ipc-connection.ts).
 * `connection` is what the SDK's service clients (shadow, jobs) publish and subscribe through.
 * Emits 'online' and 'offline'.
 */
export interface CloudConnection extends EventEmitter {
  readonly connection: mqtt.MqttClientConnection;
  readonly isOnline: boolean;
  start(): Promise<void>;
  subscribe(topic: string, handler: Handler): Promise<void>;
  publish(topic: string, payload: string | Buffer): Promise<void>;
  stop(): Promise<void>;
}

/** A self-healing device connection; emits 'online' (after (re)subscribing) and 'offline'. */
export class DeviceConnection extends EventEmitter implements CloudConnection {
  readonly connection: mqtt.MqttClientConnection;
  private readonly client = new mqtt.MqttClient();
  private readonly subscriptions = new Map<string, Handler>();
  private online = false;
  private stopped = false;
  private connecting: Promise<void> | null = null;

  constructor(
    readonly endpoint: DeviceEndpoint,
    private readonly log: (message: string) => void = () => undefined,
  ) {
    super();
    const config = iot.AwsIotMqttConnectionConfigBuilder.new_mtls_builder(endpoint.certificatePem, endpoint.privateKeyPem)
      .with_certificate_authority(endpoint.caPem)
      .with_endpoint(endpoint.host)
      .with_port(endpoint.port)
      .with_client_id(endpoint.clientId)
      .with_clean_session(true)
      .with_keep_alive_seconds(30)
      .with_reconnect_min_sec(1)
      .with_reconnect_max_sec(4)
      .with_ping_timeout_ms(3000)
      .build();
    this.connection = this.client.new_connection(config);
    this.connection.on('interrupt', (err) => {
      this.setOffline(`connection interrupted (${(err as Error)?.message ?? err})`);
    });
    this.connection.on('resume', (_code: number, sessionPresent: boolean) => {
      void this.afterConnect(sessionPresent);
    });
    this.connection.on('error', (err) => this.log(`mqtt error: ${(err as Error).message}`));
  }

  get isOnline(): boolean {
    return this.online;
  }

  /** Starts connecting in the background; resolves at the first successful connection. */
  start(): Promise<void> {
    this.connecting ??= this.connectLoop();
    return this.connecting;
  }

  /** Registers a subscription (made now when online, and again after every reconnect). */
  async subscribe(topic: string, handler: Handler): Promise<void> {
    this.subscriptions.set(topic, handler);
    if (this.online) await this.connection.subscribe(topic, mqtt.QoS.AtLeastOnce, handler);
  }

  /** Publishes at QoS 1; resolves at PUBACK, rejects when offline. */
  async publish(topic: string, payload: string | Buffer): Promise<void> {
    if (!this.online) throw new Error(`offline: cannot publish to ${topic}`);
    await this.connection.publish(topic, payload, mqtt.QoS.AtLeastOnce);
  }

  /** Disconnects and stops reconnecting. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.online = false;
    try {
      await Promise.race([this.connection.disconnect(), new Promise((r) => setTimeout(r, 2000))]);
    } catch {
      // never connected or already closed
    }
  }

  private setOffline(why: string): void {
    if (this.online) {
      this.online = false;
      this.log(why);
      this.emit('offline');
    }
  }

  private async connectLoop(): Promise<void> {
    let delay = 500;
    while (!this.stopped) {
      try {
        const sessionPresent = await this.connection.connect();
        await this.afterConnect(sessionPresent);
        return;
      } catch (err) {
        if (this.stopped) return;
        this.log(`cannot connect to ${this.endpoint.host}:${this.endpoint.port} (${(err as Error).message}); retrying in ${delay} ms`);
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 4000);
      }
    }
  }

  private async afterConnect(sessionPresent: boolean): Promise<void> {
    if (this.stopped) return;
    try {
      if (!sessionPresent) for (const [topic, handler] of this.subscriptions) await this.connection.subscribe(topic, mqtt.QoS.AtLeastOnce, handler);
    } catch (err) {
      this.log(`re-subscribing failed: ${(err as Error).message}`);
      return;
    }
    this.online = true;
    this.log(`connected to ${this.endpoint.host}:${this.endpoint.port} as ${this.endpoint.clientId}`);
    this.emit('online');
  }
}
