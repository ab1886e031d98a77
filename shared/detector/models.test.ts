import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { initBackend, registerWasmConv2dBackpropFilter } from './backend';
import { ARCHITECTURES, buildAutoencoder, INPUT_NAME } from './models';

test('every architecture maps (N, 6, 10, 10) input named "input" to the same shape', async () => {
  await initBackend('wasm');
  for (const kind of ARCHITECTURES) {
    const model = buildAutoencoder(kind, 1);
    assert.deepEqual(model.inputs[0].shape, [null, 6, 10, 10], kind);
    assert.equal(model.inputs[0].name.split('/')[0].replace(/_\d+$/, ''), INPUT_NAME, kind);
    assert.deepEqual(model.outputs[0].shape, [null, 6, 10, 10], kind);
    const y = tf.tidy(() => (model.predict(tf.ones([3, 6, 10, 10])) as tf.Tensor).shape);
    assert.deepEqual(y, [3, 6, 10, 10], kind);
    model.dispose();
  }
});

test('the original architecture has the workshop layers: 10 -> 11 -> 12 -> 15 -> 12 -> 11 -> 10, 6/32/64/128/64/32/6 channels', async () => {
  await initBackend('wasm');
  const model = buildAutoencoder('original', 1);
  const convs = model.layers.filter((l) => /^(conv|deconv)_/.test(l.name));
  assert.deepEqual(
    convs.map((l) => (l.outputShape as number[]).slice(1)),
    [[11, 11, 32], [12, 12, 64], [15, 15, 128], [16, 16, 64], [13, 13, 32], [12, 12, 6]],
  );
  const cropped = model.layers.filter((l) => l.name.startsWith('crop_')).map((l) => (l.outputShape as number[]).slice(1));
  assert.deepEqual(cropped, [[12, 12, 64], [11, 11, 32], [10, 10, 6]]);
  // Transposed convolutions grow by one (k2, valid) and the crops take PyTorch's padding off.
  // Parameter count of the PyTorch model: sum of in*out*2*2 + out.
  const expected = [[6, 32], [32, 64], [64, 128], [128, 64], [64, 32], [32, 6]].reduce((s, [i, o]) => s + i * o * 4 + o, 0);
  assert.equal(model.countParams(), expected);
  model.dispose();
});

test('buildAutoencoder refuses an unknown kind, naming the known ones', () => {
  assert.throws(() => buildAutoencoder('lstm'), /unknown autoencoder architecture "lstm": expected one of dense, original/);
});

test('same seed gives the same initial weights, another seed different ones', async () => {
  await initBackend('wasm');
  const w = (seed: number) => {
    const m = buildAutoencoder('dense', seed);
    const values = m.getWeights().map((t) => Array.from(t.dataSync()));
    m.dispose();
    return values;
  };
  assert.deepEqual(w(5), w(5));
  assert.notDeepEqual(w(5), w(6));
});

test('the wasm Conv2DBackpropFilter kernel equals the cpu backend (conv2d and conv2dTranspose gradients)', async () => {
  registerWasmConv2dBackpropFilter();
  const run = async (backend: 'wasm' | 'cpu') => {
    await initBackend(backend);
    return tf.tidy(() => {
      const x = tf.randomNormal([2, 5, 5, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
      const f = tf.randomNormal([2, 2, 3, 4], 0, 1, 'float32', 2) as tf.Tensor4D;
      const g1 = tf.grad((k: tf.Tensor) => tf.conv2d(x, k as tf.Tensor4D, 1, 'valid').square().sum())(f);
      const xt = tf.randomNormal([2, 4, 4, 4], 0, 1, 'float32', 3) as tf.Tensor4D;
      const g2 = tf.grad((k: tf.Tensor) => tf.conv2dTranspose(xt, k as tf.Tensor4D, [2, 5, 5, 3], 1, 'valid').square().sum())(f);
      return [Array.from(g1.dataSync()), Array.from(g2.dataSync())];
    });
  };
  const wasm = await run('wasm');
  const cpu = await run('cpu');
  for (let k = 0; k < 2; k++) {
    assert.equal(wasm[k].length, cpu[k].length);
    wasm[k].forEach((v, i) => assert.ok(Math.abs(v - cpu[k][i]) <= 1e-3 * (1 + Math.abs(cpu[k][i])), `gradient ${k}[${i}]: wasm ${v} vs cpu ${cpu[k][i]}`));
  }
  await initBackend('wasm');
  // Strides and paddings our layers never use are refused, not computed differently.
  assert.throws(
    () => tf.tidy(() => tf.grad((k: tf.Tensor) => tf.conv2d(tf.ones([1, 4, 4, 1]) as tf.Tensor4D, k as tf.Tensor4D, 2, 'same').sum())(tf.ones([2, 2, 1, 1]))),
    /supports stride 1 with 'valid' padding only/,
  );
});

test('errors over several spans from one prediction equal one prediction per span', async () => {
  const { reconstructionErrors, reconstructionErrorsOver } = await import('./scoring');
  await initBackend('wasm');
  const model = buildAutoencoder('dense', 3);
  const windows = Float32Array.from({ length: 5 * 600 }, (_, i) => Math.sin(i * 0.37));
  const set = { windows, count: 5 };
  const [whole, recent] = reconstructionErrorsOver(model, set, [100, 20], 2);
  assert.deepEqual(whole, reconstructionErrors(model, set, 100));
  assert.deepEqual(recent, reconstructionErrors(model, set, 20));
  assert.notDeepEqual(whole, recent);
  assert.throws(() => reconstructionErrorsOver(model, set, [100, 0]), /lastSteps must be an integer from 1 to 100, got 0/);
  model.dispose();
});
