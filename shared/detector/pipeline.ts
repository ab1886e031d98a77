/**
 * The training pipeline, with the original's steps: preprocess -> train -> evaluate -> register. Each
 * step's output is cached under `cacheDir` by the sha256 of its inputs (data bytes, parameters, the
 * previous step's key), so a re-run skips every step whose inputs did not change. All randomness is seeded.
 *
 * - preprocess: split the farm by turbine, fit normalisation statistics, cut training and held-out
 *   windows (training-data.ts).
 * - train: build the architecture with seeded weights, train with early stopping on the held-out windows.
 * - evaluate: thresholds (threshold-fitting.ts) and, when evaluation data is given, the full evaluation report.
 * - register: hand the model directory to a registry (model-registry.ts).
 *
 * The step cache is step-cache.ts; log lines for the progress events are pipeline-log.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_PREPROCESSING, type PreprocessingParams, validatePreprocessingParams } from '../features/params';
import { statisticsFromJson, statisticsToJson } from '../features/statistics';
import { readFramesCsv } from '../turbine/csv';
import type { FarmSet } from '../turbine/farm';
import { readLabelsCsv } from '../turbine/labels';
import { type BackendName, initBackend } from './backend';
import { CALIBRATION_FARMS, calibrateOnWindows, calibrateThresholds, DEFAULT_FALSE_ALARM_TARGET, type FalseAlarmCalibration, windowTurbineDays } from './calibration';
import { calibrationChunkCount, calibrationScoring, type CalibrationSource, concatScored, scoreCalibrationSource, type ScoredCalibration, scoredNormalWindows } from './calibration-data';
import { CalibrationPrefetch } from './calibration-prefetch';
import { detectorInputDescription, type DetectorDescription, trainingRecord } from './model-dir';
import type { ModelRegistry } from './model-registry';
import { modelFromFiles, type ModelFiles, modelToFiles } from './model-io';
import { type Architecture, buildAutoencoder, DEFAULT_ARCHITECTURE } from './models';
import { evaluateOnFrames, type EvaluationReport } from './report';
import { reconstructionErrorsOver } from './scoring';
import { cacheHit, fileHash, floatBuffer, readFloats, sha256, writeCacheEntry } from './step-cache';
import { calibrationScoringFor, fitAllThresholds } from './threshold-fitting';
import { type BudgetOptions, DEFAULT_BUDGET } from './thresholds';
import { DEFAULT_TRAINING, type EpochLog, trainAutoencoder, type TrainingCallbacks, type TrainingOptions, type TrainingResult } from './training';
import { DEFAULT_HOLDOUT_FRACTION, DEFAULT_TRAIN_STRIDE, everyNth, everyNthWithTransients, type PreparedData, prepareTrainingData } from './training-data';
import { type WindowSet, WINDOW_SIZE } from './windows';

export type PipelineStep = 'preprocess' | 'train' | 'evaluate' | 'register';

/** Progress events for bars and logs. */
export type PipelineEvent =
  | { type: 'step'; step: PipelineStep; cached: boolean; key: string }
  | { type: 'stepDone'; step: PipelineStep; seconds: number }
  | { type: 'batch'; epoch: number; batch: number; batches: number; loss: number; maxEpochs: number }
  | { type: 'epoch'; log: EpochLog; maxEpochs: number };

export interface PipelineOptions {
  /** Training data: a farm CSV (.csv or .csv.gz) of normal operation. */
  dataPath: string;
  /** Labels of faults in the training data (windows touching them are dropped). */
  labelsPath?: string;
  /** Labelled evaluation data (another seed), for the evaluate step's report. */
  evalDataPath?: string;
  evalLabelsPath?: string;
  cacheDir: string;
  registry: ModelRegistry;
  architecture?: Architecture;
  seed?: number;
  training?: Partial<Omit<TrainingOptions, 'seed'>>;
  preprocessing?: Partial<PreprocessingParams>;
  budget?: Partial<BudgetOptions>;
  /** Fraction of each turbine's windows held out for early stopping and thresholds. */
  holdoutFraction?: number;
  /**
   * Train on every n-th training window (and compute the validation loss on every n-th held-out one).
   * Windows taken every 10 frames overlap by 90 %: thinning them costs little validation loss (measured),
   * and more turbine-hours at a larger stride cover more rare states for the same training time (default 8
   * on 16 turbine-hours). Thresholds and the error scale always use every window.
   */
  trainStride?: number;
  /**
   * False alarms per turbine-day the thresholds are fitted for (calibration.ts; default 0.5); 0 keeps the
   * budget rule's thresholds as they are.
   */
  falseAlarmTarget?: number;
  /** Normal operation of other turbines to calibrate on (a farm CSV); default: CALIBRATION_FARMS, simulated. */
  calibrationDataPath?: string;
  /** The simulated farms to calibrate on when no calibration CSV is given (default CALIBRATION_FARMS). */
  calibrationFarms?: FarmSet;
  /** Backend; default: tfjs-node if it loads, else wasm. */
  backend?: BackendName;
  /**
   * Prepare and score the calibration data on a worker thread while this one preprocesses, trains and fits
   * thresholds (default true; the results are the same bytes). false does it all on this thread, as the
   * pipeline did before (the bench's baseline).
   */
  calibrationWorker?: boolean;
  onEvent?(event: PipelineEvent): void;
}

export interface PipelineResult {
  location: string;
  description: DetectorDescription;
  curve: EpochLog[];
  report: EvaluationReport | null;
  steps: Array<{ step: PipelineStep; cached: boolean; seconds: number }>;
}

/** Runs preprocess -> train -> evaluate -> register, skipping cached steps. */
export async function runTrainingPipeline(options: PipelineOptions): Promise<PipelineResult> {
  const architecture = options.architecture ?? DEFAULT_ARCHITECTURE;
  const seed = options.seed ?? DEFAULT_TRAINING.seed;
  const training: TrainingOptions = { ...DEFAULT_TRAINING, ...options.training, seed };
  const params: PreprocessingParams = { ...DEFAULT_PREPROCESSING, ...options.preprocessing };
  validatePreprocessingParams(params);
  const budget: BudgetOptions = { ...DEFAULT_BUDGET, ...options.budget };
  const holdoutFraction = options.holdoutFraction ?? DEFAULT_HOLDOUT_FRACTION;
  const trainStride = options.trainStride ?? DEFAULT_TRAIN_STRIDE;
  if (!Number.isInteger(trainStride) || trainStride < 1) throw new Error(`trainStride must be a positive integer, got ${trainStride}`);
  const falseAlarmTarget = options.falseAlarmTarget ?? DEFAULT_FALSE_ALARM_TARGET;
  if (!(falseAlarmTarget >= 0 && Number.isFinite(falseAlarmTarget))) throw new Error(`falseAlarmTarget must be a number >= 0 (0 = off), got ${falseAlarmTarget}`);
  const farms = options.calibrationFarms ?? CALIBRATION_FARMS;
  if (!(Number.isInteger(farms.count) && farms.count > 0)) throw new Error(`calibration farms: count must be a positive integer, got ${farms.count}`);
  const calibrationData: CalibrationSource = options.calibrationDataPath ? { path: options.calibrationDataPath } : { farms };
  const calibrationSource = falseAlarmTarget === 0 ? null : options.calibrationDataPath ? { data: fileHash(options.calibrationDataPath, 'calibration data') } : { farms };
  const backend = await initBackend(options.backend);
  buildAutoencoder(architecture).dispose(); // refuse an unknown architecture before any work
  const emit = options.onEvent ?? (() => undefined);
  const steps: PipelineResult['steps'] = [];
  const timed = async <T>(step: PipelineStep, key: string, cached: boolean, body: () => Promise<T> | T): Promise<T> => {
    emit({ type: 'step', step, cached, key });
    const t0 = performance.now();
    const out = await body();
    const seconds = (performance.now() - t0) / 1000;
    steps.push({ step, cached, seconds });
    emit({ type: 'stepDone', step, seconds });
    return out;
  };

  // Every step's cache key up front: the calibration worker only starts when the evaluate step will run.
  const dataHash = sha256(fileHash(options.dataPath, 'training data'), fileHash(options.labelsPath, 'training labels'));
  const preKey = sha256(JSON.stringify({ step: 'preprocess', v: 2, dataHash, params, holdoutFraction }));
  const preDir = join(options.cacheDir, 'preprocess', preKey);
  const trainKey = sha256(JSON.stringify({ step: 'train', v: 2, preKey, architecture, training, trainStride, backend }));
  const trainDir = join(options.cacheDir, 'train', trainKey);
  const evalHash = sha256(fileHash(options.evalDataPath, 'evaluation data'), fileHash(options.evalLabelsPath, 'evaluation labels'));
  const evalKey = sha256(JSON.stringify({ step: 'evaluate', v: 8, trainKey, budget, evalHash, falseAlarmTarget, calibrationSource }));
  const evalDir = join(options.cacheDir, 'evaluate', evalKey);
  const prefetch =
    falseAlarmTarget > 0 && (options.calibrationWorker ?? true) && !cacheHit(evalDir)
      ? new CalibrationPrefetch(calibrationData)
      : null;
  try {
    // 1. preprocess
    const data = await timed('preprocess', preKey, cacheHit(preDir), () => {
      if (cacheHit(preDir)) {
        const meta = JSON.parse(readFileSync(join(preDir, 'meta.json'), 'utf8'));
        const { stats } = statisticsFromJson(meta.statistics);
        const train = readFloats(join(preDir, 'train.f32'));
        const holdout = readFloats(join(preDir, 'holdout.f32'));
        return {
          stats,
          params,
          train: { windows: train, count: train.length / WINDOW_SIZE },
          holdout: { windows: holdout, count: holdout.length / WINDOW_SIZE },
          trainTurbine: Int32Array.from(meta.trainTurbine as number[]),
          holdoutTurbine: Int32Array.from(meta.holdoutTurbine as number[]),
          rejectedFrames: meta.rejectedFrames as number,
        } satisfies PreparedData;
      }
      const frames = readFramesCsv(options.dataPath);
      const labels = options.labelsPath ? readLabelsCsv(options.labelsPath) : [];
      const prepared = prepareTrainingData(frames, labels, params, holdoutFraction);
      writeCacheEntry(preDir, {
        'meta.json': JSON.stringify({ statistics: statisticsToJson(prepared.stats, params), trainTurbine: Array.from(prepared.trainTurbine), holdoutTurbine: Array.from(prepared.holdoutTurbine), rejectedFrames: prepared.rejectedFrames, dataHash }),
        'train.f32': floatBuffer(prepared.train.windows),
        'holdout.f32': floatBuffer(prepared.holdout.windows),
      });
      return prepared;
    });
    prefetch?.setStatistics(data.stats, data.params);

    // 2. train
    const { model, result, files } = await timed('train', trainKey, cacheHit(trainDir), async () => {
      if (cacheHit(trainDir)) {
        const files: ModelFiles = { modelJson: readFileSync(join(trainDir, 'model.json'), 'utf8'), weights: readFileSync(join(trainDir, 'weights.bin')) };
        return { model: await modelFromFiles(files, trainDir), result: JSON.parse(readFileSync(join(trainDir, 'result.json'), 'utf8')) as TrainingResult, files };
      }
      const m = buildAutoencoder(architecture, seed);
      const callbacks: TrainingCallbacks = {
        onBatch: (epoch, batch, batches, loss) => emit({ type: 'batch', epoch, batch, batches, loss, maxEpochs: training.epochs }),
        onEpoch: (log) => emit({ type: 'epoch', log, maxEpochs: training.epochs }),
      };
      const r = trainAutoencoder(m, everyNthWithTransients(data.train, trainStride), everyNth(data.holdout, trainStride), training, callbacks);
      const files = await modelToFiles(m);
      writeCacheEntry(trainDir, { 'model.json': files.modelJson, 'weights.bin': files.weights, 'result.json': JSON.stringify(r) });
      return { model: m, result: r, files };
    });

    try {
      // 3. evaluate
      const evaluated = await timed('evaluate', evalKey, cacheHit(evalDir), async () => {
        if (cacheHit(evalDir)) return JSON.parse(readFileSync(join(evalDir, 'result.json'), 'utf8')) as ReturnType<typeof fitAllThresholds> & { report: EvaluationReport | null; falseAlarm: FalseAlarmCalibration | null };
        // The worker's forward passes over the calibration windows run while this thread fits the thresholds;
        // what they need follows from the budget options alone (checked against the fitted thresholds). This
        // thread then scores the last farms itself (the worker has two farms' windows ready, this thread
        // starts from nothing after the thresholds), so that both cores finish about together.
        const scoring = calibrationScoringFor(budget);
        const chunks = calibrationChunkCount(calibrationData);
        const ownChunks = prefetch ? Math.floor((chunks - 1) / 2) : 0;
        const scoringDone = prefetch?.score(files, backend, scoring, chunks - ownChunks);
        scoringDone?.catch(() => undefined); // awaited below; a failure must not be an unhandled rejection meanwhile
        const thresholds = fitAllThresholds(model, data, budget);
        let falseAlarm: FalseAlarmCalibration | null = null;
        if (falseAlarmTarget > 0) {
          const t = thresholds.thresholds;
          let scored: ScoredCalibration | null = null;
          // Thresholds unlike the budget's (never with the pipeline's own options): everything is scored below instead.
          if (scoringDone && JSON.stringify(calibrationScoring(t)) === JSON.stringify(scoring)) {
            const own = ownChunks > 0 ? [scoreCalibrationSource(model, calibrationData, data.stats, data.params, scoring, chunks - ownChunks)] : [];
            scored = concatScored([await scoringDone, ...own]);
          }
          const target = { targetPerTurbineDay: falseAlarmTarget };
          const calibrated = scored
            ? calibrateOnWindows(scoredNormalWindows(scored, t), t, windowTurbineDays(scored.count, data.params.stride), target)
            : calibrateThresholds(model, t, data.stats, data.params, calibrationData, target);
          thresholds.thresholds = calibrated.thresholds;
          falseAlarm = calibrated.calibration;
        }
        let report: EvaluationReport | null = null;
        if (options.evalDataPath) {
          if (!options.evalLabelsPath) throw new Error('evaluation data needs its labels file (evalLabelsPath)');
          const frames = readFramesCsv(options.evalDataPath);
          const labels = readLabelsCsv(options.evalLabelsPath);
          const scorable = { ...thresholds, stats: data.stats, params: data.params, scoreWindowsOver: (set: WindowSet, spans: readonly number[]) => reconstructionErrorsOver(model, set, spans) };
          report = evaluateOnFrames(scorable, frames, labels).report;
        }
        const out = { ...thresholds, report, falseAlarm };
        writeCacheEntry(evalDir, { 'result.json': JSON.stringify(out) });
        return out;
      });

      // 4. register (always: cheap, and the target may have been removed)
      const description: DetectorDescription = {
        ...detectorInputDescription(architecture, data.stats, data.params),
        thresholds: evaluated.thresholds,
        originalThresholds: evaluated.originalThresholds,
        zScoreThresholds: evaluated.zScoreThresholds,
        trainingDataHash: `sha256:${dataHash}`,
        training: {
          ...trainingRecord(
            { backend, seed, trainWindows: everyNthWithTransients(data.train, trainStride).count, validationWindows: data.holdout.count, options: { ...training, holdoutFraction, trainStride, budget, falseAlarmTarget } },
            result,
          ),
          ...(evaluated.falseAlarm ? { falseAlarm: evaluated.falseAlarm } : {}),
        },
      };
      const location = await timed('register', 'always', false, () => options.registry.register({ model: files, description, metrics: evaluated.report ?? {}, curve: result.curve }));
      return { location, description, curve: result.curve, report: evaluated.report, steps };
    } finally {
      model.dispose();
    }
  } finally {
    await prefetch?.close();
  }
}
