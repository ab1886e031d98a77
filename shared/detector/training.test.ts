import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from './backend';
import { buildAutoencoder } from './models';
import { trainAutoencoder } from './training';
import { seededUniform } from './random';
import { type WindowSet, WINDOW_SIZE } from './windows';

/** Synthetic windows: each feature a sine of random phase plus a little noise (a learnable structure). */
function synthetic(count: number, seed: number): WindowSet {
  const u = seededUniform(seed);
  const windows = new Float32Array(count * WINDOW_SIZE);
  for (let i = 0; i < count; i++) {
    const phase = u() * 2 * Math.PI;
    for (let f = 0; f < 6; f++) for (let k = 0; k < 100; k++) windows[i * WINDOW_SIZE + f * 100 + k] = Math.sin(phase + k / 8 + f) + 0.05 * (u() - 0.5);
  }
  return { windows, count };
}

test('training lowers the loss and early stopping restores the best epoch', async () => {
  await initBackend('wasm');
  const model = buildAutoencoder('dense', 3);
  const r = trainAutoencoder(model, synthetic(256, 1), synthetic(64, 2), { epochs: 8, batchSize: 32, seed: 3 });
  assert.ok(r.curve.length >= 2);
  assert.ok(r.curve[r.curve.length - 1].loss < r.curve[0].loss, `loss ${r.curve[0].loss} -> ${r.curve[r.curve.length - 1].loss}`);
  assert.equal(r.bestValLoss, Math.min(...r.curve.map((e) => e.valLoss)));
  model.dispose();
});

test('early stopping: with patience 1 and an impossible minDelta training stops after two epochs', async () => {
  await initBackend('wasm');
  const model = buildAutoencoder('dense', 3);
  const r = trainAutoencoder(model, synthetic(64, 1), synthetic(16, 2), { epochs: 10, batchSize: 32, patience: 1, minDelta: 0.99, seed: 3 });
  assert.equal(r.curve.length, 2);
  assert.equal(r.bestEpoch, 1);
  assert.equal(r.stoppedEarly, true);
  model.dispose();
});

test('same seed and data give identical weights and curves; another seed does not', async () => {
  await initBackend('wasm');
  const run = (seed: number) => {
    const model = buildAutoencoder('dense', seed);
    const r = trainAutoencoder(model, synthetic(128, 1), synthetic(32, 2), { epochs: 2, batchSize: 16, seed });
    const weights = model.getWeights().map((t) => Array.from(t.dataSync()));
    model.dispose();
    return { weights, curve: r.curve.map((e) => [e.loss, e.valLoss]) };
  };
  const a = run(7);
  const b = run(7);
  assert.deepEqual(a.weights, b.weights);
  assert.deepEqual(a.curve, b.curve);
  assert.notDeepEqual(run(8).weights, a.weights);
});

test('the original architecture trains on wasm (Conv2DBackpropFilter registered) without leaking tensors', async () => {
  await initBackend('wasm');
  const model = buildAutoencoder('original', 1);
  const before = tf.memory().numTensors;
  const r = trainAutoencoder(model, synthetic(32, 1), synthetic(8, 2), { epochs: 2, batchSize: 16 });
  assert.ok(Number.isFinite(r.curve[1].loss));
  assert.equal(tf.memory().numTensors, before);
  model.dispose();
});

test('bad inputs: empty sets, NaN windows, bad options give clear errors', async () => {
  await initBackend('wasm');
  const model = buildAutoencoder('dense', 1);
  assert.throws(() => trainAutoencoder(model, { windows: new Float32Array(0), count: 0 }, synthetic(4, 1)), /no training windows/);
  assert.throws(() => trainAutoencoder(model, synthetic(4, 1), { windows: new Float32Array(0), count: 0 }), /no validation windows/);
  const nan = synthetic(4, 1);
  nan.windows[WINDOW_SIZE * 2 + 150] = Number.NaN;
  assert.throws(() => trainAutoencoder(model, nan, synthetic(4, 2)), /training windows: window 2, feature 1 holds NaN/);
  assert.throws(() => trainAutoencoder(model, synthetic(4, 1), synthetic(4, 2), { epochs: 0 }), /epochs must be a positive integer/);
  assert.throws(() => trainAutoencoder(model, { windows: new Float32Array(10), count: 1 }, synthetic(4, 2)), /10 values do not make 1 windows/);
  model.dispose();
});
