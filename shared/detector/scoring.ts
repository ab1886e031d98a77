/** Reconstruction errors: the detector's score is each feature's mean absolute error over a window. */
import * as tf from '@tensorflow/tfjs';
import { CHANNELS, type WindowSet, WINDOW_SIZE } from './windows';
import { VARIATION_STEPS, windowErrors, windowVariationAt, WINDOW_STEPS } from './window-score';

/**
 * Per-feature mean absolute reconstruction error of every window: a Float32Array of count x 6
 * (row-major, feature order of the windows). `lastSteps` < 100 averages only the window's newest steps
 * (the model still sees the whole window as context), which reacts sooner to a fault's onset. Runs in
 * batches inside tf.tidy, so memory stays flat.
 */
export function reconstructionErrors(model: tf.LayersModel, set: WindowSet, lastSteps = WINDOW_SIZE / CHANNELS, batchSize = 512): Float32Array {
  return reconstructionErrorsOver(model, set, [lastSteps], batchSize)[0];
}

/**
 * reconstructionErrors for several `lastSteps` at once from one prediction per batch (the whole-window
 * error and the onset rule's newest-steps error need the same reconstruction): one array per entry.
 */
export function reconstructionErrorsOver(model: tf.LayersModel, set: WindowSet, lastStepsList: readonly number[], batchSize = 512): Float32Array[] {
  const steps = WINDOW_SIZE / CHANNELS;
  for (const lastSteps of lastStepsList) {
    if (!Number.isInteger(lastSteps) || lastSteps < 1 || lastSteps > steps) throw new Error(`lastSteps must be an integer from 1 to ${steps}, got ${lastSteps}`);
  }
  const [, c, h, w] = model.inputs[0].shape as number[];
  if (c * h * w !== WINDOW_SIZE) throw new Error(`model input (${c}, ${h}, ${w}) does not take windows of ${WINDOW_SIZE} values`);
  const outs = lastStepsList.map(() => new Float32Array(set.count * CHANNELS));
  for (let from = 0; from < set.count; from += batchSize) {
    const n = Math.min(batchSize, set.count - from);
    const input = set.windows.subarray(from * WINDOW_SIZE, (from + n) * WINDOW_SIZE);
    withPrediction(model, input, [n, c, h, w], (output) => {
      // The errors themselves come from the shared per-window kernel (window-score.ts), as on the device.
      for (let k = 0; k < n; k++) lastStepsList.forEach((lastSteps, i) => windowErrors(input, output, k * WINDOW_SIZE, lastSteps, outs[i], (from + k) * CHANNELS));
    });
  }
  return outs;
}

/**
 * The model's output for a batch, run eagerly through its layers. model.predict would cut the batch into
 * slices of 32 with tf.slice, and the wasm backend's slice reads the whole input each time: apply gives the
 * same values (checked bit for bit in scoring.test.ts) 2.6 times faster for batches of 512.
 */
export function forward(model: tf.LayersModel, x: tf.Tensor): tf.Tensor {
  return model.apply(x, { training: false }) as tf.Tensor;
}

/**
 * Calls `use` with the model's output values for input of shape dims, read in place from the backend's
 * memory where it allows (wasm: no copy of every batch's output, a tenth of the scoring time) and valid only
 * during the call.
 */
export function withPrediction(model: tf.LayersModel, input: Float32Array, dims: [number, number, number, number], use: (output: Float32Array) => void): void {
  tf.tidy(() => {
    const y = forward(model, tf.tensor4d(input, dims));
    const backend = tf.backend() as unknown as { typedArrayFromHeap?(t: tf.TensorInfo): Float32Array };
    use(backend.typedArrayFromHeap && y.dtype === 'float32' ? backend.typedArrayFromHeap(y) : (y.dataSync() as Float32Array));
  });
}

/**
 * The model's output values for input of shape dims. Read inside tf.tidy but not returned from it: tidy
 * walks a returned value looking for tensors, element by element, which costs ten times the prediction.
 */
export function predictValues(model: tf.LayersModel, input: Float32Array, dims: [number, number, number, number]): Float32Array {
  let values = new Float32Array(0);
  tf.tidy(() => {
    values = forward(model, tf.tensor4d(input, dims)).dataSync() as Float32Array;
  });
  return values;
}

/**
 * The per-feature z-score baseline's "error": mean |z| of each feature over the window, i.e. the error of
 * a model that always predicts the training mean. Same layout as reconstructionErrors.
 */
export function zScoreErrors(set: WindowSet): Float32Array {
  const out = new Float32Array(set.count * CHANNELS);
  for (let i = 0; i < set.count; i++) windowErrors(set.windows, null, i * WINDOW_SIZE, WINDOW_STEPS, out, i * CHANNELS);
  return out;
}

/**
 * Per-feature variation of each window's newest `lastSteps` steps: mean |x[t] - x[t-1]|, count x 6. A stuck
 * sensor repeats its reading, so its features become exactly flat; the autoencoder reconstructs a flat
 * line well (its error goes down), so the detector checks this separately (Thresholds.flatline).
 */
export function windowVariation(set: WindowSet, lastSteps = VARIATION_STEPS): Float32Array {
  const out = new Float32Array(set.count * CHANNELS);
  for (let i = 0; i < set.count; i++) windowVariationAt(set.windows, i * WINDOW_SIZE, lastSteps, out, i * CHANNELS);
  return out;
}
