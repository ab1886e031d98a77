import assert from 'node:assert/strict';
import { test } from 'node:test';
import { expectedError, fitErrorScale, normaliseErrors, operatingState, operatingStates, validateErrorScale } from './conditioning';
import { mulberry32 } from '../turbine/random';
import { CHANNELS, WINDOW_SIZE } from './windows';

/** Windows whose rps channel ramps linearly from `from` to `to` over the 100 steps (other channels 0). */
function rampWindows(ramps: Array<[number, number]>): { windows: Float32Array; count: number } {
  const windows = new Float32Array(ramps.length * WINDOW_SIZE);
  ramps.forEach(([from, to], i) => {
    for (let k = 0; k < 100; k++) windows[i * WINDOW_SIZE + 4 * 100 + k] = from + ((to - from) * k) / 99;
  });
  return { windows, count: ramps.length };
}

test('operating state: mean rps over the window and its newest steps, and how much it changed', () => {
  const set = rampWindows([[1, 1], [2, 0]]);
  const [steady, braking] = operatingStates(set, 20);
  assert.deepEqual(steady, { level: 1, recentLevel: 1, change: 0 });
  assert.ok(Math.abs(braking.level - 1) < 1e-6);
  assert.ok(Math.abs(braking.recentLevel - (2 - (2 * 89.5) / 99)) < 1e-6); // mean of steps 80..99
  assert.ok(Math.abs(braking.change - Math.abs(braking.level - braking.recentLevel)) < 1e-12);
  assert.deepEqual(operatingState(set.windows, WINDOW_SIZE, 20), braking);
  assert.throws(() => operatingStates(set, 0), /recentSteps must be an integer from 1 to 100/);
});

test('fitErrorScale recovers a known log-linear error model; normalised errors are flat across states', () => {
  const random = mulberry32(3);
  const count = 2000;
  const states = Array.from({ length: count }, () => {
    const level = 4 * random() - 2;
    const change = random();
    return { level, recentLevel: level, change };
  });
  const truth = (s: { level: number; change: number }) => Math.exp(-1 + 0.3 * s.level + 0.8 * s.change);
  const full = new Float32Array(count * CHANNELS);
  const recent = new Float32Array(count * CHANNELS);
  states.forEach((s, i) => {
    for (let f = 0; f < CHANNELS; f++) {
      full[i * CHANNELS + f] = truth(s) * Math.exp(0.05 * (random() - 0.5));
      recent[i * CHANNELS + f] = 2 * full[i * CHANNELS + f];
    }
  });
  const scale = fitErrorScale(full, recent, states, 20, [0, 4]);
  const c = scale.full[0]!;
  assert.ok(Math.abs(c[0] + 1) < 0.01 && Math.abs(c[1] - 0.3) < 0.01 && Math.abs(c[3] - 0.8) < 0.02, `coefficients ${c}`);
  assert.equal(scale.full[1], null);
  assert.ok(Math.abs(expectedError(scale, 'recent', 4, states[7]) / expectedError(scale, 'full', 4, states[7]) - 2) < 0.01);
  const normalised = normaliseErrors(full, states, scale, 'full');
  for (let i = 0; i < count; i++) assert.ok(Math.abs(normalised[i * CHANNELS] - 1) < 0.05);
  assert.equal(normalised[7 * CHANNELS + 1], full[7 * CHANNELS + 1]); // not conditioned: unchanged
  assert.ok(scale.levelRange[0] >= -2 && scale.levelRange[1] <= 2 && scale.changeMax <= 1);
  validateErrorScale(JSON.parse(JSON.stringify(scale)), CHANNELS, 'round trip');
});

test('fitErrorScale refuses too few windows, non-finite or negative errors and bad feature indexes; validateErrorScale names the problem', () => {
  const states = Array.from({ length: 60 }, (_, i) => ({ level: i / 60, recentLevel: i / 60, change: 0 }));
  const ok = new Float32Array(60 * CHANNELS).fill(1);
  assert.throws(() => fitErrorScale(ok.subarray(0, 6 * 10), ok.subarray(0, 60), states.slice(0, 10), 20), /need at least 50 normal windows, got 10/);
  const bad = ok.slice();
  bad[13] = Number.NaN;
  assert.throws(() => fitErrorScale(bad, ok, states, 20), /whole-window error of window 2, feature 1 is NaN/);
  bad[13] = -1;
  assert.throws(() => fitErrorScale(ok, bad, states, 20), /newest-steps error of window 2, feature 1 is -1/);
  assert.throws(() => fitErrorScale(ok, ok, states, 20, [6]), /feature index 6/);
  const scale = fitErrorScale(ok, ok, states, 20);
  assert.throws(() => validateErrorScale({ ...scale, full: scale.full.slice(1) }, CHANNELS, 'model'), /model: scale.full must hold 6 entries/);
  assert.throws(() => validateErrorScale({ ...scale, recent: [[1, 2], null, null, null, null, null] }, CHANNELS, 'model'), /scale.recent\[0\] must be null or 5 finite numbers/);
  assert.throws(() => validateErrorScale({ ...scale, levelRange: [2, 1] }, CHANNELS, 'model'), /levelRange/);
});
