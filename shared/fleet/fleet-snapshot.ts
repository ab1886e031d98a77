/**
 * What the dashboard shows of the farm, as data: per-turbine rows (simulator truth beside the cloud's
 * view), the farm summary, a page of rows, one turbine in detail and the fleet report per model version.
 */
import { FAULT_KINDS } from '../turbine/faults';
import type { InjectionRecord } from './ground-truth';
import type { TurbineStatus } from './messages';
import type { DeviceView, OperatorConsole, ReceivedAlert } from './operator-console';
import type { JobProgress } from './rollout';

/** Per model version, as the Edge Manager console's fleet report had it. */
export interface VersionReport {
  model: string;
  version: string;
  devices: number;
  windowsScored: number;
  alarms: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  /** Mean over devices of the largest per-feature drift in their last heartbeat. */
  drift: number;
}

/** What the dashboard shows of one turbine. */
export interface TurbineRow {
  index: number;
  thingName: string;
  /** Ground truth (simulator). */
  truth: Pick<TurbineStatus, 'rps' | 'wind' | 'fault' | 'brake' | 'generatorConnected' | 'produced' | 'processed' | 'windowsScored' | 'version'> | null;
  /** The cloud's view (operator console). */
  cloud: {
    model: string | null;
    version: string | null;
    alarms: number;
    /** Features over threshold in alarms received in the last ALARM_LIGHT_MS. */
    alarmFeatures: string[];
    alarming: boolean;
    heartbeatAgeMs: number | null;
    contingency: DeviceView['contingency'];
    capture: { captured: number; uploaded: number; pending: number; dropped: number } | null;
    drift: number | null;
  };
}

/** The six features a watched turbine streams, oldest first. */
export interface FeatureTrail {
  eventTimes: string[];
  values: number[][];
}

/** The dashboard's view of the farm. */
export interface FleetSnapshot {
  time: number;
  turbines: number;
  workers: number;
  speed: number;
  featureNames: string[];
  faultKinds: readonly string[];
  summary: { online: number; alarming: number; engaged: number; faults: number; staleHeartbeats: number; produced: number; processed: number; windowsScored: number; rssBytes: number };
  page: { index: number; size: number; pages: number; rows: TurbineRow[] };
  detail: (TurbineRow & { features: FeatureTrail; injections: InjectionRecord[] }) | null;
  alerts: ReceivedAlert[];
  jobs: JobProgress[];
  report: VersionReport[];
  injections: InjectionRecord[];
}

/** Which part of the farm a browser asked for. */
export interface SnapshotView {
  page?: number;
  pageSize?: number;
  detail?: number | null;
}

/** The farm's state a snapshot is read from. */
export interface FarmState {
  turbines: number;
  workers: number;
  speed: number;
  heartbeatSeconds: number;
  things: string[];
  /** Latest status per turbine (null until its worker reported). */
  statuses: (TurbineStatus | null)[];
  /** Resident memory reported by each worker. */
  rss: number[];
  features: Map<number, FeatureTrail>;
  injections: InjectionRecord[];
  console: OperatorConsole;
  jobs: JobProgress[];
}

/** How long a received alarm lights its features on the dashboard. */
export const ALARM_LIGHT_MS = 10_000;
const FEATURE_NAMES = ['roll', 'pitch', 'yaw', 'wind_speed_rps', 'rps', 'voltage'];

/** One turbine's row: the simulator's truth beside what the console received. */
export function turbineRow(state: FarmState, index: number, now: number): TurbineRow {
  const s = state.statuses[index];
  const d = state.console.devices.get(state.things[index]);
  const alarmFeatures = d ? Object.entries(d.featureAlarmAt).filter(([, at]) => now - at < ALARM_LIGHT_MS).map(([f]) => f) : [];
  const hb = d?.heartbeat;
  return {
    index,
    thingName: state.things[index],
    truth: s ? { rps: s.rps, wind: s.wind, fault: s.fault, brake: s.brake, generatorConnected: s.generatorConnected, produced: s.produced, processed: s.processed, windowsScored: s.windowsScored, version: s.version } : null,
    cloud: {
      model: d?.model?.name ?? null,
      version: d?.model?.version ?? null,
      alarms: d?.alarms ?? 0,
      alarmFeatures,
      alarming: d?.lastAlarm ? now - d.lastAlarm.receivedAt < ALARM_LIGHT_MS : false,
      heartbeatAgeMs: d?.heartbeatAt ? now - d.heartbeatAt : null,
      contingency: d?.contingency ?? null,
      capture: hb ? hb.capture : null,
      drift: hb && hb.drift.length ? Number(Math.max(...hb.drift.map((x) => x.drift)).toFixed(3)) : null,
    },
  };
}

/** The fleet report per model version, from each device's last heartbeat. */
export function versionReport(devices: Iterable<DeviceView>): VersionReport[] {
  const by = new Map<string, { model: string; version: string; devices: number; windowsScored: number; alarms: number; p50: number[]; p99: number[]; drift: number[] }>();
  for (const d of devices) {
    const hb = d.heartbeat;
    if (!hb || !d.model) continue;
    const key = `${d.model.name} ${d.model.version}`;
    const r = by.get(key) ?? { model: d.model.name, version: d.model.version, devices: 0, windowsScored: 0, alarms: 0, p50: [], p99: [], drift: [] };
    r.devices++;
    r.windowsScored += hb.inferences;
    r.alarms += hb.alarms;
    r.p50.push(hb.latencyMs.p50);
    r.p99.push(hb.latencyMs.p99);
    if (hb.drift.length) r.drift.push(Math.max(...hb.drift.map((x) => x.drift)));
    by.set(key, r);
  }
  const median = (v: number[]): number => (v.length ? [...v].sort((a, b) => a - b)[v.length >> 1] : 0);
  return [...by.values()].map((r) => ({
    model: r.model,
    version: r.version,
    devices: r.devices,
    windowsScored: r.windowsScored,
    alarms: r.alarms,
    latencyP50Ms: Number(median(r.p50).toFixed(3)),
    latencyP99Ms: Number(Math.max(0, ...r.p99).toFixed(3)),
    drift: r.drift.length ? Number((r.drift.reduce((a, b) => a + b, 0) / r.drift.length).toFixed(3)) : 0,
  }));
}

/** The dashboard's view: summary, the asked page of rows, the asked turbine in detail. */
export function fleetSnapshot(state: FarmState, view: SnapshotView = {}): FleetSnapshot {
  const n = state.turbines;
  const now = Date.now();
  const size = Math.max(1, Math.min(200, Math.floor(view.pageSize ?? 24)));
  const pages = Math.ceil(n / size);
  const page = Math.max(0, Math.min(pages - 1, Math.floor(view.page ?? 0)));
  const summary = { online: 0, alarming: 0, engaged: 0, faults: 0, staleHeartbeats: 0, produced: 0, processed: 0, windowsScored: 0, rssBytes: Math.max(0, ...state.rss) };
  const staleMs = 3 * 1000 * state.heartbeatSeconds;
  for (let i = 0; i < n; i++) {
    const s = state.statuses[i];
    if (s) {
      if (s.online) summary.online++;
      if (s.fault) summary.faults++;
      summary.produced += s.produced;
      summary.processed += s.processed;
      summary.windowsScored += s.windowsScored;
    }
    const d = state.console.devices.get(state.things[i]);
    if (d?.lastAlarm && now - d.lastAlarm.receivedAt < ALARM_LIGHT_MS) summary.alarming++;
    if (d?.contingency?.engaged) summary.engaged++;
    if (!d?.heartbeatAt || now - d.heartbeatAt > staleMs) summary.staleHeartbeats++;
  }
  const rows: TurbineRow[] = [];
  for (let i = page * size; i < Math.min(n, (page + 1) * size); i++) rows.push(turbineRow(state, i, now));
  const di = view.detail;
  const detail = di !== null && di !== undefined && Number.isInteger(di) && di >= 0 && di < n ? { ...turbineRow(state, di, now), features: state.features.get(di) ?? { eventTimes: [], values: [] }, injections: state.injections.filter((r) => r.index === di).slice(-10) } : null;
  return {
    time: now,
    turbines: n,
    workers: state.workers,
    speed: state.speed,
    featureNames: FEATURE_NAMES,
    faultKinds: FAULT_KINDS,
    summary,
    page: { index: page, size, pages, rows },
    detail,
    alerts: state.console.alerts.slice(-20).reverse(),
    jobs: state.jobs,
    report: versionReport(state.console.devices.values()),
    injections: state.injections.slice(-20).reverse(),
  };
}
