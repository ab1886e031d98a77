/** Proof that an exported model computes what the tfjs model computes, on given windows. */
import * as tf from '@tensorflow/tfjs';
import { createOnnxSession, runOnnx } from './runtime';

/** Result of comparing ONNX and tfjs outputs. */
export interface EquivalenceReport {
  windows: number;
  /** Largest absolute difference over every output value. */
  maxAbsDiff: number;
  /** The bound it was held against, and whether it held. */
  tolerance: number;
  equal: boolean;
}

/** Default bound on the largest absolute difference (issue: ≤ 1e-5). */
export const EQUIVALENCE_TOLERANCE = 1e-5;

/**
 * Runs `count` windows (count x 6 x 10 x 10) through the tfjs model and through the ONNX bytes with
 * onnxruntime-node, in chunks of `batch`, and reports the largest absolute difference.
 */
export async function compareOnnxWithTfjs(model: tf.LayersModel, onnx: Uint8Array, windows: Float32Array, count: number, tolerance = EQUIVALENCE_TOLERANCE, batch = 1024): Promise<EquivalenceReport> {
  const size = windows.length / Math.max(count, 1);
  if (!Number.isInteger(count) || count < 1 || !Number.isInteger(size)) throw new Error(`compareOnnxWithTfjs: ${windows.length} values are not ${count} whole windows`);
  const shape = (model.inputs[0].shape.slice(1) as number[]);
  const session = await createOnnxSession(onnx);
  let maxAbsDiff = 0;
  try {
    for (let start = 0; start < count; start += batch) {
      const n = Math.min(batch, count - start);
      const chunk = windows.subarray(start * size, (start + n) * size);
      const got = await runOnnx(session, chunk, n, shape);
      const want = tf.tidy(() => (model.predict(tf.tensor(chunk, [n, ...shape])) as tf.Tensor).dataSync());
      if (got.length !== want.length) throw new Error(`ONNX output has ${got.length} values, tfjs ${want.length}`);
      for (let i = 0; i < got.length; i++) {
        const d = Math.abs(got[i] - want[i]);
        if (!(d <= maxAbsDiff)) maxAbsDiff = Number.isNaN(d) ? Infinity : d;
      }
    }
  } finally {
    await session.release();
  }
  return { windows: count, maxAbsDiff, tolerance, equal: maxAbsDiff <= tolerance };
}
