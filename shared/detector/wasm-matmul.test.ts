import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { loadTransposedMatMul, registerWasmTransposedMatMul } from './wasm-matmul';
import { seededUniform } from './random';

/** Shapes (m, k, n): the dense model's layers (600-96-24, batch 256) and awkward ones (k not a multiple of 48, n not of 16). */
const SHAPES: [number, number, number][] = [
  [600, 256, 96],
  [96, 256, 24],
  [256, 96, 600],
  [256, 24, 96],
  [13, 77, 5],
  [1, 49, 17],
  [7, 1, 33],
];

function values(n: number, u: () => number): Float32Array {
  // Mixed magnitudes and signed zeros: the cases where a different summation order shows in the last bit.
  return Float32Array.from({ length: n }, (_, i) => (i % 97 === 0 ? -0 : (u() - 0.5) * 10 ** Math.floor(u() * 6 - 3)));
}

function bits(x: ArrayLike<number>): Uint32Array {
  return new Uint32Array(Float32Array.from(x).buffer);
}

test('the kernel gives the bytes of tfjs-backend-wasm\'s own transposed BatchMatMul', async () => {
  await tf.setBackend('wasm');
  const original = tf.getKernel('BatchMatMul', 'wasm');
  assert.ok(original);
  const kernel = await loadTransposedMatMul();
  const u = seededUniform(7);
  for (const [m, k, n] of SHAPES) {
    for (const [ta, tb] of [[true, false], [false, true], [true, true]] as const) {
      const a = values(m * k, u);
      const b = values(k * n, u);
      const x = tf.tensor3d(a, ta ? [1, k, m] : [1, m, k]);
      const y = tf.tensor3d(b, tb ? [1, n, k] : [1, k, n]);
      const info = original.kernelFunc({ inputs: { a: x, b: y }, backend: tf.backend(), attrs: { transposeA: ta, transposeB: tb } }) as tf.TensorInfo;
      const expected = tf.engine().makeTensorFromTensorInfo(info).dataSync();
      const out = new Float32Array(m * n);
      kernel.multiply(a, b, m, k, n, ta, tb, out);
      assert.deepEqual(bits(out), bits(expected), `m ${m} k ${k} n ${n} transposeA ${ta} transposeB ${tb}`);
      tf.dispose([x, y]);
    }
  }
});

test('registered, it serves tf.matMul and its gradients; untransposed and batched products are unchanged', async () => {
  await tf.setBackend('wasm');
  const u = seededUniform(11);
  const a = tf.tensor2d(values(64 * 30, u), [64, 30]);
  const w = tf.tensor2d(values(30 * 20, u), [30, 20]);
  const batched = [tf.tensor3d(values(3 * 4 * 5, u), [3, 4, 5]), tf.tensor3d(values(3 * 5 * 2, u), [3, 5, 2])];
  const loss = (wt: tf.Tensor) => tf.matMul(a, wt).square().sum() as tf.Scalar;
  const before = {
    grad: tf.grad(loss)(w).dataSync(),
    plain: tf.matMul(a, w).dataSync(),
    batched: tf.matMul(batched[0], batched[1], false, false).dataSync(),
    batchedT: tf.matMul(batched[0], batched[0], false, true).dataSync(),
  };
  await registerWasmTransposedMatMul();
  await registerWasmTransposedMatMul(); // idempotent
  assert.deepEqual(bits(tf.grad(loss)(w).dataSync()), bits(before.grad));
  assert.deepEqual(bits(tf.matMul(a, w).dataSync()), bits(before.plain));
  assert.deepEqual(bits(tf.matMul(batched[0], batched[1]).dataSync()), bits(before.batched));
  assert.deepEqual(bits(tf.matMul(batched[0], batched[0], false, true).dataSync()), bits(before.batchedT));
  assert.throws(() => tf.matMul(a, w, true, false), /inner|shape/i);
});
