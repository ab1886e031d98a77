/**
 * Contingency on the device: what the agent does on its own, without waiting for the cloud, when the
 * detector confirms an anomaly. The device configuration (device.json `agent.contingency`) maps the
 * anomalous feature and the alarm's severity to an action on the turbine: brake the rotor, disconnect the
 * generator, or only report. The action is executed through the turbine's actuator, logged, published as
 * an operator alert on `<prefix>/<thing>/alerts`, reported in the heartbeat and the shadow
 * (`reported.contingency`), and stays engaged until an operator releases it by setting the shadow's
 * `desired.contingency.release` to a new id (the agent reports the same id back, which clears the delta).
 *
 * One alarm episode (consecutive alarmed windows) triggers at most one decision; a release during an
 * episode holds until the episode ends, so a fault still in progress does not re-brake at once. An episode
 * decided as a warning is decided again once it turns critical.
 */
import { EventEmitter } from 'node:events';

/** What the device does to the turbine. */
export const CONTINGENCY_ACTIONS = ['brake', 'disconnect', 'report'] as const;
export type ContingencyAction = (typeof CONTINGENCY_ACTIONS)[number];

/** Alarm severity: critical when the window's score (largest error / threshold ratio) reaches criticalScore. */
export const ALARM_SEVERITIES = ['warning', 'critical'] as const;
export type AlarmSeverity = (typeof ALARM_SEVERITIES)[number];

/** One rule: the first rule matching an over-threshold feature and the severity decides. */
export interface ContingencyRule {
  /** Feature name (roll, pitch, yaw, wind_speed_rps, rps, voltage); absent: any feature. */
  feature?: string;
  /** Absent: any severity. */
  severity?: AlarmSeverity;
  action: ContingencyAction;
}

/** The device's contingency configuration. */
export interface ContingencyConfig {
  /** Score (error / threshold ratio) from which an alarm is critical. */
  criticalScore: number;
  rules: ContingencyRule[];
}

/**
 * Default rules: a critical vibration or rotor-speed anomaly brakes the rotor, a voltage anomaly
 * disconnects the generator, everything else is reported to the operator.
 */
export const DEFAULT_CONTINGENCY: ContingencyConfig = {
  criticalScore: 2,
  rules: [
    { feature: 'roll', severity: 'critical', action: 'brake' },
    { feature: 'pitch', severity: 'critical', action: 'brake' },
    { feature: 'yaw', severity: 'critical', action: 'brake' },
    { feature: 'rps', severity: 'critical', action: 'brake' },
    { feature: 'voltage', action: 'disconnect' },
    { action: 'report' },
  ],
};

/** What the device can do to its turbine (the simulator in the fleet; relays on a real device). */
export interface TurbineActuator {
  brake(on: boolean): void;
  /** true disconnects the generator, false connects it again. */
  disconnectGenerator(on: boolean): void;
}

/** The contingency state as heartbeats, the shadow and the dashboard show it. */
export interface ContingencyState {
  /** True while an action holds the turbine (brake or disconnect) until an operator releases it. */
  engaged: boolean;
  action: ContingencyAction | null;
  feature: string | null;
  severity: AlarmSeverity | null;
  score: number | null;
  /** Wall time the action was taken, and the event time of the window that triggered it. */
  since: string | null;
  endEventTime: string | null;
  model: string | null;
  version: string | null;
  /** Id of the last release handled (echoed in reported state so the shadow delta clears). */
  release: string | null;
  releasedAt: string | null;
  /** Decisions taken since the agent started. */
  decisions: number;
}

/** The part of a scored window contingency reads. */
export interface AlarmWindow {
  alarm: boolean;
  score: number;
  overThreshold: string[];
  model: string;
  version: string;
  endEventTime: string;
}

/** A decision: the alert the agent publishes. */
export interface ContingencyAlert {
  thingName: string;
  time: string;
  action: ContingencyAction;
  feature: string;
  severity: AlarmSeverity;
  score: number;
  model: string;
  version: string;
  endEventTime: string;
  message: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Checks a contingency configuration (from device.json); throws naming the wrong member. */
export function parseContingencyConfig(value: unknown, where = 'contingency'): ContingencyConfig {
  if (!isObject(value)) throw new Error(`${where} must be an object with criticalScore and rules, got ${JSON.stringify(value)}`);
  const criticalScore = value.criticalScore ?? DEFAULT_CONTINGENCY.criticalScore;
  if (typeof criticalScore !== 'number' || !Number.isFinite(criticalScore) || criticalScore <= 1) {
    throw new Error(`${where}.criticalScore must be a number above 1 (an error/threshold ratio), got ${JSON.stringify(criticalScore)}`);
  }
  if (!Array.isArray(value.rules) || value.rules.length === 0) throw new Error(`${where}.rules must be a non-empty array, got ${JSON.stringify(value.rules)}`);
  const rules = value.rules.map((r: unknown, i: number): ContingencyRule => {
    const at = `${where}.rules[${i}]`;
    if (!isObject(r)) throw new Error(`${at} must be an object, got ${JSON.stringify(r)}`);
    if (!(CONTINGENCY_ACTIONS as readonly unknown[]).includes(r.action)) throw new Error(`${at}.action must be one of ${CONTINGENCY_ACTIONS.join(', ')}, got ${JSON.stringify(r.action)}`);
    if (r.feature !== undefined && (typeof r.feature !== 'string' || r.feature === '')) throw new Error(`${at}.feature must be a feature name, got ${JSON.stringify(r.feature)}`);
    if (r.severity !== undefined && !(ALARM_SEVERITIES as readonly unknown[]).includes(r.severity)) throw new Error(`${at}.severity must be warning or critical, got ${JSON.stringify(r.severity)}`);
    const rule: ContingencyRule = { action: r.action as ContingencyAction };
    if (r.feature !== undefined) rule.feature = r.feature as string;
    if (r.severity !== undefined) rule.severity = r.severity as AlarmSeverity;
    return rule;
  });
  return { criticalScore, rules };
}

/** The state of a turbine no action holds and no decision was ever taken on. */
export const IDLE_CONTINGENCY: Readonly<ContingencyState> = Object.freeze({
  engaged: false,
  action: null,
  feature: null,
  severity: null,
  score: null,
  since: null,
  endEventTime: null,
  model: null,
  version: null,
  release: null,
  releasedAt: null,
  decisions: 0,
});

/** Decides and holds contingency actions; emits 'decision' (ContingencyAlert) and 'release' (ContingencyState). */
export class ContingencyController extends EventEmitter {
  private current: ContingencyState = { ...IDLE_CONTINGENCY };
  private inEpisode = false;
  /** The severity the episode's last decision was taken at: a warning episode that turns critical is decided again. */
  private episodeSeverity: AlarmSeverity | null = null;
  /** Set by a release during an alarm episode: no new decision until the episode ends. */
  private holdEpisode = false;

  constructor(
    readonly thingName: string,
    readonly config: ContingencyConfig = DEFAULT_CONTINGENCY,
    private readonly actuator?: TurbineActuator,
    private readonly log: (message: string) => void = () => undefined,
  ) {
    super();
  }

  /** A copy of the state now. */
  get state(): ContingencyState {
    return { ...this.current };
  }

  /** The rule's action for an alarm window (the first rule matching an over-threshold feature and the severity). */
  decide(w: AlarmWindow): { action: ContingencyAction; feature: string; severity: AlarmSeverity } {
    const severity: AlarmSeverity = w.score >= this.config.criticalScore ? 'critical' : 'warning';
    const features = w.overThreshold.length > 0 ? w.overThreshold : ['unknown'];
    for (const rule of this.config.rules) {
      if (rule.severity && rule.severity !== severity) continue;
      const feature = rule.feature ? features.find((f) => f === rule.feature) : features[0];
      if (feature) return { action: rule.action, feature, severity };
    }
    return { action: 'report', feature: features[0], severity };
  }

  /** Feeds every scored window; returns the alert when this window triggered a decision. */
  onWindow(w: AlarmWindow): ContingencyAlert | null {
    if (!w.alarm) {
      this.inEpisode = false;
      this.holdEpisode = false;
      this.episodeSeverity = null;
      return null;
    }
    const newEpisode = !this.inEpisode;
    this.inEpisode = true;
    // An early alarm is often a warning (the onset rule fires before the error grows): when the same
    // episode turns critical, the rules are applied again, so a growing fault still brakes the rotor.
    const escalates = !newEpisode && this.episodeSeverity === 'warning' && w.score >= this.config.criticalScore;
    if ((!newEpisode && !escalates) || this.holdEpisode || this.current.engaged) return null;
    const { action, feature, severity } = this.decide(w);
    this.episodeSeverity = severity;
    const time = new Date().toISOString();
    if (action === 'brake') this.actuator?.brake(true);
    if (action === 'disconnect') this.actuator?.disconnectGenerator(true);
    const holds = action !== 'report';
    this.current = {
      ...this.current,
      engaged: holds,
      action,
      feature,
      severity,
      score: Number(w.score.toFixed(3)),
      since: time,
      endEventTime: w.endEventTime,
      model: w.model,
      version: w.version,
      decisions: this.current.decisions + 1,
    };
    const what = action === 'brake' ? 'rotor braked' : action === 'disconnect' ? 'generator disconnected' : 'reported only';
    const message = `${severity} anomaly on ${feature} (score ${w.score.toFixed(2)}, model ${w.model} ${w.version}): ${what}${holds ? ', waiting for an operator release' : ''}`;
    this.log(`contingency: ${message}`);
    const alert: ContingencyAlert = { thingName: this.thingName, time, action, feature, severity, score: this.current.score as number, model: w.model, version: w.version, endEventTime: w.endEventTime, message };
    this.emit('decision', alert);
    return alert;
  }

  /**
   * An operator release with its id: undoes the action (brake off, generator connected). A release id seen
   * before is ignored (false); a new one while nothing is engaged is only recorded.
   */
  release(id: string): boolean {
    if (typeof id !== 'string' || id.length === 0 || id.length > 128) throw new Error(`a release id must be a string of 1 to 128 characters, got ${JSON.stringify(id)}`);
    if (id === this.current.release) return false;
    const was = this.current.action;
    if (this.current.engaged) {
      if (was === 'brake') this.actuator?.brake(false);
      if (was === 'disconnect') this.actuator?.disconnectGenerator(false);
      this.holdEpisode = this.inEpisode;
      this.log(`contingency: ${was} released by operator (release ${id})`);
    }
    this.current = { ...this.current, engaged: false, release: id, releasedAt: new Date().toISOString() };
    this.emit('release', this.state);
    return true;
  }
}

/** The MQTT side the controller needs (DeviceConnection provides it). */
export interface ContingencyLink {
  readonly isOnline: boolean;
  publish(topic: string, payload: string): Promise<void>;
  subscribe(topic: string, handler: (topic: string, payload: ArrayBuffer) => void): Promise<void>;
  on(event: 'online', listener: () => void): unknown;
}

/**
 * Connects a controller to the cloud: alerts on alertsTopic, the state in the shadow's
 * reported.contingency, and releases from the shadow's desired.contingency.release (delta, and the
 * shadow read at every (re)connection so a release sent while the device was offline is not lost).
 */
export async function linkContingency(controller: ContingencyController, link: ContingencyLink, thingRoot: string, alertsTopic: string, log: (message: string) => void): Promise<void> {
  const report = (): void => {
    if (!link.isOnline) return;
    link.publish(`${thingRoot}/shadow/update`, JSON.stringify({ state: { reported: { contingency: controller.state } } })).catch((err: Error) => log(`contingency state not reported: ${err.message}`));
  };
  const fromDelta = (payload: ArrayBuffer, path: 'state' | 'delta'): void => {
    let release: unknown;
    try {
      const doc = JSON.parse(Buffer.from(payload).toString('utf8')) as { state?: { contingency?: { release?: unknown }; delta?: { contingency?: { release?: unknown } } } };
      const state = path === 'state' ? doc.state : doc.state?.delta;
      if (!state?.contingency || !('release' in state.contingency)) return;
      release = state.contingency.release;
    } catch (err) {
      log(`shadow document ignored: not JSON (${(err as Error).message})`);
      return;
    }
    try {
      controller.release(release as string);
    } catch (err) {
      log(`desired contingency release refused: ${(err as Error).message}`);
      return;
    }
    report();
  };
  controller.on('decision', (alert: ContingencyAlert) => {
    if (link.isOnline) link.publish(alertsTopic, JSON.stringify(alert)).catch((err: Error) => log(`alert not published (the heartbeat still carries the state): ${err.message}`));
    report();
  });
  await link.subscribe(`${thingRoot}/shadow/update/delta`, (_t, payload) => fromDelta(payload, 'state'));
  await link.subscribe(`${thingRoot}/shadow/get/accepted`, (_t, payload) => fromDelta(payload, 'delta'));
  link.on('online', () => {
    link.publish(`${thingRoot}/shadow/get`, '{}').catch(() => undefined);
    report();
  });
}
