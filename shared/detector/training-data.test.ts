import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_PREPROCESSING } from '../features/params';
import { simulateFarm } from '../turbine/farm';
import { sliceFrames } from '../turbine/frames';
import { everyNthWithTransients, prepareTrainingData } from './training-data';

const normal = simulateFarm({ turbines: 2, minutes: 3, seed: 1 });

test('NaN runs in training frames are skipped (counted), not trained on', () => {
  const frames = sliceFrames(normal.frames, 0, normal.frames.length);
  for (let i = 1000; i < 1300; i++) frames.columns.rps[i] = Number.NaN;
  const prepared = prepareTrainingData(frames, [], DEFAULT_PREPROCESSING);
  assert.equal(prepared.rejectedFrames, 300);
  assert.ok(prepared.train.count > 0 && prepared.holdout.count > 0);
  assert.ok(prepared.train.windows.every(Number.isFinite));
  const allNaN = sliceFrames(normal.frames, 0, 2000);
  allNaN.columns.qw.fill(Number.NaN);
  assert.throws(() => prepareTrainingData(allNaN, [], DEFAULT_PREPROCESSING), /too few frames/);
});

test('training selection: every n-th window plus every window whose rps spans more than the transient range', () => {
  const count = 9;
  const windows = new Float32Array(count * 600);
  // Window 5: rps (channel 4, values 400..499) ramps down by 3 std (a stop); window 7: 1.5 std (turbulence).
  for (let k = 0; k < 100; k++) {
    windows[5 * 600 + 400 + k] = 1.5 - (3 * k) / 99;
    windows[7 * 600 + 400 + k] = (1.5 * k) / 99;
  }
  windows[2 * 600] = 99; // a large value on another channel is no rotor transient
  const picked = everyNthWithTransients({ windows, count }, 4);
  assert.equal(picked.count, 4); // windows 0, 4, 5 and 8, in order
  assert.deepEqual(Array.from(picked.windows.subarray(2 * 600 + 400, 2 * 600 + 402)), Array.from(windows.subarray(5 * 600 + 400, 5 * 600 + 402)));
  assert.equal(everyNthWithTransients({ windows, count }, 4, 1).count, 5); // a lower range also keeps window 7
  assert.equal(everyNthWithTransients({ windows, count }, 1).count, count);
});
