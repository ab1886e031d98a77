import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ErrorScale } from '../detector/conditioning';
import type { Thresholds } from '../detector/thresholds';
import { errorDistributionFigure } from './detector-figures';

const base: Thresholds = { rule: 'budget', values: [1, 2, 3, 4, 5, 6], errorSteps: 100, debounceWindows: 3 };
const original: Thresholds = { rule: 'original', values: [0.5, 0.5, 0.5, 0.5, 0.5, 0.5], errorSteps: 100, debounceWindows: 1 };
const errors = Float32Array.from({ length: 4 * 6 }, (_, i) => i / 10);
const positive = [0, 0, 1, 1];

test('error distributions: the default and original thresholds are lines when the thresholds are not conditioned', () => {
  const fig = errorDistributionFigure(errors, positive, base, original);
  const shapes = fig.layout.shapes as Array<{ type: string; x0: number }>;
  assert.equal(shapes.filter((s) => s.type === 'line').length, 12);
  assert.deepEqual(shapes.filter((s) => s.type === 'line').slice(0, 2).map((s) => s.x0), [0.5, 1]);
  assert.equal(fig.data.length, 12); // normal and fault histograms per feature
});

test('error distributions: a conditioned feature\'s threshold is a band over the windows\' states; states are required', () => {
  // Feature 0 expected error exp(level): at levels 0..3 the threshold is 1 x e^0 .. e^3.
  const scale: ErrorScale = { full: [[0, 1, 0, 0, 0], null, null, null, null, null], recent: [null, null, null, null, null, null], recentSteps: 20, levelRange: [0, 3], changeMax: 0 };
  const states = [0, 1, 2, 3].map((level) => ({ level, recentLevel: level, change: 0 }));
  const fig = errorDistributionFigure(errors, positive, { ...base, scale }, original, undefined, states);
  const shapes = fig.layout.shapes as Array<{ type: string; x0: number; x1: number; xref: string }>;
  const band = shapes.filter((s) => s.type === 'rect');
  assert.equal(band.length, 1);
  assert.equal(band[0].xref, 'x');
  assert.ok(Math.abs(band[0].x0 - 1) < 1e-12 && Math.abs(band[0].x1 - Math.exp(2)) < 1e-9); // 5th and 95th percentile of 4 values
  assert.equal(shapes.filter((s) => s.type === 'line').length, 11); // feature 0 keeps only the original rule's line
  assert.throws(() => errorDistributionFigure(errors, positive, { ...base, scale }, original), /need one operating state per window/);
});
