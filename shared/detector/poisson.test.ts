import assert from 'node:assert/strict';
import { test } from 'node:test';
import { exposureToSupport, poissonCdf, poissonUpperBound, rateUpperBound } from './poisson';

const close = (actual: number, expected: number, tolerance = 1e-4) => assert.ok(Math.abs(actual - expected) <= tolerance, `${actual} is not ${expected}`);

test('the 95 % upper bound matches the chi-square table (chi2(0.95, 2n + 2) / 2)', () => {
  // Published values of the exact (Garwood) one-sided 95 % upper limit.
  const table: Array<[number, number]> = [[0, 2.9957], [1, 4.7439], [2, 6.2958], [3, 7.7537], [4, 9.1535], [5, 10.5130], [10, 16.9622]];
  for (const [count, bound] of table) close(poissonUpperBound(count), bound);
  close(poissonUpperBound(0, 0.99), 4.6052); // -ln(0.01)
  close(poissonCdf(3, poissonUpperBound(3)), 0.05, 1e-9);
});

test('rates: 0 false alarms in 1.54 turbine-days bound the rate at 1.95 per day; 0.5 per day needs 6 turbine-days', () => {
  close(rateUpperBound(0, 1.54), 2.9957 / 1.54);
  close(exposureToSupport(0.5), 5.9915);
  close(poissonCdf(2, 1), Math.exp(-1) * 2.5, 1e-12);
  assert.equal(poissonCdf(0, 0), 1);
  close(poissonUpperBound(1000), 1000 + 1.645 * Math.sqrt(1000) + 1.4, 1.5); // normal approximation for a large count
});

test('bad inputs are refused with a clear error', () => {
  assert.throws(() => poissonUpperBound(-1), /non-negative integer/);
  assert.throws(() => poissonUpperBound(1.5), /non-negative integer/);
  assert.throws(() => poissonUpperBound(1, 1), /confidence must be between 0 and 1/);
  assert.throws(() => rateUpperBound(0, 0), /exposure must be a positive number/);
  assert.throws(() => exposureToSupport(Number.NaN), /target rate must be a positive number/);
  assert.throws(() => poissonCdf(1, -2), /mean must be a non-negative number/);
});
