import assert from 'node:assert/strict';
import { test } from 'node:test';
import { seededUniform } from './random';
import { fitParetoTail, tailQuantile, tailSurvival } from './tail-fit';

/** Excesses drawn from a known tail by inverting its survival function. */
function sample(scale: number, shape: number, n: number, seed: number): number[] {
  const u = seededUniform(seed);
  return Array.from({ length: n }, () => tailQuantile({ scale, shape }, 1 - u()));
}

test('probability-weighted moments recover a known tail (heavy, exponential and bounded)', () => {
  for (const [scale, shape] of [[1, 0.2], [0.3, 0], [2, -0.2]]) {
    const fit = fitParetoTail(sample(scale, shape, 20_000, 7));
    assert.ok(Math.abs(fit.shape - shape) < 0.03, `shape ${fit.shape} for ${shape}`);
    assert.ok(Math.abs(fit.scale / scale - 1) < 0.04, `scale ${fit.scale} for ${scale}`);
  }
});

test('quantile and survival are inverse; the exponential limit and the bounded tail end', () => {
  for (const tail of [{ scale: 1, shape: 0.3 }, { scale: 0.5, shape: 0 }, { scale: 1, shape: -0.5 }]) {
    for (const p of [0.5, 0.1, 0.001]) assert.ok(Math.abs(tailSurvival(tail, tailQuantile(tail, p)) - p) < 1e-9);
  }
  assert.ok(Math.abs(tailQuantile({ scale: 2, shape: 0 }, Math.exp(-1)) - 2) < 1e-12);
  assert.equal(tailSurvival({ scale: 1, shape: -0.5 }, 2.5), 0); // beyond scale / -shape
  assert.equal(tailSurvival({ scale: 1, shape: 0.1 }, -1), 1);
});

test('too few, negative or constant excesses are refused', () => {
  assert.throws(() => fitParetoTail([1, 2, 3]), /at least 5 excesses/);
  assert.throws(() => fitParetoTail([1, 2, 3, 4, -1]), /finite and >= 0/);
  assert.throws(() => fitParetoTail([0, 0, 0, 0, 0]), /no spread/);
  assert.throws(() => tailQuantile({ scale: 1, shape: 0 }, 0), /in \(0, 1\]/);
});
