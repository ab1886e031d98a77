/**
 * The operator console: what the cloud sees of the fleet, read over MQTT with the console's own
 * least-privilege identity (console-identity.ts): alarms, heartbeats, operator alerts and shadow
 * documents of every device. Nothing here comes from the simulator; the dashboard shows it beside the
 * simulator's ground truth so the detection delay is visible.
 */
import { EventEmitter } from 'node:events';
import type { ContingencyAlert, ContingencyState } from '../edge/contingency';
import type { Heartbeat } from '../edge/agent';
import { DeviceConnection } from '../edge/device-connection';
import { DEFAULT_TELEMETRY_PREFIX } from '../edge/device-config';
import { type ConsoleIdentity, consoleTopicFilters } from './console-identity';

/** An alarm as the cloud received it. */
export interface ReceivedAlarm {
  thingName: string;
  /** Wall time (ms) the console received it. */
  receivedAt: number;
  model: string;
  version: string;
  endEventTime: string;
  score: number;
  overThreshold: string[];
}

/** An operator alert as received. */
export type ReceivedAlert = ContingencyAlert & { receivedAt: number };

/** The cloud's view of one device. */
export interface DeviceView {
  thingName: string;
  heartbeat: Heartbeat | null;
  /** Wall time (ms) of the last heartbeat received. */
  heartbeatAt: number | null;
  model: { name: string; version: string } | null;
  contingency: ContingencyState | null;
  alarms: number;
  lastAlarm: ReceivedAlarm | null;
  /** Wall time (ms) each feature was last over its threshold in an alarm. */
  featureAlarmAt: Record<string, number>;
}

const ALERTS_KEPT = 200;

/** Reads the fleet's topics; emits 'alarm' (ReceivedAlarm), 'alert' (ReceivedAlert), 'heartbeat' (DeviceView). */
export class OperatorConsole extends EventEmitter {
  readonly devices = new Map<string, DeviceView>();
  /** Newest last. */
  readonly alerts: ReceivedAlert[] = [];
  /** Messages that could not be read (counted, logged once a second at most). */
  unreadable = 0;
  private readonly connection: DeviceConnection;
  private readonly prefix: string;

  constructor(
    identity: ConsoleIdentity,
    endpoint: { host: string; port: number },
    private readonly opts: { telemetryPrefix?: string; log?: (line: string) => void } = {},
  ) {
    super();
    this.prefix = opts.telemetryPrefix ?? DEFAULT_TELEMETRY_PREFIX;
    this.connection = new DeviceConnection(
      { host: endpoint.host, port: endpoint.port, clientId: identity.thingName, certificatePem: identity.certificatePem, privateKeyPem: identity.privateKeyPem, caPem: identity.caPem },
      opts.log,
    );
  }

  /** True while connected. */
  get online(): boolean {
    return this.connection.isOnline;
  }

  /** The view of a device (created empty on first use). */
  device(thingName: string): DeviceView {
    let d = this.devices.get(thingName);
    if (!d) {
      d = { thingName, heartbeat: null, heartbeatAt: null, model: null, contingency: null, alarms: 0, lastAlarm: null, featureAlarmAt: {} };
      this.devices.set(thingName, d);
    }
    return d;
  }

  /** Connects and subscribes; resolves once the first connection is up. */
  async start(): Promise<void> {
    const f = consoleTopicFilters(this.prefix);
    await this.connection.subscribe(f.alarms, (topic, payload) => this.read(topic, payload, (doc) => this.onAlarm(doc)));
    await this.connection.subscribe(f.heartbeats, (topic, payload) => this.read(topic, payload, (doc) => this.onHeartbeat(doc as unknown as Heartbeat)));
    await this.connection.subscribe(f.alerts, (topic, payload) => this.read(topic, payload, (doc) => this.onAlert(doc as unknown as ContingencyAlert)));
    const shadow = (topic: string, payload: ArrayBuffer, path: 'current' | 'state'): void =>
      this.read(topic, payload, (doc) => {
        const thing = topic.split('/')[2];
        const reported = path === 'current' ? (doc.current as { state?: { reported?: Record<string, unknown> } } | undefined)?.state?.reported : (doc.state as { reported?: Record<string, unknown> } | undefined)?.reported;
        if (reported) this.onReported(thing, reported);
      });
    await this.connection.subscribe(f.shadowDocuments, (topic, payload) => shadow(topic, payload, 'current'));
    await this.connection.subscribe(f.shadowGetAccepted, (topic, payload) => shadow(topic, payload, 'state'));
    const online = new Promise<void>((resolve) => this.connection.once('online', resolve));
    void this.connection.start();
    await online;
  }

  /** Asks for the current shadow of each thing (answers arrive as shadow documents). */
  async readShadows(things: string[]): Promise<void> {
    for (const thing of things) await this.connection.publish(`$aws/things/${thing}/shadow/get`, '{}').catch(() => undefined);
  }

  /** Disconnects. */
  async stop(): Promise<void> {
    await this.connection.stop();
  }

  private read(topic: string, payload: ArrayBuffer, use: (doc: Record<string, unknown>) => void): void {
    let doc: unknown;
    try {
      doc = JSON.parse(Buffer.from(payload).toString('utf8'));
    } catch {
      doc = undefined;
    }
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
      this.unreadable++;
      this.opts.log?.(`console: unreadable message on ${topic} (${this.unreadable} so far)`);
      return;
    }
    use(doc as Record<string, unknown>);
  }

  private thingOf(doc: Record<string, unknown>): string | null {
    return typeof doc.thingName === 'string' ? doc.thingName : null;
  }

  private onAlarm(doc: Record<string, unknown>): void {
    const thingName = this.thingOf(doc);
    if (!thingName) return;
    const alarm: ReceivedAlarm = {
      thingName,
      receivedAt: Date.now(),
      model: String(doc.model),
      version: String(doc.version),
      endEventTime: String(doc.endEventTime),
      score: Number(doc.score),
      overThreshold: Array.isArray(doc.overThreshold) ? doc.overThreshold.map(String) : [],
    };
    const d = this.device(thingName);
    d.alarms++;
    d.lastAlarm = alarm;
    for (const f of alarm.overThreshold) d.featureAlarmAt[f] = alarm.receivedAt;
    this.emit('alarm', alarm);
  }

  private onHeartbeat(hb: Heartbeat): void {
    if (typeof hb.thingName !== 'string') return;
    const d = this.device(hb.thingName);
    d.heartbeat = hb;
    d.heartbeatAt = Date.now();
    const active = Array.isArray(hb.models) ? hb.models.find((m) => m.role === 'active') : undefined;
    if (active) d.model = { name: active.name, version: active.version };
    if (hb.contingency) d.contingency = hb.contingency;
    this.emit('heartbeat', d);
  }

  private onAlert(alert: ContingencyAlert): void {
    if (typeof alert.thingName !== 'string') return;
    const received: ReceivedAlert = { ...alert, receivedAt: Date.now() };
    this.alerts.push(received);
    if (this.alerts.length > ALERTS_KEPT) this.alerts.splice(0, this.alerts.length - ALERTS_KEPT);
    this.emit('alert', received);
  }

  private onReported(thing: string, reported: Record<string, unknown>): void {
    const d = this.device(thing);
    if (reported.contingency && typeof reported.contingency === 'object') d.contingency = reported.contingency as ContingencyState;
    const agent = reported.agent as Heartbeat | undefined;
    const active = agent && Array.isArray(agent.models) ? agent.models.find((m) => m.role === 'active') : undefined;
    // A heartbeat newer than the shadow's copy wins; the shadow fills in for a console started late.
    if (active && d.heartbeatAt === null) d.model = { name: active.name, version: active.version };
  }
}
