/**
 * The training loop: mini-batch Adam on the reconstruction MSE, batches drawn by a seeded shuffle, early
 * stopping on validation loss (the best epoch's weights are restored), and a learning curve. Written as an
 * explicit loop rather than `model.fit` because fit shuffles with Math.random (not seedable).
 */
import * as tf from '@tensorflow/tfjs';
import { seededUniform, shuffleInPlace } from './random';
import { forward } from './scoring';
import { validateWindowSet, type WindowSet, WINDOW_SIZE } from './windows';

export interface TrainingOptions {
  /** Most epochs to run. */
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** Stop after this many epochs without a validation improvement of at least minDelta (relative). */
  patience: number;
  /** Relative improvement that counts (0.001 = 0.1 %). */
  minDelta: number;
  /** Seed of the batch order (weights are seeded by the model builder). */
  seed: number;
}

export const DEFAULT_TRAINING: Readonly<TrainingOptions> = Object.freeze({
  epochs: 15,
  batchSize: 256,
  learningRate: 0.004,
  patience: 3,
  minDelta: 0.002,
  seed: 42,
});

/** One point of the learning curve. */
export interface EpochLog {
  epoch: number;
  loss: number;
  valLoss: number;
  seconds: number;
}

export interface TrainingResult {
  curve: EpochLog[];
  /** Epoch (1-based) whose weights the model holds at the end. */
  bestEpoch: number;
  bestValLoss: number;
  stoppedEarly: boolean;
  seconds: number;
}

export interface TrainingCallbacks {
  /** After every batch, with the running mean training loss of the epoch. */
  onBatch?(epoch: number, batch: number, batches: number, loss: number): void;
  onEpoch?(log: EpochLog): void;
}

/** Trains `model` in place to reconstruct `train`, early-stopping on `validation`. */
export function trainAutoencoder(
  model: tf.LayersModel,
  train: WindowSet,
  validation: WindowSet,
  options: Partial<TrainingOptions> = {},
  callbacks: TrainingCallbacks = {},
): TrainingResult {
  const o: TrainingOptions = { ...DEFAULT_TRAINING, ...options };
  validateTrainingOptions(o);
  validateWindowSet(train, 'training windows');
  validateWindowSet(validation, 'validation windows');
  if (train.count < 1) throw new Error('no training windows: the data set is shorter than one window (100 frames) per turbine');
  if (validation.count < 1) throw new Error('no validation windows: the held-out part of the data is shorter than one window');

  const [, c, h, w] = model.inputs[0].shape as number[];
  const optimizer = tf.train.adam(o.learningRate);
  const variables = model.trainableWeights.map((v) => v.read() as tf.Variable);
  const order = Int32Array.from({ length: train.count }, (_, i) => i);
  const uniform = seededUniform(o.seed);
  const batchBuffer = new Float32Array(o.batchSize * WINDOW_SIZE);
  const curve: EpochLog[] = [];
  let best: tf.Tensor[] | null = null;
  let bestValLoss = Infinity;
  let bestEpoch = 0;
  let sinceBest = 0;
  const started = performance.now();
  try {
    for (let epoch = 1; epoch <= o.epochs; epoch++) {
      const epochStart = performance.now();
      shuffleInPlace(order, uniform);
      const batches = Math.ceil(train.count / o.batchSize);
      let lossSum = 0;
      for (let b = 0; b < batches; b++) {
        const from = b * o.batchSize;
        const n = Math.min(o.batchSize, train.count - from);
        for (let k = 0; k < n; k++) {
          const i = order[from + k];
          batchBuffer.set(train.windows.subarray(i * WINDOW_SIZE, (i + 1) * WINDOW_SIZE), k * WINDOW_SIZE);
        }
        const loss = tf.tidy(() => {
          const x = tf.tensor4d(batchBuffer.subarray(0, n * WINDOW_SIZE), [n, c, h, w]);
          const value = optimizer.minimize(() => tf.losses.meanSquaredError(x, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, true, variables);
          return value as tf.Scalar;
        });
        lossSum += loss.dataSync()[0] * n;
        loss.dispose();
        callbacks.onBatch?.(epoch, b + 1, batches, lossSum / (from + n));
      }
      const valLoss = meanSquaredError(model, validation, 512);
      const log: EpochLog = { epoch, loss: lossSum / train.count, valLoss, seconds: (performance.now() - epochStart) / 1000 };
      curve.push(log);
      callbacks.onEpoch?.(log);
      if (!Number.isFinite(log.loss) || !Number.isFinite(valLoss)) throw new Error(`training diverged at epoch ${epoch} (loss ${log.loss}, validation loss ${valLoss})`);
      if (valLoss < bestValLoss * (1 - o.minDelta)) {
        bestValLoss = valLoss;
        bestEpoch = epoch;
        sinceBest = 0;
        tf.dispose(best ?? []);
        best = model.getWeights().map((t) => t.clone());
      } else if (++sinceBest >= o.patience) {
        break;
      }
    }
    if (best) model.setWeights(best);
  } finally {
    tf.dispose(best ?? []);
    optimizer.dispose();
  }
  return {
    curve,
    bestEpoch,
    bestValLoss,
    stoppedEarly: curve.length < o.epochs,
    seconds: (performance.now() - started) / 1000,
  };
}

/** Mean squared reconstruction error over a window set, in batches (no tensors left behind). */
export function meanSquaredError(model: tf.LayersModel, set: WindowSet, batchSize = 512): number {
  const [, c, h, w] = model.inputs[0].shape as number[];
  let sum = 0;
  for (let from = 0; from < set.count; from += batchSize) {
    const n = Math.min(batchSize, set.count - from);
    sum += tf.tidy(() => {
      const x = tf.tensor4d(set.windows.subarray(from * WINDOW_SIZE, (from + n) * WINDOW_SIZE), [n, c, h, w]);
      const y = forward(model, x);
      return tf.sub(x, y).square().sum().dataSync()[0];
    });
  }
  return sum / (set.count * WINDOW_SIZE);
}

function validateTrainingOptions(o: TrainingOptions): void {
  const positiveInt = (name: keyof TrainingOptions) => {
    if (!Number.isInteger(o[name]) || (o[name] as number) < 1) throw new Error(`training option ${name} must be a positive integer, got ${o[name]}`);
  };
  positiveInt('epochs');
  positiveInt('batchSize');
  positiveInt('patience');
  if (!(o.learningRate > 0 && Number.isFinite(o.learningRate))) throw new Error(`training option learningRate must be a positive number, got ${o.learningRate}`);
  if (!(o.minDelta >= 0 && o.minDelta < 1)) throw new Error(`training option minDelta must be in [0, 1), got ${o.minDelta}`);
  if (!Number.isInteger(o.seed)) throw new Error(`training option seed must be an integer, got ${o.seed}`);
}
