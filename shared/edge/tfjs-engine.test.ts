/**
 * The tfjs fallback engine runs exported models with the same results as onnxruntime-node: the tiny test
 * models, and both autoencoders exported by shared/packaging (random weights and biases, int8 variant),
 * on real farm windows (int8 against onnxruntime without graph fusions, which change the arithmetic).
 */
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import assert from 'node:assert/strict';
import { buildAutoencoder } from '../detector/models';
import { exportToOnnx } from '../packaging/onnx/export';
import { farmTestWindows, maxAbsDiff, randomizeWeights } from '../packaging/packaging-testing';
import { onnxEngineFactory } from './inference-engine';
import { testOnnxModel } from './onnx-testing';
import { tfjsEngineFactory } from './tfjs-engine';

const data = farmTestWindows();

/** onnxruntime without graph optimisations: it would fuse int8 DequantizeLinear+MatMul into ops that also quantise activations. */
const plainOrt: typeof onnxEngineFactory = async (onnx, inputName) => {
  const session = await ort.InferenceSession.create(onnx, { graphOptimizationLevel: 'disabled' });
  const meta = session.inputMetadata.find((m) => m.name === inputName);
  return {
    backend: 'onnxruntime-node (unoptimised)',
    inputShape: meta && meta.isTensor ? [...meta.shape] : [],
    inputNames: [...session.inputNames],
    async run(input, shape) {
      const out = (await session.run({ [inputName]: new ort.Tensor('float32', input, shape) }))[session.outputNames[0]];
      return { data: out.data as Float32Array, dims: [...out.dims] };
    },
    release: () => session.release(),
  };
};

async function both(onnx: Uint8Array, windows: Float32Array, count: number, reference = onnxEngineFactory): Promise<{ diff: number; dims: number[]; backend: string }> {
  const ref = await reference(onnx, 'input');
  const tfe = await tfjsEngineFactory(onnx, 'input');
  assert.deepEqual(tfe.inputShape, ref.inputShape);
  assert.deepEqual(tfe.inputNames, ref.inputNames);
  const shape = [count, 6, 10, 10];
  const a = await ref.run(windows.subarray(0, count * 600), shape);
  const b = await tfe.run(windows.subarray(0, count * 600), shape);
  assert.deepEqual(b.dims, a.dims);
  await ref.release();
  await tfe.release();
  return { diff: maxAbsDiff(a.data, b.data), dims: b.dims, backend: tfe.backend };
}

test('tfjs engine equals onnxruntime on the test models, and refuses operators it does not know', async () => {
  for (const opts of [{ scale: 2, bias: 0.5 }, { output: 'flat' as const }]) {
    const r = await both(testOnnxModel(opts), data.windows, 4);
    assert.equal(r.diff, 0);
  }
  const broken = Buffer.from(testOnnxModel()).toString('latin1').replace('Mul', 'Cos');
  await assert.rejects(tfjsEngineFactory(Buffer.from(broken, 'latin1'), 'input'), /cannot run operator\(s\) Cos/);
  await assert.rejects(tfjsEngineFactory(Uint8Array.from([0x3a, 0x05, 1]), 'input'), /truncated/);
});

for (const kind of ['dense', 'original'] as const) {
  test(`tfjs engine equals onnxruntime on the exported ${kind} autoencoder (float32 and int8 weights)`, async (t) => {
    const model = buildAutoencoder(kind, 17);
    randomizeWeights(model, 23);
    for (const weights of ['float32', 'int8'] as const) {
      const exported = exportToOnnx(model, { weights } as Parameters<typeof exportToOnnx>[1]);
      const r = await both(exported.bytes, data.windows, 64, weights === 'int8' ? plainOrt : onnxEngineFactory);
      t.diagnostic(`${kind} ${weights}: max abs diff ${r.diff} (${r.backend})`);
      assert.ok(r.diff <= 1e-5, `${kind} ${weights}: max abs diff ${r.diff}`);
    }
    model.dispose();
  });
}
