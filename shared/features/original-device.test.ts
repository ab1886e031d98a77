import assert from 'node:assert/strict';
import { test } from 'node:test';
import { simulateFarm } from '../turbine/farm';
import { sliceFrames } from '../turbine/frames';
import { batchWindows } from './batch';
import { turbineSeries } from './farm';
import { ORIGINAL_DEVICE_BUFFER, originalDeviceWindows } from './original-device';
import { ORIGINAL_PREPROCESSING } from './params';
import { fitFeatureStatistics } from './statistics';

const [turbine] = turbineSeries(simulateFarm({ turbines: 1, minutes: 5, seed: 3 }).frames);
const stats = fitFeatureStatistics(turbine.frames, ORIGINAL_PREPROCESSING);
const device = originalDeviceWindows(turbine.frames, stats);

test('the original device scored one window per 500-frame buffer: steps 390..489 of it', () => {
  assert.equal(device.count, Math.floor(6000 / ORIGINAL_DEVICE_BUFFER));
  for (let b = 0; b < device.count; b++) {
    assert.equal(device.startIndex[b], b * 500 + 390);
    assert.equal(device.endIndex[b], b * 500 + 489);
    // Same as the original batch steps run on that buffer alone: its last window starts at 390.
    const alone = batchWindows(sliceFrames(turbine.frames, b * 500, b * 500 + 500), stats, ORIGINAL_PREPROCESSING);
    assert.equal(alone.startIndex[alone.count - 1], 390);
    assert.deepEqual(device.windows.subarray(b * 600, (b + 1) * 600), alone.windows.subarray((alone.count - 1) * 600));
  }
});

test('training–serving skew of the original: the device\'s window differs from training\'s for the same frames', () => {
  const training = batchWindows(turbine.frames, stats, ORIGINAL_PREPROCESSING);
  let diff = 0;
  for (let b = 0; b < device.count; b++) {
    const w = device.startIndex[b] / 10;
    for (let i = 0; i < 100; i++) diff += Math.abs(device.windows[b * 600 + i] - training.windows[w * 600 + i]);
  }
  const meanRollDiff = diff / (device.count * 100);
  assert.ok(meanRollDiff > 0.05, `roll differs by ${meanRollDiff} standard deviations on average`);
});
