import assert from 'node:assert/strict';
import { test } from 'node:test';
import { alarmLevels, episodePeaks, featureAlarmLevels, scaleThresholds } from './alarm-levels';
import { seededUniform } from './random';
import { debouncedAlarms, fastScores, type Thresholds, windowScores } from './thresholds';

/** Random windows on three turbines with error bursts, flat features and a few huge errors. */
function scenario() {
  const rand = seededUniform(3);
  const count = 900;
  const errors = new Float32Array(count * 6);
  const recentErrors = new Float32Array(count * 6);
  const variation = new Float32Array(count * 6);
  const groups = Int32Array.from({ length: count }, (_, i) => Math.floor(i / 300));
  for (let i = 0; i < count; i++) {
    const burst = i % 50 < 4 ? 1 + 2 * rand() : 0.3 + 0.9 * rand();
    for (let f = 0; f < 6; f++) {
      errors[i * 6 + f] = burst * (0.5 + rand());
      recentErrors[i * 6 + f] = burst * (0.5 + rand());
      variation[i * 6 + f] = i % 97 === 5 && f < 2 ? 0.001 : i % 131 === 7 && f === 0 ? 0.001 : 0.2 + rand();
    }
    if (i % 173 === 11) errors[i * 6 + 3] = 9;
  }
  const thresholds: Thresholds = {
    rule: 'budget',
    values: [1, 1, 1, 1, 1, 1],
    errorSteps: 100,
    debounceWindows: 3,
    recent: { values: [1.2, 1.2, 1.2, 1.2, 1.2, 1.2], errorSteps: 20, margin: 1.5 },
    flatline: [0.01, 0.01, 0.01, 0, 0.01, 0.01],
    variationSteps: 20,
    fast: 4,
  };
  return { windows: { errors, recentErrors, variation, states: null, groups }, thresholds };
}

test('the detector with its error thresholds times k alarms exactly on the windows whose level is over k', () => {
  const { windows, thresholds } = scenario();
  const levels = alarmLevels(windows, thresholds);
  let alarmsSeen = 0;
  for (const k of [0.5, 0.9, 1, 1.3, 2, 3.5, 10]) {
    const t = scaleThresholds(thresholds, k);
    const scores = windowScores(windows.errors, t, windows.variation, windows.recentErrors);
    const fast = fastScores(windows.errors, t, windows.variation, windows.recentErrors);
    const expected = debouncedAlarms(scores, t.debounceWindows, windows.groups, t.fast, fast);
    assert.deepEqual(Array.from(levels, (l) => (l > k ? 1 : 0)), Array.from(expected), `k = ${k}`);
    alarmsSeen += expected.reduce((a, b) => a + b, 0);
  }
  assert.ok(alarmsSeen > 0 && levels.some((l) => l === Infinity), 'the scenario exercises every rule');
});

test('featureAlarmLevels gives, for every feature, alarmLevels of that feature\'s whole-window threshold alone, conditioned or not', () => {
  const { windows, thresholds } = scenario();
  const rand = seededUniform(9);
  const states = Array.from({ length: windows.groups.length }, () => {
    const level = 4 * rand() - 2;
    const recentLevel = level + rand() - 0.5;
    return { level, recentLevel, change: Math.abs(level - recentLevel) };
  });
  const scale = { full: [[0.1, 0.2, 0.05, 0.3, 0.1], null, [0, -0.1, 0.02, 0.2, 0], null, [0.2, 0.3, 0, 0.5, 0.1], [0, 0, 0, 0, 0]], recent: [null, null, null, null, null, null], recentSteps: 20, levelRange: [-1.5, 1.5] as [number, number], changeMax: 0.4 };
  for (const t of [thresholds, { ...thresholds, scale }]) {
    const scored = { ...windows, states };
    const each = featureAlarmLevels(scored, t);
    assert.equal(each.length, 6);
    each.forEach((levels, f) => {
      const single: Thresholds = { ...t, values: t.values.map((v, g) => (g === f ? v : Infinity)), flatline: undefined, recent: undefined };
      assert.deepEqual(Array.from(levels), Array.from(alarmLevels({ ...scored, variation: null }, single)), `feature ${f}${t.scale ? ', conditioned' : ''}`);
    });
  }
  assert.throws(() => featureAlarmLevels({ ...windows, states: null }, { ...thresholds, scale }), /conditioned on the operating state/);
});

test('episode peaks: one per run over the level, runs end at a group boundary', () => {
  assert.deepEqual(episodePeaks([0, 2, 3, 0, 1.5, 0.2, 5, 6], [0, 0, 0, 0, 0, 0, 0, 1], 1), [3, 1.5, 5, 6]);
  assert.deepEqual(episodePeaks([0.5, 0.7], [0, 0], 1), []);
  assert.throws(() => episodePeaks([1, 2], [0]), /1 groups for 2 levels/);
});

test('bad inputs are refused', () => {
  const { windows, thresholds } = scenario();
  assert.throws(() => alarmLevels({ ...windows, groups: [0, 1] }, thresholds), /2 groups for 900 windows/);
  assert.throws(() => scaleThresholds(thresholds, 0), /positive number/);
  assert.throws(() => scaleThresholds(thresholds, Number.NaN), /positive number/);
  assert.throws(() => scaleThresholds(thresholds, [1, 2]), /2 for 6 features/);
  const perFeature = scaleThresholds(thresholds, [1, 2, 1, 1, 1, 3]);
  assert.deepEqual(perFeature.values, [1, 2, 1, 1, 1, 3]);
  assert.deepEqual(perFeature.recent!.values, [1.2, 2.4, 1.2, 1.2, 1.2, 3.5999999999999996]);
  assert.equal(perFeature.fast, thresholds.fast);
  // The onset rule's thresholds take their own multipliers when given.
  const apart = scaleThresholds(thresholds, [1, 2, 1, 1, 1, 3], 1.5);
  assert.deepEqual(apart.values, [1, 2, 1, 1, 1, 3]);
  assert.deepEqual(apart.recent!.values, [1.2, 1.2, 1.2, 1.2, 1.2, 1.2].map((v) => v * 1.5));
  assert.throws(() => scaleThresholds(thresholds, 1, [1, 1]), /2 for 6 features/);
  assert.throws(() => scaleThresholds(thresholds, 1, -1), /positive number/);
});
