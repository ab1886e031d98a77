import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fitFarmStatistics } from '../features/farm';
import { DEFAULT_PREPROCESSING } from '../features/params';
import { simulateFarm } from '../turbine/farm';
import { sliceFrames } from '../turbine/frames';
import { calibrationChunkCount, calibrationChunkWindows, calibrationFrames, concatScored, type ScoredCalibration, scoredNormalWindows } from './calibration-data';
import type { Thresholds } from './thresholds';

const chunk = (count: number, first: number, group: number): ScoredCalibration => ({
  count,
  groups: new Int32Array(count).fill(group),
  errors: [Float32Array.from({ length: count * 6 }, (_, i) => first + i), Float32Array.from({ length: count * 6 }, (_, i) => -(first + i))],
  variation: new Float32Array(count * 6).fill(first),
  states: Float64Array.from({ length: count * 3 }, (_, i) => first + i / 3),
});

test('farm k of a calibration set is simulated with seed firstSeed + k; a CSV is one chunk', () => {
  const farms = { count: 3, turbines: 2, minutes: 0.2, firstSeed: 50 };
  assert.equal(calibrationChunkCount({ farms }), 3);
  assert.equal(calibrationChunkCount({ path: 'normal.csv' }), 1);
  const second = calibrationFrames({ farms }, 1);
  const same = simulateFarm({ turbines: 2, minutes: 0.2, seed: 51 }).frames;
  assert.equal(second.length, same.length);
  assert.deepEqual(Array.from(second.columns.voltage), Array.from(same.columns.voltage));
});

test('chunks scored apart concatenate in order, and unpack into the windows calibration takes', () => {
  const all = concatScored([chunk(2, 0, 0), chunk(3, 100, 10_000)]);
  assert.equal(all.count, 5);
  assert.deepEqual(Array.from(all.groups), [0, 0, 10_000, 10_000, 10_000]);
  assert.equal(all.errors.length, 2);
  assert.equal(all.errors[0][12], 100);
  assert.equal(all.errors[1][12], -100);
  assert.equal(all.states![6], 100);
  const t = { recent: { values: [], errorSteps: 20, margin: 1 }, flatline: [0, 0, 0, 0, 0, 0], scale: { recentSteps: 20 } } as unknown as Thresholds;
  const w = scoredNormalWindows(all, t);
  assert.equal(w.errors, all.errors[0]);
  assert.equal(w.recentErrors, all.errors[1]);
  assert.deepEqual(w.states![2], { level: 100, recentLevel: 100 + 1 / 3, change: 100 + 2 / 3 });
  // Rules the thresholds do not use get no inputs.
  const plain = scoredNormalWindows(all, {} as Thresholds);
  assert.equal(plain.recentErrors, null);
  assert.equal(plain.variation, null);
  assert.equal(plain.states, null);
});

test('calibration frames too short for one window are refused with the reason', () => {
  const { frames } = simulateFarm({ turbines: 1, minutes: 1, seed: 3 });
  const stats = fitFarmStatistics(frames);
  assert.throws(() => calibrationChunkWindows(sliceFrames(frames, 0, 50), stats, DEFAULT_PREPROCESSING), /calibration data: no complete window \(100 frames\) in 50 frames/);
  assert.ok(calibrationChunkWindows(frames, stats, DEFAULT_PREPROCESSING).count > 0);
});
