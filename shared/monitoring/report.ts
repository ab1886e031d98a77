/**
 * The monitoring report: per model version and device, from captured windows and heartbeats. Pure
 * functions (no I/O): the readers in s3-capture-reader.ts and heartbeat-reader.ts fetch the inputs.
 * Captured records are a seeded sample of the scored windows, so rates from them are shares of the sample;
 * the heartbeat's counters give the device's own totals.
 */
import type { CaptureBatch } from '../edge/capture';
import type { Heartbeat } from '../edge/agent';
import { capturedWindows, type CapturedWindow } from './captured-windows';
import { addWindowMoments, driftVerdict, type DriftThresholds, type DriftVerdict, emptyMoments, momentsFromSummary } from './drift';

/** Spread of a set of values. */
export interface Spread {
  count: number;
  p50: number;
  p90: number;
  max: number;
}

/** One time bucket of a device's captured windows. */
export interface TimelineBucket {
  /** Bucket start (ISO-8601). */
  start: string;
  windows: number;
  /** Share of captured windows with a (debounced) alarm. */
  alarmRate: number;
  score: Spread;
  /** Median error per feature. */
  errorP50: number[];
}

/** What the latest heartbeat says about a device's health. */
export interface DeviceHealth {
  time: string;
  /** Age of the heartbeat when the report was made, in seconds. */
  ageSeconds: number;
  connected: boolean;
  activeVersion: string | null;
  alarms: number;
  inferences: number;
  latencyP99Ms: number;
  framesRejected: number;
  framesDropped: number;
  captureDropped: number;
  /** The drift test on the heartbeat's own figures (every live window since the previous heartbeat). */
  drift: DriftVerdict;
  /** Heartbeat fresh, device connected, no frame dropped. */
  ok: boolean;
  problems: string[];
}

/** The report of one model version on one device ('*' for all devices). */
export interface VersionDeviceReport {
  model: string;
  version: string;
  thingName: string;
  windows: number;
  from: string;
  to: string;
  alarmRate: number;
  score: Spread;
  errors: { feature: string; spread: Spread }[];
  timeline: TimelineBucket[];
  drift: DriftVerdict;
}

/** Everything the monitoring knows. */
export interface MonitoringReport {
  generatedAt: string;
  featureNames: string[];
  /** Per version and device, then per version over all devices ('*'). */
  reports: VersionDeviceReport[];
  health: Record<string, DeviceHealth>;
}

/** Options of buildMonitoringReport. */
export interface MonitoringOptions {
  /** Feature names of the model input, in order (the manifest's featureNames). */
  featureNames: readonly string[];
  /** Timeline bucket length (default 60 s). */
  bucketSeconds?: number;
  thresholds?: Partial<DriftThresholds>;
  /** Report time (default now). */
  now?: number;
  /** A heartbeat older than this is a health problem (default 120 s). */
  maxHeartbeatAgeSeconds?: number;
}

/** Quantile by nearest rank of sorted values. */
function spread(values: number[]): Spread {
  if (values.length === 0) return { count: 0, p50: Number.NaN, p90: Number.NaN, max: Number.NaN };
  const s = [...values].sort((a, b) => a - b);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
  return { count: s.length, p50: at(0.5), p90: at(0.9), max: s[s.length - 1] };
}

function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const it of items) {
    const k = key(it);
    const list = out.get(k);
    if (list) list.push(it);
    else out.set(k, [it]);
  }
  return out;
}

/** The report of one group of windows (one version, one device or all). */
export function versionDeviceReport(windows: readonly CapturedWindow[], thingName: string, o: MonitoringOptions): VersionDeviceReport {
  if (windows.length === 0) throw new Error(`no captured windows for ${thingName}`);
  const names = [...o.featureNames];
  const bucketMs = (o.bucketSeconds ?? 60) * 1000;
  if (!(bucketMs > 0)) throw new Error(`bucketSeconds must be positive, got ${o.bucketSeconds}`);
  const moments = emptyMoments(names.length);
  for (const w of windows) {
    if (w.features !== names.length) throw new Error(`captured record ${w.record.captureId} of ${w.thingName} has ${w.features} features, the model ${names.length}`);
    addWindowMoments(moments, w.input, w.steps);
  }
  const alarmShare = (ws: readonly CapturedWindow[]): number => ws.filter((w) => w.record.alarm).length / ws.length;
  const timeline = [...groupBy(windows, (w) => String(Math.floor(w.time / bucketMs) * bucketMs))].map(([start, ws]) => ({
    start: new Date(Number(start)).toISOString(),
    windows: ws.length,
    alarmRate: alarmShare(ws),
    score: spread(ws.map((w) => w.record.score)),
    errorP50: names.map((_, f) => spread(ws.map((w) => w.record.errors[f])).p50),
  }));
  return {
    model: windows[0].record.model,
    version: windows[0].record.version,
    thingName,
    windows: windows.length,
    from: new Date(windows[0].time).toISOString(),
    to: new Date(windows[windows.length - 1].time).toISOString(),
    alarmRate: alarmShare(windows),
    score: spread(windows.map((w) => w.record.score)),
    errors: names.map((feature, f) => ({ feature, spread: spread(windows.map((w) => w.record.errors[f])) })),
    timeline,
    drift: driftVerdict(names, moments, o.thresholds),
  };
}

/** A device's health from its latest heartbeat. */
export function deviceHealth(hb: Heartbeat, o: MonitoringOptions): DeviceHealth {
  const now = o.now ?? Date.now();
  const ageSeconds = (now - Date.parse(hb.time)) / 1000;
  const maxAge = o.maxHeartbeatAgeSeconds ?? 120;
  const names = [...o.featureNames];
  const moments = names.map((name) => {
    const d = hb.drift.find((x) => x.feature === name);
    return d ? momentsFromSummary(d.mean, d.std, d.steps) : { n: 0, sum: 0, sumSq: 0 };
  });
  const problems: string[] = [];
  if (!(ageSeconds <= maxAge)) problems.push(`last heartbeat ${Number.isFinite(ageSeconds) ? ageSeconds.toFixed(0) : '?'} s old (more than ${maxAge} s)`);
  if (!hb.connected) problems.push('not connected');
  if (hb.frames.dropped > 0) problems.push(`${hb.frames.dropped} frames dropped (the device cannot keep up)`);
  return {
    time: hb.time,
    ageSeconds,
    connected: hb.connected,
    activeVersion: hb.models.find((m) => m.role === 'active')?.version ?? null,
    alarms: hb.alarms,
    inferences: hb.inferences,
    latencyP99Ms: hb.latencyMs.p99,
    framesRejected: hb.frames.rejected,
    framesDropped: hb.frames.dropped,
    captureDropped: hb.capture.dropped,
    drift: driftVerdict(names, moments, o.thresholds),
    ok: problems.length === 0,
    problems,
  };
}

/** The whole report: per version and device, per version over all devices, and each device's health. */
export function buildMonitoringReport(batches: readonly CaptureBatch[], heartbeats: readonly Heartbeat[], o: MonitoringOptions): MonitoringReport {
  const windows = capturedWindows(batches);
  const reports: VersionDeviceReport[] = [];
  for (const [, ws] of groupBy(windows, (w) => `${w.record.model}\u0000${w.record.version}`)) {
    const byThing = groupBy(ws, (w) => w.thingName);
    for (const [thing, tw] of [...byThing].sort(([a], [b]) => (a < b ? -1 : 1))) reports.push(versionDeviceReport(tw, thing, o));
    reports.push(versionDeviceReport(ws, '*', o));
  }
  const health: Record<string, DeviceHealth> = {};
  for (const hb of heartbeats) health[hb.thingName] = deviceHealth(hb, o);
  return { generatedAt: new Date(o.now ?? Date.now()).toISOString(), featureNames: [...o.featureNames], reports, health };
}
