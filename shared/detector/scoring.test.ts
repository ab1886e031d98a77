import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from './backend';
import { buildAutoencoder } from './models';
import { forward, predictValues } from './scoring';

test('forward (the layers run eagerly) gives exactly model.predict\'s values, in one batch', async () => {
  await initBackend('wasm');
  const model = buildAutoencoder('dense', 7);
  const n = 300; // more than predict's batches of 32, and not a multiple of them
  const input = Float32Array.from({ length: n * 600 }, (_, i) => Math.sin(i * 0.37));
  const want = tf.tidy(() => (model.predict(tf.tensor4d(input, [n, 6, 10, 10])) as tf.Tensor).dataSync().slice());
  const got = predictValues(model, input, [n, 6, 10, 10]);
  assert.equal(got.length, want.length);
  let differ = 0;
  for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) differ++;
  assert.equal(differ, 0);
  const before = tf.memory().numTensors;
  tf.tidy(() => {
    forward(model, tf.zeros([2, 6, 10, 10]));
  });
  assert.equal(tf.memory().numTensors, before);
  model.dispose();
});
