import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { initBackend } from '../../detector/backend';
import { buildAutoencoder } from '../../detector/models';
import { briefTraining, farmTestWindows, randomizeWeights, maxAbsDiff, tfjsReconstruct } from '../packaging-testing';
import { exportToOnnx, UnsupportedLayerError } from './export';
import { readOnnxGraph } from '../../edge/onnx-reader';
import { compareOnnxWithTfjs } from './equivalence';
import { createOnnxSession, runOnnx } from './runtime';

const data = farmTestWindows();

async function compare(model: tf.LayersModel): Promise<{ diff: number; ops: string[] }> {
  const exported = exportToOnnx(model);
  const session = await createOnnxSession(exported.bytes);
  assert.deepEqual(session.inputNames, ['input']);
  assert.deepEqual(session.outputNames, ['reconstruction']);
  const onnx = await runOnnx(session, data.windows, data.count);
  const reference = tfjsReconstruct(model, data.windows, data.count);
  // A single window (batch 1) goes through the symbolic batch dimension too.
  const one = await runOnnx(session, data.windows.subarray(0, 600), 1);
  await session.release();
  assert.ok(maxAbsDiff(one, reference.subarray(0, 600)) <= 1e-5);
  return { diff: maxAbsDiff(onnx, reference), ops: exported.ops };
}

test('the device reader reads back what the exporter wrote, through the one shared schema', async () => {
  await initBackend();
  const exported = exportToOnnx(buildAutoencoder('original', 3));
  const graph = readOnnxGraph(exported.bytes);
  assert.deepEqual(graph.inputs, ['input']);
  assert.deepEqual(graph.outputs, ['reconstruction']);
  assert.deepEqual(graph.inputShapes.get('input'), ['N', 6, 10, 10]);
  assert.deepEqual([...new Set(graph.nodes.map((n) => n.opType))].sort(), [...new Set(exported.ops)].sort());
  const conv = graph.nodes.find((n) => n.opType === 'Conv');
  assert.ok(conv && 'ints' in conv.attributes.kernel_shape, 'int-list attributes come back as lists');
  const weights = [...graph.initializers.values()].filter((t) => t.dataType === 1);
  assert.ok(weights.length > 0 && weights.every((t) => t.data.length === t.dims.reduce((a, b) => a * b, 1)));
  assert.deepEqual(graph.nodes.find((n) => n.opType === 'Pad')?.attributes.mode, { s: 'constant' }, 'string attributes come back as text');
  assert.throws(() => readOnnxGraph(exported.bytes.subarray(0, 100)), /truncated or malformed/);
});

for (const kind of ['dense', 'original'] as const) {
  test(`${kind}: ONNX output equals tfjs on real farm windows (initial weights, random weights and biases)`, async (t) => {
    await initBackend('wasm');
    assert.ok(data.count > 100, `only ${data.count} windows`);
    const model = buildAutoencoder(kind, 17);
    const seeded = await compare(model);
    assert.ok(seeded.diff <= 1e-5, `max abs diff ${seeded.diff}`);
    randomizeWeights(model, 23);
    const random = await compare(model);
    assert.ok(random.diff <= 1e-5, `max abs diff with random weights and biases ${random.diff}`);
    t.diagnostic(`${kind}: max abs diff ${seeded.diff} (initial weights), ${random.diff} (random weights and biases)`);
    if (kind === 'original') {
      // The boundary Permutes cost nothing: Conv runs on the NCHW input directly.
      assert.ok(!seeded.ops.includes('Transpose'), seeded.ops.join(','));
      assert.deepEqual(seeded.ops.filter((o) => o === 'Conv' || o === 'ConvTranspose').length, 6);
    }
    model.dispose();
  });
}

test('dense: ONNX output equals tfjs after a brief training', async () => {
  await initBackend('wasm');
  const model = buildAutoencoder('dense', 5);
  briefTraining(model, data.windows, data.count, 2);
  const { diff } = await compare(model);
  assert.ok(diff <= 1e-5, `max abs diff ${diff}`);
  model.dispose();
});

test('a Permute that is not undone before Dense becomes a Transpose, and the result still matches', async () => {
  await initBackend('wasm');
  const input = tf.input({ shape: [6, 10, 10] });
  let x = tf.layers.permute({ dims: [2, 3, 1] }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'tanh', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }), biasInitializer: 'ones' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.flatten().apply(x) as tf.SymbolicTensor;
  x = tf.layers.dense({ units: 600, activation: 'sigmoid', kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }).apply(x) as tf.SymbolicTensor;
  const output = tf.layers.reshape({ targetShape: [6, 10, 10] }).apply(x) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: output });
  const { diff, ops } = await compare(model);
  assert.ok(ops.includes('Transpose'));
  assert.ok(diff <= 1e-5, `max abs diff ${diff}`);
  model.dispose();
});

test('an unsupported layer is refused with its name and class', async () => {
  await initBackend('wasm');
  const input = tf.input({ shape: [6, 10, 10] });
  const x = tf.layers.flatten().apply(input) as tf.SymbolicTensor;
  const bn = tf.layers.batchNormalization({ name: 'my_norm' }).apply(x) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: bn });
  assert.throws(() => exportToOnnx(model), (err: unknown) => err instanceof UnsupportedLayerError && /"my_norm" \(BatchNormalization\)/.test(err.message));
  const softmax = tf.model({ inputs: input, outputs: tf.layers.dense({ units: 3, activation: 'softmax', name: 'probs' }).apply(x) as tf.SymbolicTensor });
  assert.throws(() => exportToOnnx(softmax), /layer "probs" \(Dense\).*activation "softmax"/);
  softmax.dispose(); // shares its layers with model
});

test('runOnnx refuses windows that do not fill the batch', async () => {
  await initBackend('wasm');
  const model = buildAutoencoder('dense', 3);
  const session = await ort.InferenceSession.create(exportToOnnx(model).bytes);
  await assert.rejects(runOnnx(session, new Float32Array(599), 1), /599 values are not 1 windows of 6 x 10 x 10/);
  await session.release();
  model.dispose();
});

test('compareOnnxWithTfjs: equal for the model\'s own export (in chunks), not for another model\'s', async () => {
  await initBackend('wasm');
  const model = buildAutoencoder('dense', 31);
  const other = buildAutoencoder('dense', 32);
  const same = await compareOnnxWithTfjs(model, exportToOnnx(model).bytes, data.windows, data.count, 1e-5, 100);
  assert.equal(same.windows, data.count);
  assert.ok(same.equal && same.maxAbsDiff <= 1e-5, `max abs diff ${same.maxAbsDiff}`);
  const different = await compareOnnxWithTfjs(model, exportToOnnx(other).bytes, data.windows, data.count);
  assert.equal(different.equal, false);
  assert.ok(different.maxAbsDiff > 1e-3);
  await assert.rejects(compareOnnxWithTfjs(model, exportToOnnx(model).bytes, data.windows.subarray(1), data.count), /not \d+ whole windows/);
  model.dispose();
  other.dispose();
});

test('int8 weights: about 4x smaller, close to tfjs, every kernel dequantised per output channel', async (t) => {
  await initBackend('wasm');
  for (const kind of ['dense', 'original'] as const) {
    const model = buildAutoencoder(kind, 41);
    randomizeWeights(model, 41);
    const float = exportToOnnx(model);
    const int8 = exportToOnnx(model, { weights: 'int8' });
    assert.ok(int8.bytes.length < 0.3 * float.bytes.length, `${int8.bytes.length} vs ${float.bytes.length} bytes`);
    assert.equal(int8.ops.filter((o) => o === 'DequantizeLinear').length, kind === 'dense' ? 4 : 6);
    const reference = tfjsReconstruct(model, data.windows, data.count);
    const scale = reference.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    const session = await createOnnxSession(int8.bytes);
    const diff = maxAbsDiff(await runOnnx(session, data.windows, data.count), reference);
    await session.release();
    t.diagnostic(`${kind} int8: ${int8.bytes.length} bytes (float ${float.bytes.length}), max abs diff ${diff} (output max ${scale})`);
    // Per-weight error is at most max|w|/254 per channel: a few percent of the output's range at most.
    assert.ok(diff > 0 && diff < 0.03 * scale, `max abs diff ${diff} against outputs up to ${scale}`);
    model.dispose();
  }
});
