import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_PREPROCESSING } from '../features/params';
import { fitFeatureStatistics } from '../features/statistics';
import { simulateFarm } from '../turbine/farm';
import type { FaultLabel } from '../turbine/faults';
import { exampleWindows } from './lab-data';
import { evaluateOnFrames, evaluationRows, frameCoverage, perKindRows, positiveWindows, type Scorable } from './report';
import { zScoreErrors } from './scoring';
import { fitBudgetThresholds, originalThresholds } from './thresholds';
import type { WindowSet } from './windows';

const farm = simulateFarm({ turbines: 2, minutes: 6, seed: 4, faults: true });
const stats = fitFeatureStatistics(simulateFarm({ turbines: 1, minutes: 3, seed: 5 }).frames, DEFAULT_PREPROCESSING);

/** A model-free detector: the z-score errors stand in for reconstruction errors. */
function zDetector(): Scorable {
  const flat = (v: number) => ({ ...fitBudgetThresholds(new Float32Array(6).fill(v)), margin: 1 });
  return { scoreWindowsOver: (set: WindowSet, spans: readonly number[]) => spans.map(() => zScoreErrors(set)), stats, params: DEFAULT_PREPROCESSING, thresholds: flat(1.5), originalThresholds: originalThresholds(new Float32Array(6).fill(0.8)), zScoreThresholds: flat(1.5) };
}

test('evaluateOnFrames reports the issue\'s keys, the data covered and one result per window', () => {
  const { report, windows } = evaluateOnFrames(zDetector(), farm.frames, farm.labels);
  for (const key of ['event_precision', 'event_recall', 'event_f1', 'median_delay_s', 'p95_delay_s', 'false_alarms_per_turbine_day', 'auc', 'per_kind', 'baselines']) assert.ok(key in report, key);
  assert.equal(report.data.turbines, 2);
  assert.equal(report.data.labels, farm.labels.length);
  assert.ok(Math.abs(report.data.turbine_hours - 0.2) < 0.001);
  assert.equal(windows.scores.length, report.data.windows);
  assert.equal(windows.errors.length, report.data.windows * 6);
  // The same errors with the same thresholds: the detector and the z-score baseline agree here.
  assert.equal(report.event_f1, report.baselines.zscore.event_f1);
  assert.equal(evaluationRows(report).length, 3);
  assert.equal(perKindRows(report).length, Object.keys(report.per_kind).length);
});

test('positive windows are exactly those inside an event interval of their own turbine', () => {
  const t0 = Date.parse('2021-03-01T12:00:00Z');
  const label: FaultLabel = { turbineId: 1, start: '2021-03-01T12:00:10.000000+00:00', end: '2021-03-01T12:00:20.000000+00:00', kind: 'vib', severity: 'mild' };
  const times = [5, 8.3, 8.5, 15, 26.6, 26.7].map((s) => t0 + s * 1000);
  const pos = positiveWindows({ turbineId: [1, 1, 1, 0, 1, 1], timeMs: times }, [label]);
  assert.deepEqual(Array.from(pos), [0, 0, 1, 0, 1, 0]);
});

test('evaluation data whose labels lie outside it is refused before scoring', () => {
  const late: FaultLabel = { ...farm.labels[0], start: '2030-01-01T00:00:00.000000+00:00', end: '2030-01-01T00:00:10.000000+00:00' };
  assert.throws(() => evaluateOnFrames(zDetector(), farm.frames, [late]), /lies outside the data's time range/);
  assert.equal(frameCoverage(farm.frames).size, 2);
});

test('example windows: a normal one before the fault and a faulty one a window after its start', () => {
  const label = farm.labels[0];
  const { normal, faulty } = exampleWindows(farm.frames, label, stats, DEFAULT_PREPROCESSING);
  assert.equal(normal.length, 600);
  assert.equal(faulty.length, 600);
  assert.notDeepEqual(normal, faulty);
  assert.throws(() => exampleWindows(farm.frames, { ...label, turbineId: 7 }, stats, DEFAULT_PREPROCESSING), /turbine 7 is not in the frames/);
});
