/**
 * The agent's one MQTT connection (aws-iot-device-sdk-v2, MQTT 3.1.1 over mutual TLS with the device
 * certificate), built as the SDK samples build theirs. It keeps trying until the first connect succeeds
 * (a device may boot before the network or the cloud is up), lets the SDK reconnect after interruptions,
 * and re-subscribes every registered subscription whenever the broker did not keep the session.
 *
 * A connection whose first connect() failed is never reused: aws-crt's Node binding then drops that
 * connection's interrupt/resume callbacks for good (mqtt_client_connection.c, s_on_connect_call), so a
 * device that needed a second attempt (cloud not up yet, or a TLS handshake timed out in a reconnect
 * storm) would never notice a later outage. Each attempt gets a fresh native connection; `connection`
 * forwards to whichever is live.
 */
import { EventEmitter } from 'node:events';
import { createHash } from 'node:crypto';
import { iot, mqtt } from 'aws-iot-device-sdk-v2';
import { mulberry32 } from '../turbine/random';

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
 * MQTT timing of a device connection. The defaults suit one device and a farm of a thousand alike: a broker
 * that is busy for a few seconds (a reconnect storm, a farm starting) must not look dead to its clients,
 * or they drop and reconnect all at once and keep it busy; and devices that failed together must not all
 * retry in the same millisecond.
 */
export interface ConnectionTiming {
  /** MQTT keep-alive (PINGREQ after this much silence). */
  keepAliveSeconds: number;
  /** How long a PINGRESP may take before the connection counts as lost (the SDK's default is 3 s). */
  pingTimeoutMs: number;
  /** The SDK's reconnect back-off after an interruption, doubling from min to max. */
  reconnectMinSeconds: number;
  reconnectMaxSeconds: number;
  /** Retry delay of a failed first connect, doubling up to 8 s; each wait is drawn from 50-150 % of it. */
  firstRetryMs: number;
  /** The first connect waits a random 0..this (a farm's devices do not all boot in the same millisecond). */
  startJitterMs: number;
}

/** See ConnectionTiming. */
export const DEFAULT_CONNECTION_TIMING: Readonly<ConnectionTiming> = Object.freeze({
  keepAliveSeconds: 30,
  pingTimeoutMs: 10_000,
  reconnectMinSeconds: 1,
  reconnectMaxSeconds: 8,
  firstRetryMs: 500,
  startJitterMs: 0,
});

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
  /**
   * For the SDK's service clients (IotShadowClient, IotJobsClient): publish/subscribe/unsubscribe go to the
   * live native connection. Listen to this object's 'online'/'offline', not to events of `connection`.
   */
  readonly connection: mqtt.MqttClientConnection;
  private readonly client = new mqtt.MqttClient();
  private readonly config: mqtt.MqttConnectionConfig;
  private live: mqtt.MqttClientConnection;
  private readonly subscriptions = new Map<string, Handler>();
  private online = false;
  private stopped = false;
  private connecting: Promise<void> | null = null;

  private readonly timing: ConnectionTiming;
  /** Jitter draws, seeded by the client id: devices differ, a device's run is reproducible. */
  private readonly random: () => number;

  constructor(
    readonly endpoint: DeviceEndpoint,
    private readonly log: (message: string) => void = () => undefined,
    timing: Partial<ConnectionTiming> = {},
  ) {
    super();
    this.timing = { ...DEFAULT_CONNECTION_TIMING, ...timing };
    this.random = mulberry32(createHash('sha256').update(endpoint.clientId).digest().readUInt32LE(0));
    const t = this.timing;
    if (!(t.pingTimeoutMs > 0 && t.pingTimeoutMs < t.keepAliveSeconds * 1000)) throw new Error(`pingTimeoutMs (${t.pingTimeoutMs}) must be above 0 and below keepAliveSeconds (${t.keepAliveSeconds} s)`);
    if (!(t.reconnectMinSeconds >= 1 && t.reconnectMaxSeconds >= t.reconnectMinSeconds)) throw new Error(`reconnect back-off ${t.reconnectMinSeconds}..${t.reconnectMaxSeconds} s must start at 1 s or more and not shrink`);
    if (!(t.firstRetryMs > 0 && t.startJitterMs >= 0)) throw new Error('firstRetryMs must be above 0 and startJitterMs not negative');
    this.config = iot.AwsIotMqttConnectionConfigBuilder.new_mtls_builder(endpoint.certificatePem, endpoint.privateKeyPem)
      .with_certificate_authority(endpoint.caPem)
      .with_endpoint(endpoint.host)
      .with_port(endpoint.port)
      .with_client_id(endpoint.clientId)
      .with_clean_session(true)
      .with_keep_alive_seconds(t.keepAliveSeconds)
      .with_reconnect_min_sec(t.reconnectMinSeconds)
      .with_reconnect_max_sec(t.reconnectMaxSeconds)
      .with_ping_timeout_ms(t.pingTimeoutMs)
      .build();
    this.live = this.newNativeConnection();
    this.connection = new Proxy(this.live, {
      get: (_target, property) => {
        const value: unknown = Reflect.get(this.live, property, this.live);
        return typeof value === 'function' ? value.bind(this.live) : value;
      },
    });
  }

  /** A native connection wired to this object's state. */
  private newNativeConnection(): mqtt.MqttClientConnection {
    const native = this.client.new_connection(this.config);
    native.on('interrupt', (err) => {
      if (native === this.live) this.setOffline(`connection interrupted (${errorText(err)})`);
    });
    native.on('resume', (_code: number, sessionPresent: boolean) => {
      if (native === this.live) void this.afterConnect(sessionPresent);
    });
    native.on('error', (err) => this.log(`mqtt error: ${errorText(err)}`));
    return native;
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
    if (this.online) await this.live.subscribe(topic, mqtt.QoS.AtLeastOnce, handler);
  }

  /** Publishes at QoS 1; resolves at PUBACK, rejects when offline. */
  async publish(topic: string, payload: string | Buffer): Promise<void> {
    if (!this.online) throw new Error(`offline: cannot publish to ${topic}`);
    await this.live.publish(topic, payload, mqtt.QoS.AtLeastOnce);
  }

  /** Disconnects and stops reconnecting. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.online = false;
    try {
      // A process that exits while aws-crt still closes the connection can abort inside the binding (a
      // callback into a closing environment), so wait for the close; a busy broker may take seconds.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.live.disconnect(), new Promise((r) => (timer = setTimeout(r, 10_000)))]).finally(() => clearTimeout(timer));
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
    let delay = this.timing.firstRetryMs;
    if (this.timing.startJitterMs > 0) await new Promise((r) => setTimeout(r, this.random() * this.timing.startJitterMs));
    while (!this.stopped) {
      try {
        const sessionPresent = await this.live.connect();
        await this.afterConnect(sessionPresent);
        return;
      } catch (err) {
        if (this.stopped) return;
        this.log(`cannot connect to ${this.endpoint.host}:${this.endpoint.port} (${errorText(err)}); retrying in about ${delay} ms`);
        // The failed connection would never report an interruption again (see the file comment); its
        // native part is freed when it is garbage-collected.
        this.live = this.newNativeConnection();
        // Jittered, so devices refused together (a TLS handshake timeout in a storm) do not retry together.
        await new Promise((r) => setTimeout(r, delay * (0.5 + this.random())));
        delay = Math.min(delay * 2, 8000);
      }
    }
  }

  private async afterConnect(sessionPresent: boolean): Promise<void> {
    if (this.stopped) return;
    try {
      if (!sessionPresent) for (const [topic, handler] of this.subscriptions) await this.live.subscribe(topic, mqtt.QoS.AtLeastOnce, handler);
    } catch (err) {
      const why = errorText(err);
      // The connection dropped meanwhile: the SDK reconnects and 'resume' subscribes again.
      if (/CANCELLED_FOR_CLEAN_SESSION|NOT_CONNECTED/.test(why)) {
        this.log(`re-subscribing failed: ${why}; waiting for the reconnection`);
        return;
      }
      // Otherwise (a timeout on a connection that stays up) no 'resume' would come to retry it.
      this.log(`re-subscribing failed: ${why}; retrying in 1 s`);
      const native = this.live;
      setTimeout(() => {
        if (native === this.live && !this.online) void this.afterConnect(false);
      }, 1000);
      return;
    }
    this.online = true;
    this.log(`connected to ${this.endpoint.host}:${this.endpoint.port} as ${this.endpoint.clientId}`);
    this.emit('online');
  }
}

/** The text of an error the SDK may reject with (an Error, a CrtError or a plain string). */
function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
