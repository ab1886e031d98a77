import assert from 'node:assert/strict';
import { test } from 'node:test';
import { simulateFarm } from '../turbine/farm';
import { batchWindows } from './batch';
import { farmWindows, fitFarmStatistics, turbineSeries } from './farm';
import { fitFeatureStatistics } from './statistics';

const { frames } = simulateFarm({ turbines: 3, minutes: 2, seed: 9 });

test('a farm is split by turbine, fitted on all turbines, and windowed per turbine in ascending id', () => {
  const series = turbineSeries(frames);
  assert.deepEqual(series.map((s) => s.turbineId), [0, 1, 2]);
  for (const s of series) {
    assert.equal(s.frames.length, 2400);
    assert.ok(s.rows.every((row, k) => frames.columns.turbineId[row] === s.turbineId && (k === 0 || row > s.rows[k - 1])));
  }
  const stats = fitFarmStatistics(frames);
  assert.deepEqual(stats, fitFeatureStatistics(series.map((s) => s.frames)));
  const farm = farmWindows(frames, stats);
  let at = 0;
  for (const s of series) {
    const own = batchWindows(s.frames, stats);
    assert.deepEqual(farm.windows.subarray(at * 600, (at + own.count) * 600), own.windows);
    for (let k = 0; k < own.count; k++) {
      assert.equal(farm.turbineId[at + k], s.turbineId);
      assert.equal(farm.startRow[at + k], s.rows[own.startIndex[k]]);
      assert.equal(farm.endRow[at + k], s.rows[own.endIndex[k]]);
      assert.equal(frames.columns.turbineId[farm.endRow[at + k]], s.turbineId, 'a window never spans two turbines');
    }
    at += own.count;
  }
  assert.equal(farm.count, at);
  assert.equal(farm.windows.length, at * 600);
});
