/**
 * Retraining from field data through the detector's public pipeline steps: the training CSV is prepared
 * as the training pipeline prepares it (prepareTrainingData: statistics, windows, held-out split), the
 * field's normal windows are re-expressed in those statistics and added (the training part to the training
 * windows, the tuning part to the held-out windows the thresholds are fitted on), then the same model
 * builder, trainer (every n-th window plus transients) and threshold fitting run. The result is a model
 * directory like the pipeline's, marked with the field data it saw.
 */
import { createHash } from 'node:crypto';
import {
  buildAutoencoder,
  DEFAULT_HOLDOUT_FRACTION,
  DEFAULT_TRAIN_STRIDE,
  DEFAULT_TRAINING,
  detectorInputDescription,
  type DetectorDescription,
  everyNth,
  everyNthWithTransients,
  fitAllThresholds,
  initBackend,
  modelToFiles,
  prepareTrainingData,
  trainingRecord,
  type TrainingOptions,
  trainAutoencoder,
  writeModelDir,
  type WindowSet,
} from '../detector/index';
import { DEFAULT_PREPROCESSING } from '../features/params';
import type { FeatureStatistics } from '../features/statistics';
import { readFramesCsv } from '../turbine/csv';
import { readLabelsCsv } from '../turbine/labels';
import { type FieldTrainingSet, renormaliseWindows } from './field-training-set';

/** Options of retrainWithFieldData. */
export interface FieldRetrainingOptions {
  /** The deployed model's training data (farm CSV of normal operation) and its fault labels, if any. */
  trainingDataPath: string;
  trainingLabelsPath?: string;
  field: FieldTrainingSet;
  /** Statistics the field windows were normalised with (the deployed model's manifest). */
  fieldStats: Pick<FeatureStatistics, 'mean' | 'std'>;
  /** Where the new model directory is written. */
  outDir: string;
  seed?: number;
  training?: Partial<Omit<TrainingOptions, 'seed'>>;
  trainStride?: number;
  /** Field windows are captured sparsely: each training one counts this many times (default 4). */
  fieldWeight?: number;
  onEpoch?: (epoch: number, valLoss: number) => void;
}

const concat = (a: WindowSet, ...more: WindowSet[]): WindowSet => {
  const sets = [a, ...more];
  const out = new Float32Array(sets.reduce((n, s) => n + s.windows.length, 0));
  let at = 0;
  for (const s of sets) {
    out.set(s.windows, at);
    at += s.windows.length;
  }
  return { windows: out, count: sets.reduce((n, s) => n + s.count, 0) };
};

/** Trains a new model on the training data plus the field's normal windows; see the file comment. */
export async function retrainWithFieldData(o: FieldRetrainingOptions): Promise<{ modelDir: string; description: DetectorDescription }> {
  const weight = o.fieldWeight ?? 4;
  if (!Number.isInteger(weight) || weight < 1) throw new Error(`fieldWeight must be a positive integer, got ${weight}`);
  if (o.field.train.count === 0 || o.field.tune.count === 0) throw new Error(`too few normal field windows: ${o.field.train.count} for training, ${o.field.tune.count} for thresholds`);
  const backend = await initBackend();
  const seed = o.seed ?? DEFAULT_TRAINING.seed;
  const training: TrainingOptions = { ...DEFAULT_TRAINING, ...o.training, seed };
  const stride = o.trainStride ?? DEFAULT_TRAIN_STRIDE;
  const params = { ...DEFAULT_PREPROCESSING };
  const data = prepareTrainingData(readFramesCsv(o.trainingDataPath), o.trainingLabelsPath ? readLabelsCsv(o.trainingLabelsPath) : [], params, DEFAULT_HOLDOUT_FRACTION);
  const fieldTrain = renormaliseWindows(o.field.train, o.fieldStats, data.stats);
  const fieldTune = renormaliseWindows(o.field.tune, o.fieldStats, data.stats);
  // Field devices get turbine ids past the simulator's, so debounced thresholds never join two devices.
  const firstDevice = Math.max(...data.holdoutTurbine) + 1;
  const merged = {
    ...data,
    train: concat(data.train, ...Array.from({ length: weight }, () => fieldTrain)),
    holdout: concat(data.holdout, fieldTune),
    holdoutTurbine: Int32Array.from([...data.holdoutTurbine, ...Array.from(o.field.tune.device, (d) => firstDevice + d)]),
  };
  const model = buildAutoencoder('dense', seed);
  try {
    // The field part is added after thinning, so sparse captured windows are not thinned again.
    const trainSet = concat(everyNthWithTransients(data.train, stride), ...Array.from({ length: weight }, () => fieldTrain));
    const result = trainAutoencoder(model, trainSet, everyNth(merged.holdout, stride), training, { onEpoch: (log) => o.onEpoch?.(log.epoch, log.valLoss) });
    const thresholds = fitAllThresholds(model, merged);
    const fieldHash = createHash('sha256').update(Buffer.from(o.field.train.windows.buffer)).update(Buffer.from(o.field.tune.windows.buffer)).digest('hex');
    const description: DetectorDescription = {
      ...detectorInputDescription('dense', data.stats, data.params),
      ...thresholds,
      trainingDataHash: `field-sha256:${fieldHash}`,
      training: trainingRecord(
        {
          backend,
          seed,
          trainWindows: trainSet.count,
          validationWindows: merged.holdout.count,
          options: { ...training, trainStride: stride, fieldWeight: weight, fieldTrainWindows: o.field.train.count, fieldTuneWindows: o.field.tune.count, fieldDevices: o.field.devices },
        },
        result,
      ),
    };
    writeModelDir(o.outDir, { model: await modelToFiles(model), description, metrics: {}, curve: result.curve });
    return { modelDir: o.outDir, description };
  } finally {
    model.dispose();
  }
}
