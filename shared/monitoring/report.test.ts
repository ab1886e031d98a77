import { test } from 'node:test';
import { IDLE_CONTINGENCY } from '../edge/contingency';
import assert from 'node:assert/strict';
import type { Heartbeat } from '../edge/agent';
import { buildMonitoringReport, deviceHealth } from './report';
import { captureFieldBatches, trainingStatistics } from './field-capture-testing';

const NAMES = ['roll', 'pitch', 'yaw', 'wind_speed_rps', 'rps', 'voltage'];

const heartbeat = (over: Partial<Heartbeat> = {}): Heartbeat => ({
  thingName: 'turbine-0',
  agentVersion: '1',
  time: '2026-01-01T00:00:00.000Z',
  connected: true,
  models: [{ name: 'wind-turbine-anomaly', version: '1.0.0', role: 'active', backend: 'onnxruntime', inferences: 10 }],
  inferences: 10,
  latencyMs: { p50: 1, p90: 2, p99: 3 },
  alarms: 0,
  frames: { received: 100, accepted: 100, rejected: 0, dropped: 0 },
  capture: { captured: 5, uploaded: 5, dropped: 0, pending: 0 },
  drift: NAMES.map((feature) => ({ feature, mean: 0.05, std: 1.02, steps: 6000, drift: 0.07 })),
  contingency: { ...IDLE_CONTINGENCY },
  modelStatus: { state: 'scoring', waiting: [], problem: null },
  ...over,
});

test('a report per version and device plus the version over all devices, with timelines, spreads and alarm rates', async () => {
  const stats = trainingStatistics(4, 12000, 5);
  // Two versions: the stand-in models differ in scale, so their errors differ; alarms with a low threshold.
  const v1 = await captureFieldBatches({ turbines: 2, frames: 3000, seed: 3, description: { stats, version: '1.0.0' }, scale: 0.9 });
  const v2 = await captureFieldBatches({ turbines: 2, frames: 3000, seed: 3, description: { stats, version: '1.1.0', thresholds: { rule: 'budget', values: [0.01, 1, 1, 1, 1, 1], errorSteps: 100, debounceWindows: 3 } }, scale: 0.5 });
  const now = Date.parse('2021-03-01T12:10:00Z');
  const report = buildMonitoringReport([...v1.batches, ...v2.batches], [heartbeat({ time: new Date(now - 5000).toISOString() })], { featureNames: NAMES, bucketSeconds: 30, now });
  assert.deepEqual(report.reports.map((r) => `${r.version}/${r.thingName}`), ['1.0.0/turbine-0', '1.0.0/turbine-1', '1.0.0/*', '1.1.0/turbine-0', '1.1.0/turbine-1', '1.1.0/*']);
  const all1 = report.reports[2];
  const all2 = report.reports[5];
  assert.equal(all1.windows, report.reports[0].windows + report.reports[1].windows);
  assert.equal(all1.alarmRate, 0, 'thresholds of 1 are far above a tenth of the input');
  assert.ok(all2.alarmRate > 0.9, `roll's threshold of 0.01 alarms nearly always (${all2.alarmRate})`);
  // output = 0.5 x input errs five times as much as 0.9 x input on the same windows.
  const ratio = all2.errors[0].spread.p50 / all1.errors[0].spread.p50;
  assert.ok(Math.abs(ratio - 5) < 0.5, `error ratio ${ratio}`);
  // 3000 frames = 150 s: five 30 s buckets (the first windows need 5 s of history).
  assert.equal(report.reports[0].timeline.length, 5);
  assert.equal(report.reports[0].timeline.reduce((s, b) => s + b.windows, 0), report.reports[0].windows);
  assert.ok(report.reports[0].timeline.every((b) => b.score.p50 <= b.score.p90 && b.score.p90 <= b.score.max));
  assert.equal(report.health['turbine-0'].ok, true);
  assert.equal(report.health['turbine-0'].drift.verdict, 'stable');
});

test('health names what is wrong: an old heartbeat, a disconnected device, dropped frames, drift in its own figures', () => {
  const now = Date.parse('2026-01-01T00:10:00Z');
  const drift = NAMES.map((feature) => ({ feature, mean: feature === 'rps' ? 0.8 : 0, std: 1, steps: 6000, drift: 0 }));
  const h = deviceHealth(heartbeat({ connected: false, frames: { received: 10, accepted: 5, rejected: 0, dropped: 5 }, drift }), { featureNames: NAMES, now });
  assert.equal(h.ok, false);
  assert.deepEqual(h.problems, ['last heartbeat 600 s old (more than 120 s)', 'not connected', '5 frames dropped (the device cannot keep up)']);
  assert.equal(h.drift.verdict, 'drift');
  assert.equal(h.activeVersion, '1.0.0');
});

test('a malformed captured record is named, not averaged in', async () => {
  const { batches } = await captureFieldBatches({ turbines: 1, frames: 1200, seed: 3 });
  const bad = structuredClone(batches[0]);
  bad.records[0].input.float32Base64 = bad.records[0].input.float32Base64.slice(0, 100);
  assert.throws(() => buildMonitoringReport([bad], [], { featureNames: NAMES }), new RegExp(`captured record ${bad.records[0].captureId}: input holds 75 bytes, its shape \\[1,6,10,10\\] needs 2400`));
  const wrongTime = structuredClone(batches[0]);
  wrongTime.records[0].inferenceTime = 'yesterday';
  assert.throws(() => buildMonitoringReport([wrongTime], [], { featureNames: NAMES }), /inferenceTime "yesterday" is not a date/);
});
