import { test } from 'node:test';
import assert from 'node:assert/strict';
import { correlationMatrix, stackedSeriesFigure, thin, windowFigure, secondsAxis } from './lab01-figures';

test('correlation matrix: +1 for a scaled copy, -1 for a negated one, 0 for a constant', () => {
  const a = [1, 2, 3, 4, 5];
  const m = correlationMatrix([a, a.map((v) => 3 * v + 1), a.map((v) => -v), [7, 7, 7, 7, 7]]);
  assert.ok(Math.abs(m[0][1] - 1) < 1e-12);
  assert.ok(Math.abs(m[0][2] + 1) < 1e-12);
  assert.equal(m[0][3], 0);
  assert.ok(Math.abs(m[2][2] - 1) < 1e-12);
});

test('thin keeps every k-th point and never more than asked', () => {
  const v = Float64Array.from({ length: 10_001 }, (_, i) => i);
  const t = thin(v, 1000);
  assert.ok(t.length <= 1001);
  assert.equal(t[0], 0);
  assert.equal(t[1], 11);
  assert.equal(thin([1, 2, 3], 10).length, 3);
});

test('time axis uses the 50 ms frame period', () => {
  assert.deepEqual(Array.from(secondsAxis(3)), [0, 0.05, 0.1]);
});

test('stacked series refuses mismatched names and series', () => {
  assert.throws(() => stackedSeriesFigure('x', ['a', 'b'], [[1]]), /2 names for 1 series/);
  const fig = stackedSeriesFigure('x', ['a', 'b'], [[1, 2], [3, 4]]);
  assert.equal(fig.data.length, 2);
  assert.equal(fig.data[1].yaxis, 'y2');
});

test('window figure lays out feature-major (6,10,10) values row by row', () => {
  const w = Float32Array.from({ length: 2 * 600 }, (_, i) => i);
  const fig = windowFigure(['a', 'b', 'c', 'd', 'e', 'f'], w, 600);
  const z = fig.data[1].z as number[][];
  assert.equal(z[0][0], 600 + 100);
  assert.equal(z[2][3], 600 + 100 + 23);
});
