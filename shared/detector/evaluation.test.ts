import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FaultLabel } from '../turbine/faults';
import { type Coverage, evaluateDetections, quantile, rocAuc } from './evaluation';

const T0 = Date.parse('2021-03-01T12:00:00Z');
const at = (s: number) => new Date(T0 + s * 1000).toISOString().replace('Z', '000+00:00');

/** Windows every 0.5 s from 5 s to 600 s on turbines 0 and 1, alarms where alarmAt(turbine, t) holds. */
function scenario(alarmAt: (turbine: number, t: number) => boolean) {
  const turbineId: number[] = [];
  const timeMs: number[] = [];
  const alarms: number[] = [];
  const scores: number[] = [];
  for (const turbine of [0, 1]) {
    for (let t = 5; t <= 600; t += 0.5) {
      turbineId.push(turbine);
      timeMs.push(T0 + t * 1000);
      const a = alarmAt(turbine, t);
      alarms.push(a ? 1 : 0);
      scores.push(a ? 2 : 0.5);
    }
  }
  return { turbineId, timeMs, alarms, scores };
}
const coverage: Coverage = new Map([
  [0, { startMs: T0, endMs: T0 + 600_000 }],
  [1, { startMs: T0, endMs: T0 + 600_000 }],
]);
const labels: FaultLabel[] = [
  { turbineId: 0, start: at(100), end: at(150), kind: 'vib', severity: 'mild' },
  { turbineId: 0, start: at(300), end: at(320), kind: 'rot', severity: 'severe' },
  { turbineId: 1, start: at(200), end: at(260), kind: 'vib', severity: 'severe' },
];

test('events, delays, false alarms and precision follow the documented definitions', () => {
  const s = scenario((turbine, t) =>
    (turbine === 0 && t >= 101.5 && t <= 140) || // detects event 1 after 1.5 s
    (turbine === 0 && t >= 500 && t <= 502) || // a false alarm (normal stretch)
    (turbine === 1 && t >= 264 && t <= 266) || // inside the 6.6 s grace after event 3: late detection, not false
    (turbine === 1 && t >= 400 && t <= 400.5), // another false alarm
  );
  const m = evaluateDetections(s, labels, coverage);
  assert.equal(m.events, 3);
  assert.equal(m.detected, 2);
  assert.equal(m.false_alarms, 2);
  assert.equal(m.alarm_episodes, 4);
  assert.equal(m.event_recall, 2 / 3);
  assert.equal(m.event_precision, 2 / 4);
  assert.ok(Math.abs(m.event_f1 - (2 * 0.5 * (2 / 3)) / (0.5 + 2 / 3)) < 1e-12);
  assert.equal(m.median_delay_s, quantile([1.5, 64], 0.5));
  assert.equal(m.per_kind.vib.mild.detected, 1);
  assert.equal(m.per_kind.vib.severe.median_delay_s, 64);
  assert.equal(m.per_kind.rot.recall, 0);
  // Normal time: 2 x 600 s minus the event intervals (each widened by 1.6 s before and 6.6 s after).
  const normalS = 1200 - (50 + 8.2) - (20 + 8.2) - (60 + 8.2);
  assert.ok(Math.abs(m.normal_turbine_days - normalS / 86400) < 1e-9);
  assert.ok(Math.abs(m.false_alarms_per_turbine_day - 2 / (normalS / 86400)) < 1e-6);
  // 2 false alarms: the 95 % Poisson upper bound of the count is 6.2958 (chi-square table), over the same normal time.
  assert.ok(Math.abs(m.false_alarms_per_turbine_day_upper95! - 6.2958 / (normalS / 86400)) < 1e-3 * m.false_alarms_per_turbine_day_upper95!);
});

test('an alarm just before the start (within the 1.6 s block margin) detects with delay 0', () => {
  const m = evaluateDetections(scenario((turbine, t) => turbine === 1 && t >= 199 && t <= 203), labels, coverage);
  assert.equal(m.detected, 1);
  assert.equal(m.false_alarms, 0);
  assert.equal(m.median_delay_s, 0);
});

test('labels outside the data time range or on unknown turbines are refused, naming the label', () => {
  const s = scenario(() => false);
  assert.throws(() => evaluateDetections(s, [{ ...labels[0], end: at(700) }], coverage), /label 1 \(turbine 0, .*\): lies outside the data's time range/);
  assert.throws(() => evaluateDetections(s, [{ ...labels[0], turbineId: 9 }], coverage), /turbine 9 is not in the data/);
});

test('ROC AUC: perfect, inverted, ties and one class', () => {
  assert.equal(rocAuc([1, 2, 3, 4], [0, 0, 1, 1]), 1);
  assert.equal(rocAuc([4, 3, 2, 1], [0, 0, 1, 1]), 0);
  assert.equal(rocAuc([1, 1, 1, 1], [0, 1, 0, 1]), 0.5);
  assert.equal(rocAuc([1, 2, 3], [0, 1, 0]), 0.5);
  assert.equal(rocAuc([1, 2], [1, 1]), null);
});
