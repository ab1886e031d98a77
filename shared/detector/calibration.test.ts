import assert from 'node:assert/strict';
import { test } from 'node:test';
import { calibrateFalseAlarmRate, calibrateOnWindows, calibrationPeaks, THRESHOLD_PEAKS, windowTurbineDays } from './calibration';
import { seededUniform } from './random';
import { tailQuantile } from './tail-fit';
import type { Thresholds } from './thresholds';

/**
 * Normal levels of 20 series: a quiet baseline, and every 10th window an isolated excursion whose peak is
 * 0.5 plus a known generalised Pareto excess, so the true rate of excursions over any level is known.
 */
function excursions(count: number, tail: { scale: number; shape: number }) {
  const u = seededUniform(11);
  const levels = new Float64Array(count * 10);
  const groups = new Int32Array(count * 10);
  for (let i = 0; i < levels.length; i++) {
    levels[i] = 0.1 + 0.1 * u();
    groups[i] = Math.floor((i * 20) / levels.length);
  }
  for (let e = 0; e < count; e++) levels[e * 10 + 5] = 0.5 + tailQuantile(tail, 1 - u());
  return { levels, groups };
}

test('the multiplier meets the target rate of a known tail', () => {
  const tail = { scale: 0.1, shape: 0.2 };
  const { levels, groups } = excursions(4000, tail);
  const days = 20; // 200 excursions over 0.5 per turbine-day
  const c = calibrateFalseAlarmRate(levels, groups, days, { targetPerTurbineDay: 0.5, peaks: 400 });
  const truth = 0.5 + tailQuantile(tail, 0.5 / 200);
  assert.ok(Math.abs(c.multiplier - truth) < 0.08 * (truth - 0.5), `multiplier ${c.multiplier}, true ${truth}`);
  assert.equal(c.peaks, 400);
  assert.ok(Math.abs(c.peaksPerTurbineDay - 20) < 1e-9);
  // A rarer target needs a higher multiplier; a target above the excursion rate keeps the fitting level.
  assert.ok(calibrateFalseAlarmRate(levels, groups, days, { targetPerTurbineDay: 0.05, peaks: 400 }).multiplier > c.multiplier);
  const loose = calibrateFalseAlarmRate(levels, groups, days, { targetPerTurbineDay: 100, peaks: 400 });
  assert.equal(loose.multiplier, loose.level);
  assert.equal(calibrateFalseAlarmRate(levels, groups, days, { targetPerTurbineDay: 100, peaks: 400, minMultiplier: 1 }).multiplier, 1);
});

test('a short-tailed fit is floored at an exponential tail (minShape), which extrapolates higher', () => {
  const { levels, groups } = excursions(2000, { scale: 0.2, shape: -0.3 });
  const floored = calibrateFalseAlarmRate(levels, groups, 10, { peaks: 200 });
  const free = calibrateFalseAlarmRate(levels, groups, 10, { peaks: 200, minShape: -1 });
  assert.equal(floored.tail.shape, 0);
  assert.ok(free.tail.shape < -0.1 && floored.multiplier > free.multiplier);
});

test('normal time of windows; bad targets and too little data are refused', () => {
  assert.equal(windowTurbineDays(172_800, 10), 1); // windows every 0.5 s for a day
  const { levels, groups } = excursions(100, { scale: 0.1, shape: 0 });
  assert.throws(() => calibrateFalseAlarmRate(levels, groups, 1, { targetPerTurbineDay: 0 }), /positive number per turbine-day/);
  assert.throws(() => calibrateFalseAlarmRate(levels, groups, 0), /normal time must be positive/);
  assert.throws(() => calibrateFalseAlarmRate(levels, groups, 1, { peaks: 2000 }), /at most \d+ excursions, fewer than the 2000/);
});

test('an upper confidence bound (parametric bootstrap) lies above the point estimate, more so with fewer peaks, and repeats exactly', () => {
  const tail = { scale: 0.1, shape: 0.2 };
  const { levels, groups } = excursions(4000, tail);
  const truth = 0.5 + tailQuantile(tail, 0.5 / 200);
  const bound = (peaks: number) => calibrateFalseAlarmRate(levels, groups, 20, { targetPerTurbineDay: 0.5, peaks, confidence: 0.9 });
  const wide = bound(40);
  const narrow = bound(400);
  for (const c of [wide, narrow]) assert.ok(c.multiplier > c.pointMultiplier && c.confidence === 0.9, JSON.stringify(c));
  // The bound covers the true level, and tightens (relative to the point estimate) as the peaks grow.
  assert.ok(wide.multiplier > truth && narrow.multiplier > truth, `${wide.multiplier} ${narrow.multiplier} vs ${truth}`);
  assert.ok(wide.multiplier / wide.pointMultiplier > narrow.multiplier / narrow.pointMultiplier);
  assert.equal(bound(40).multiplier, wide.multiplier);
  assert.throws(() => calibrateFalseAlarmRate(levels, groups, 20, { confidence: 1 }), /confidence must be in \[0, 1\)/);
  assert.throws(() => calibrateFalseAlarmRate(levels, groups, 20, { confidence: 0.9, resamples: 3 }), /resamples must be an integer >= 20/);
});

test('calibrateOnWindows raises the whole-window threshold of the feature whose normal errors make excursions, and leaves the onset thresholds to the common stage', () => {
  // Six features on 40 series; feature 5's whole-window error has a heavy tail, the rest and every onset error stay low.
  const u = seededUniform(5);
  const count = 40 * 2000;
  const errors = new Float32Array(count * 6);
  const recentErrors = new Float32Array(count * 6);
  let burst = 0;
  for (let i = 0; i < count; i++) {
    for (let f = 0; f < 6; f++) {
      errors[i * 6 + f] = 0.5 * u();
      recentErrors[i * 6 + f] = 0.5 * u();
    }
    // Every 50th window starts a burst of 4 windows at one level drawn from the tail.
    if (i % 50 === 0) burst = 0.7 + tailQuantile({ scale: 0.3, shape: 0.1 }, 1 - u());
    if (i % 50 < 4) errors[i * 6 + 5] = burst;
  }
  const groups = Int32Array.from({ length: count }, (_, i) => Math.floor(i / 2000));
  const thresholds: Thresholds = { rule: 'budget', values: [1, 1, 1, 1, 1, 1], errorSteps: 100, debounceWindows: 3, recent: { values: [1, 1, 1, 1, 1, 1], errorSteps: 20, margin: 1.5 } };
  const { thresholds: t, calibration: c } = calibrateOnWindows({ errors, recentErrors, variation: null, states: null, groups }, thresholds, 1, { targetPerTurbineDay: 0.5 });
  assert.ok(c.multipliers[5] > 1.5, `feature 5 raised: ${c.multipliers}`);
  assert.ok(c.multipliers.slice(0, 5).every((m) => m === c.detector.multiplier), `the others only by the common stage: ${c.multipliers}`);
  assert.deepEqual(c.onsetMultipliers, [1, 1, 1, 1, 1, 1].map(() => c.detector.multiplier));
  assert.deepEqual(t.values, c.multipliers);
  assert.deepEqual(t.recent!.values, c.onsetMultipliers);
  assert.ok(c.features.every((f) => f.targetPerTurbineDay === 0.5 / 6) && c.detector.targetPerTurbineDay === 0.5);
});

test('the tails are fitted to THRESHOLD_PEAKS peaks from 2.5 normal turbine-days, proportionally fewer below, never under 40', () => {
  assert.equal(calibrationPeaks(2.65), THRESHOLD_PEAKS);
  assert.equal(calibrationPeaks(2.5), THRESHOLD_PEAKS);
  assert.equal(calibrationPeaks(1.25), THRESHOLD_PEAKS / 2);
  assert.equal(calibrationPeaks(0.66), 40);
  assert.equal(calibrationPeaks(0.01), 40);
});
