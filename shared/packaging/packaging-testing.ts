/** Shared by the packaging tests and bench: real windows from a small simulated farm, and model directories. */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../detector/backend';
import { type DetectorDescription, writeModelDir } from '../detector/model-dir';
import { modelToFiles } from '../detector/model-io';
import { type Architecture, buildAutoencoder } from '../detector/models';
import { trainAutoencoder } from '../detector/training';
import { farmWindows, fitFarmStatistics } from '../features/farm';
import { DEFAULT_PREPROCESSING } from '../features/params';
import { type FeatureStatistics, statisticsToJson } from '../features/statistics';
import { simulateFarm } from '../turbine/farm';

/** Windows (count x 6 x 10 x 10) of a seeded two-turbine, two-minute farm, with the statistics they use. */
export function farmTestWindows(seed = 11): { windows: Float32Array; count: number; stats: FeatureStatistics } {
  const { frames } = simulateFarm({ turbines: 2, minutes: 2, seed });
  const stats = fitFarmStatistics(frames, DEFAULT_PREPROCESSING);
  const w = farmWindows(frames, stats, DEFAULT_PREPROCESSING);
  return { windows: w.windows, count: w.count, stats };
}

/** Largest absolute difference of two equally long arrays. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

/** tfjs reconstruction of windows as a flat array. */
export function tfjsReconstruct(model: tf.LayersModel, windows: Float32Array, count: number): Float32Array {
  return tf.tidy(() => (model.predict(tf.tensor4d(windows, [count, 6, 10, 10])) as tf.Tensor).dataSync() as Float32Array);
}

/** Trains a model briefly on the windows (so weights are not just the initialiser's). */
export function briefTraining(model: tf.LayersModel, windows: Float32Array, count: number, epochs = 1): void {
  const half = Math.floor(count / 2);
  trainAutoencoder(model, { windows: windows.slice(0, half * 600), count: half }, { windows: windows.slice(half * 600), count: count - half }, { epochs, batchSize: 64, seed: 5, patience: epochs });
}

/**
 * Replaces every weight with seeded normal values: kernels at Glorot scale (outputs stay of order one, as
 * in a trained model), biases (which start at zero) at 0.1, so bias layout mistakes would show.
 */
export function randomizeWeights(model: tf.LayersModel, seed: number): void {
  const values = model.getWeights().map((w, i) => {
    const receptive = w.shape.length > 2 ? w.shape.slice(0, -2).reduce((a, b) => a * b, 1) : 1;
    const std = w.shape.length === 1 ? 0.1 : Math.sqrt(2 / (receptive * (w.shape[w.shape.length - 2] + w.shape[w.shape.length - 1])));
    return tf.randomNormal(w.shape, 0, std, 'float32', seed * 101 + i);
  });
  model.setWeights(values);
  tf.dispose(values);
}

/** Writes a model directory (as the detector does) holding the given architecture with seeded weights. */
export async function writeTestModelDir(dir: string, architecture: Architecture = 'dense', seed = 1): Promise<void> {
  await initBackend('wasm');
  const { stats } = farmTestWindows();
  const model = buildAutoencoder(architecture, seed);
  const thresholds = { rule: 'budget' as const, values: [0.5, 0.6, 0.7, 0.8, 0.9, 1.0], errorSteps: 100, debounceWindows: 3, margin: 1.15 };
  const description: DetectorDescription = {
    format: 'wind-turbine-detector',
    formatVersion: 1,
    architecture,
    inputName: 'input',
    inputShape: [null, 6, 10, 10],
    featureNames: [...stats.featureNames],
    statistics: statisticsToJson(stats, DEFAULT_PREPROCESSING),
    thresholds,
    originalThresholds: { ...thresholds, rule: 'original' },
    zScoreThresholds: thresholds,
    trainingDataHash: 'sha256:test',
    training: { backend: 'wasm', seed, epochs: 0, bestEpoch: 0, bestValLoss: 0, seconds: 0, trainWindows: 0, validationWindows: 0, options: {} },
  };
  writeModelDir(dir, { model: await modelToFiles(model), description, metrics: {}, curve: [] });
  model.dispose();
}
