/**
 * The 'original' scheme reproduces the workshop's Python preprocessing (numpy + PyWavelets) on the
 * checked-in fixture: every number in expected.json, to 1e-9.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { batchWindows, preprocessSeries } from './batch';
import { eulerFromQuaternion, FEATURE_NAMES } from './euler';
import { ORIGINAL_PREPROCESSING } from './params';
import { fitFeatureStatistics } from './statistics';
import { readFramesCsv } from '../turbine/csv';

const fixtures = join(__dirname, 'fixtures');
const frames = readFramesCsv(join(fixtures, 'input.csv'));
const expected = JSON.parse(readFileSync(join(fixtures, 'expected.json'), 'utf8')) as {
  features: string[];
  euler_first5: number[][];
  raw_std: number[];
  denoised_mean: number[];
  denoised_std: number[];
  denoised: number[][];
  windows_shape: number[];
  windows_first: number[][][];
  windows_last: number[][][];
  windows_sum: number;
  windows_abs_sum: number;
};
const TOLERANCE = 1e-9;

function assertClose(actual: ArrayLike<number>, wanted: ArrayLike<number>, what: string, tolerance = TOLERANCE): void {
  assert.equal(actual.length, wanted.length, `${what}: length`);
  for (let i = 0; i < wanted.length; i++) {
    const diff = Math.abs(actual[i] - wanted[i]);
    assert.ok(diff <= tolerance, `${what}[${i}]: ${actual[i]} vs expected ${wanted[i]} (diff ${diff})`);
  }
}

const stats = fitFeatureStatistics(frames, ORIGINAL_PREPROCESSING);
const series = preprocessSeries(frames, stats, ORIGINAL_PREPROCESSING);
const batch = batchWindows(frames, stats, ORIGINAL_PREPROCESSING);
const L = ORIGINAL_PREPROCESSING.windowLength;

/** Window w as float64 (6, 10, 10) flattened, from the normalised series, the way the original built it. */
function window64(w: number): number[] {
  const out: number[] = [];
  for (let f = 0; f < FEATURE_NAMES.length; f++) {
    for (let t = 0; t < L; t++) {
      const v = series.normalised[f][w * ORIGINAL_PREPROCESSING.stride + t];
      out.push(Number.isNaN(v) ? 0 : v);
    }
  }
  return out;
}

test('feature names and order match the original', () => {
  assert.deepEqual([...FEATURE_NAMES], expected.features);
  assert.deepEqual(stats.featureNames, expected.features);
});

test('euler angles of the first rows match', () => {
  const c = frames.columns;
  expected.euler_first5.forEach((row, i) => assertClose(eulerFromQuaternion(c.qx[i], c.qy[i], c.qz[i], c.qw[i]), row, `euler row ${i}`));
});

test('raw_std (ddof = 1) matches', () => {
  assertClose(stats.rawStd, expected.raw_std, 'raw_std');
});

test('db6 denoised series match PyWavelets wavedec / soft threshold / waverec for every feature and step', () => {
  expected.denoised.forEach((values, f) => assertClose(series.denoised[f], values, `denoised ${FEATURE_NAMES[f]}`));
});

test('normalisation statistics (mean, std with ddof = 1 of the denoised series) match', () => {
  assertClose(stats.mean, expected.denoised_mean, 'mean');
  assertClose(stats.std, expected.denoised_std, 'std');
});

test('window count, shape, first and last window and sums match', () => {
  assert.deepEqual([batch.count, FEATURE_NAMES.length, 10, 10], expected.windows_shape);
  assert.equal(batch.windows.length, batch.count * 600);
  assertClose(window64(0), expected.windows_first.flat(2), 'first window');
  assertClose(window64(batch.count - 1), expected.windows_last.flat(2), 'last window');
  let sum = 0;
  let absSum = 0;
  for (let w = 0; w < batch.count; w++) {
    for (const v of window64(w)) {
      sum += v;
      absSum += Math.abs(v);
    }
  }
  // 66,000 values summed: allow 1e-9 relative to the magnitude of the sum.
  assertClose([sum], [expected.windows_sum], 'windows_sum', TOLERANCE * expected.windows_abs_sum);
  assertClose([absSum], [expected.windows_abs_sum], 'windows_abs_sum', TOLERANCE * expected.windows_abs_sum);
});

test('the float32 windows are exactly the float64 windows rounded, in (N, 6, 10, 10) order', () => {
  for (const w of [0, 1, 57, batch.count - 1]) {
    const wanted = window64(w).map(Math.fround);
    assert.deepEqual(Array.from(batch.windows.subarray(w * 600, (w + 1) * 600)), wanted, `window ${w}`);
    assert.equal(batch.startIndex[w], w * 10);
    assert.equal(batch.endIndex[w], w * 10 + 99);
  }
  // range(0, N - 100, 10): the last window starts at 1090, never at N - 100 = 1100.
  assert.equal(batch.startIndex[batch.count - 1], frames.length - 110);
});
