import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gaussian, seededRandom } from './synthetic-frames-testing';
import { DB6, dwtCoefficientLength, dwtMaxLevel, softThreshold, WaveletDenoiser } from './wavelet';

test('db6 filter bank is PyWavelets\' orthonormal 12-tap bank', () => {
  assert.equal(DB6.length, 12);
  const dot = (a: Float64Array, b: Float64Array, shift = 0) => a.reduce((s, v, i) => s + (i + shift < b.length ? v * b[i + shift] : 0), 0);
  assert.ok(Math.abs(DB6.decLo.reduce((s, v) => s + v, 0) - Math.SQRT2) < 1e-14, 'low-pass sums to sqrt 2');
  assert.ok(Math.abs(DB6.decHi.reduce((s, v) => s + v, 0)) < 1e-14, 'high-pass sums to 0');
  assert.ok(Math.abs(dot(DB6.decLo, DB6.decLo) - 1) < 1e-14, 'unit energy');
  for (const shift of [2, 4, 6, 8, 10]) assert.ok(Math.abs(dot(DB6.decLo, DB6.decLo, shift)) < 1e-14, `orthogonal to its ${shift}-shift`);
  // pywt: dec_lo is rec_lo reversed; first rec_lo tap from wavelets_coeffs.template.h
  assert.equal(DB6.recLo[0], 0.1115407433501094636213239172409234390425395919844216759082360);
  assert.deepEqual(Array.from(DB6.decLo), Array.from(DB6.recLo).reverse());
});

test('coefficient lengths and max level follow PyWavelets', () => {
  assert.equal(dwtCoefficientLength(1200, 12), 605);
  assert.equal(dwtCoefficientLength(32, 12), 21);
  assert.equal(dwtMaxLevel(1200, 12), 6);
  assert.equal(dwtMaxLevel(32, 12), 1);
  assert.equal(dwtMaxLevel(10, 12), 0);
});

test('without thresholding, decomposition and reconstruction give the signal back (even, odd and short lengths)', () => {
  const normal = gaussian(seededRandom(3));
  for (const [n, level] of [[1200, 5], [32, 1], [32, 2], [33, 1], [257, 4], [7, 1], [12, 3], [1, 0]]) {
    const x = Float64Array.from({ length: n }, () => normal());
    const out = new Float64Array(n + 2).fill(99);
    new WaveletDenoiser(n, level).denoise(x, 0, out, 1, 0, 0);
    assert.equal(out[0], 99, 'writes nothing before the offset');
    assert.equal(out[n + 1], 99, 'writes exactly n samples (odd lengths: waverec\'s extra sample dropped)');
    for (let i = 0; i < n; i++) assert.ok(Math.abs(out[i + 1] - x[i]) < 1e-12, `n=${n} level=${level} sample ${i}: ${out[i + 1]} vs ${x[i]}`);
  }
});

test('denoising reads input at an offset and leaves it untouched', () => {
  const x = Float64Array.from({ length: 100 }, (_, i) => Math.sin(i / 3));
  const copy = x.slice();
  const a = new Float64Array(32);
  const b = new Float64Array(32);
  const w = new WaveletDenoiser(32, 1);
  w.denoise(x, 40, a, 0, 0.1, 0);
  w.denoise(x.slice(40, 72), 0, b, 0, 0.1, 0);
  assert.deepEqual(a, b);
  assert.deepEqual(x, copy);
});

test('soft threshold is pywt.threshold(mode="soft"): shrink toward 0, zero inside, NaN stays NaN', () => {
  const x = Float64Array.from([3, -3, 0.5, -0.5, 1, 0, NaN]);
  softThreshold(x, 1);
  assert.deepEqual(Array.from(x.subarray(0, 6)).map((v) => v + 0), [2, -2, 0, 0, 0, 0]);
  assert.ok(Number.isNaN(x[6]));
});

test('refuses what PyWavelets refuses or we do not implement', () => {
  assert.throws(() => new WaveletDenoiser(0, 1), /positive integer/);
  assert.throws(() => new WaveletDenoiser(32, -1), /level/);
  assert.throws(() => new WaveletDenoiser(32, 1, 'haar'), /unsupported wavelet "haar"/);
});

test('the level-1 details-only path equals full denoising to rounding, for even, odd and short blocks', () => {
  const normal = gaussian(seededRandom(8));
  for (const n of [32, 33, 40, 12, 7]) {
    const w = new WaveletDenoiser(n, 1);
    const x = Float64Array.from({ length: n + 3 }, () => normal());
    for (const t of [0, 0.3, 1, 5]) {
      const full = new Float64Array(n + 1).fill(7);
      const fast = new Float64Array(n + 1).fill(7);
      w.denoise(x, 3, full, 0, t, 0);
      w.denoiseLevelOneDetails(x, 3, fast, 0, t);
      assert.equal(fast[n], 7, 'writes exactly n samples');
      for (let i = 0; i < n; i++) assert.ok(Math.abs(full[i] - fast[i]) < 1e-14, `n=${n} t=${t} sample ${i}: ${full[i]} vs ${fast[i]}`);
    }
  }
  assert.throws(() => new WaveletDenoiser(32, 2).denoiseLevelOneDetails(new Float64Array(32), 0, new Float64Array(32), 0, 1), /needs a level-1 denoiser/);
});
