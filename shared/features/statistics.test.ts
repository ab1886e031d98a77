import assert from 'node:assert/strict';
import { test } from 'node:test';
import { batchWindows, preprocessSeries } from './batch';
import { FEATURE_NAMES } from './euler';
import { ORIGINAL_PREPROCESSING, preprocessingParams } from './params';
import { fitFeatureStatistics, statisticsFromJson, statisticsToJson } from './statistics';
import { syntheticFrames, withValues } from './synthetic-frames-testing';

const frames = syntheticFrames(3000, 21);

test('block statistics: raw std, fitted noise sigma, and mean/std of the block-denoised features', () => {
  const stats = fitFeatureStatistics(frames);
  assert.deepEqual(stats.featureNames, [...FEATURE_NAMES]);
  assert.equal(stats.frameCount, 2976, 'whole blocks of 32');
  // The synthetic roll and pitch carry white noise of std 0.01: the fitted sigma finds it (within 15 %).
  for (const f of [0, 1]) assert.ok(Math.abs(stats.noiseSigma![f] / 0.01 - 1) < 0.15, `noise sigma ${stats.noiseSigma![f]}`);
  // Denoising removes noise, so the denoised roll varies less than the raw one.
  assert.ok(stats.std[0] < stats.rawStd[0]);
  assert.ok(Math.abs(stats.mean[4] - 1.6) < 0.2, `rps mean ${stats.mean[4]}`);
  // Windows normalised with these statistics are centred and scaled.
  const { windows } = batchWindows(frames, stats);
  let sum = 0;
  let squares = 0;
  for (let i = 0; i < windows.length; i++) (sum += windows[i]), (squares += windows[i] ** 2);
  const mean = sum / windows.length;
  assert.ok(Math.abs(mean) < 0.1 && Math.abs(Math.sqrt(squares / windows.length - mean ** 2) - 1) < 0.1);
});

test('several series (turbines) are fitted together, each in its own blocks', () => {
  const other = syntheticFrames(1000, 22);
  const both = fitFeatureStatistics([frames, other]);
  assert.equal(both.frameCount, 2976 + 992);
  assert.notDeepEqual(both.mean, fitFeatureStatistics(frames).mean);
});

test('too few frames: a clear error naming the counts', () => {
  assert.throws(() => fitFeatureStatistics(syntheticFrames(90, 1)), /too few frames to fit feature statistics: 64 usable frames in whole 32-frame blocks \(of 90 given\), need at least one window of 100/);
  assert.throws(() => fitFeatureStatistics(syntheticFrames(100, 1), ORIGINAL_PREPROCESSING), /100 given, the original scheme needs more than 100/);
  const mostlyBad = withValues(syntheticFrames(200, 1), Array.from({ length: 150 }, (_, row) => ({ row, column: 'qx' as const, value: NaN })));
  assert.throws(() => fitFeatureStatistics(mostlyBad), /32 usable frames .* \(of 200 given\)/);
  assert.throws(() => fitFeatureStatistics([]), /no frames given/);
});

test('a constant feature cannot be normalised: the error names it', () => {
  const constant = syntheticFrames(500, 2);
  constant.columns.voltage.fill(48);
  assert.throws(() => fitFeatureStatistics(constant), /feature "voltage" has zero standard deviation over 480 frames/);
  assert.throws(() => fitFeatureStatistics(constant, ORIGINAL_PREPROCESSING), /feature "voltage" has zero standard deviation over 500 frames/);
});

test('missing feature columns are named', () => {
  const broken = syntheticFrames(500, 2);
  delete (broken.columns as Partial<typeof broken.columns>).rps;
  assert.throws(() => fitFeatureStatistics(broken), /frames lack column "rps"/);
});

test('statistics.json keeps the original key names and round-trips with its parameters', () => {
  const params = preprocessingParams({ blockLength: 40, thresholdMultiplier: 1.5 });
  const stats = fitFeatureStatistics(frames, params);
  const json = JSON.parse(JSON.stringify(statisticsToJson(stats, params)));
  assert.deepEqual(Object.keys(json).slice(0, 4), ['features', 'raw_std', 'mean', 'std']);
  const back = statisticsFromJson(json);
  assert.deepEqual(back.stats, stats);
  assert.deepEqual(back.params, params);
  assert.throws(() => statisticsFromJson({ ...json, std: [1, 2] }), /"std" must be 6 finite numbers/);
  assert.throws(() => statisticsFromJson({ ...json, noise_sigma: undefined }), /block scheme needs a fitted noise sigma/);
  assert.throws(() => statisticsFromJson({ ...json, preprocessing: { ...params, stride: 0 } }), /stride must be a positive integer, got 0/);
  assert.throws(() => statisticsFromJson({ ...json, preprocessing: { scheme: 'fancy' } }), /known scheme/);
  assert.throws(() => statisticsFromJson(null), /must be an object/);
});

test('preprocessing parameters are validated with the bad value named', () => {
  assert.throws(() => preprocessingParams({ windowLength: 99 }), /windowLength must be a square number of steps \(e.g. 100\), got 99/);
  assert.throws(() => preprocessingParams({ blockLength: 8 }), /blockLength must be an integer >= 12/);
  assert.throws(() => preprocessingParams({ thresholdMultiplier: -1 }), /thresholdMultiplier must be a finite number >= 0, got -1/);
  assert.throws(() => preprocessingParams({ scheme: 'x' as 'block' }), /scheme must be one of block, original, got "x"/);
});

test('preprocessSeries shows exactly the values the windows hold (block scheme, with a skipped frame)', () => {
  const stats = fitFeatureStatistics(frames);
  const withBad = withValues(frames, [{ row: 40, column: 'qy', value: NaN }]);
  const series = preprocessSeries(withBad, stats);
  const batch = batchWindows(withBad, stats);
  assert.equal(series.length, 2976);
  assert.equal(series.frameIndex[40], 41, 'step 40 is frame 41: frame 40 was skipped');
  for (const w of [0, 3, batch.count - 1]) {
    for (let f = 0; f < FEATURE_NAMES.length; f++) {
      for (let t = 0; t < 100; t++) {
        assert.equal(batch.windows[w * 600 + f * 100 + t], Math.fround(series.normalised[f][w * 10 + t]));
      }
    }
  }
  assert.ok(series.denoised[0].some((v, i) => v !== series.raw[0][i]), 'denoising changed roll');
});
