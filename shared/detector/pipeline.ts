/**
 * The training pipeline, with the original's steps: preprocess -> train -> evaluate -> register. Each
 * step's output is cached under `cacheDir` by the sha256 of its inputs (data bytes, parameters, the
 * previous step's key), so a re-run skips every step whose inputs did not change. All randomness is seeded.
 *
 * - preprocess: split the farm by turbine, fit normalisation statistics, cut windows; per turbine the last
 *   `holdoutFraction` of windows is held out (after a gap of one window length, so no frame is shared),
 *   windows touching a labelled fault (if training labels are given) are dropped.
 * - train: build the architecture with seeded weights, train with early stopping on the held-out windows.
 * - evaluate: thresholds (budget rule on held-out errors, original rule on training errors, z-score
 *   baseline on held-out z-scores) and, when evaluation data is given, the full evaluation report.
 * - register: hand the model directory to a registry (`LocalDirectoryRegistry` writes it atomically; the
 *   SageMaker model registry of the packaging issue plugs in here).
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { farmWindows, turbineSeries } from '../features/farm';
import { DEFAULT_PREPROCESSING, type PreprocessingParams, validatePreprocessingParams } from '../features/params';
import { type FeatureStatistics, fitFeatureStatistics, statisticsFromJson, statisticsToJson } from '../features/statistics';
import { readFramesCsv } from '../turbine/csv';
import { parseEventTime } from '../turbine/event-time';
import type { FaultLabel } from '../turbine/faults';
import { readLabelsCsv } from '../turbine/labels';
import type { FrameColumns } from '../turbine/schema';
import { type BackendName, initBackend } from './backend';
import { DEFAULT_EVALUATION } from './evaluation';
import { DETECTOR_FORMAT_VERSION, type DetectorDescription, type ModelDirContents, writeModelDir } from './model-dir';
import { modelFromFiles, type ModelFiles, modelToFiles } from './model-io';
import { type Architecture, buildAutoencoder, DEFAULT_ARCHITECTURE, INPUT_NAME } from './models';
import { evaluateOnFrames, frameCoverage, type EvaluationReport } from './report';
import { type ErrorScale, fitErrorScale, normaliseErrors, operatingStates, RPS_CHANNEL } from './conditioning';
import { reconstructionErrorsOver, windowVariation, zScoreErrors } from './scoring';
import { type BudgetOptions, DEFAULT_BUDGET, fitBudgetThresholds, originalThresholds, type Thresholds, VARIATION_STEPS, fastScores, withFast, withFlatline, withRecent } from './thresholds';
import { DEFAULT_TRAINING, type EpochLog, trainAutoencoder, type TrainingCallbacks, type TrainingOptions, type TrainingResult } from './training';
import { type WindowSet, WINDOW_SIZE } from './windows';

/** Where a finished model goes. The local one writes a directory; issue 6 adds the SageMaker registry. */
export interface ModelRegistry {
  /** Stores the model; returns where it can be found (a path, or a model package ARN). */
  register(contents: ModelDirContents): Promise<string>;
}

/** Registers a model by writing its directory atomically. */
export class LocalDirectoryRegistry implements ModelRegistry {
  constructor(readonly dir: string) {}
  async register(contents: ModelDirContents): Promise<string> {
    writeModelDir(this.dir, contents);
    return this.dir;
  }
}

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
  /** Backend; default: tfjs-node if it loads, else wasm. */
  backend?: BackendName;
  onEvent?(event: PipelineEvent): void;
}

export interface PipelineResult {
  location: string;
  description: DetectorDescription;
  curve: EpochLog[];
  report: EvaluationReport | null;
  steps: Array<{ step: PipelineStep; cached: boolean; seconds: number }>;
}

/** Held-out geometry defaults. */
export const DEFAULT_HOLDOUT_FRACTION = 0.2;
export const DEFAULT_TRAIN_STRIDE = 8;

/**
 * The training data set the defaults were chosen on (`npm run dataset -- --turbines 16 --minutes 60`): 16
 * turbine-hours hold enough stops (some braked from high speed), start-ups and strong gusts for the model
 * and the error scale to cover normal operation; trained on every 8th window (plus every transient) it
 * costs the same epoch time as 8 turbine-hours at every 4th. Smaller sets see too few rare states and give
 * false alarms (README).
 */
export const DEFAULT_TRAINING_DATA = Object.freeze({ turbines: 16, minutes: 60, seed: 42 });

/** Every n-th window of a set. */
export function everyNth(set: WindowSet, n: number): WindowSet {
  if (n === 1) return set;
  const count = Math.ceil(set.count / n);
  const out = new Float32Array(count * WINDOW_SIZE);
  for (let k = 0; k < count; k++) out.set(set.windows.subarray(k * n * WINDOW_SIZE, (k * n + 1) * WINDOW_SIZE), k * WINDOW_SIZE);
  return { windows: out, count };
}

/** A window whose normalised rps spans more than this (in training std) holds a stop, start-up or strong gust. */
export const TRANSIENT_RPS_RANGE = 2;


/**
 * Every n-th window plus every window holding a rotor transient (rps range > TRANSIENT_RPS_RANGE std):
 * stops, start-ups and strong gusts are rare normal operation, and thinning them with the rest leaves the
 * model too few of them to learn (they were the remaining false alarms).
 */
export function everyNthWithTransients(set: WindowSet, n: number, minRange = TRANSIENT_RPS_RANGE): WindowSet {
  const steps = WINDOW_SIZE / 6;
  const keep: number[] = [];
  for (let i = 0; i < set.count; i++) {
    let lo = Infinity;
    let hi = -Infinity;
    const base = i * WINDOW_SIZE + RPS_CHANNEL * steps;
    for (let k = 0; k < steps; k++) {
      const v = set.windows[base + k];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (i % n === 0 || hi - lo > minRange) keep.push(i);
  }
  const out = new Float32Array(keep.length * WINDOW_SIZE);
  keep.forEach((i, k) => out.set(set.windows.subarray(i * WINDOW_SIZE, (i + 1) * WINDOW_SIZE), k * WINDOW_SIZE));
  return { windows: out, count: keep.length };
}

function sha256(...parts: Array<string | Buffer>): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
}

function fileHash(path: string | undefined, what: string): string {
  if (!path) return 'none';
  try {
    return sha256(readFileSync(path));
  } catch (err) {
    throw new Error(`${what} ${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

/** Writes files into a cache entry atomically (temp dir + rename); a concurrent writer's entry wins. */
function writeCacheEntry(dir: string, files: Record<string, string | Buffer>): void {
  mkdirSync(join(dir, '..'), { recursive: true });
  const tmp = `${dir}.partial-${process.pid}-${randomBytes(4).toString('hex')}`;
  mkdirSync(tmp);
  try {
    for (const [name, data] of Object.entries(files)) writeFileSync(join(tmp, name), data);
    writeFileSync(join(tmp, 'complete'), '');
    if (!existsSync(dir)) renameSync(tmp, dir);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

function cacheHit(dir: string): boolean {
  return existsSync(join(dir, 'complete'));
}

function floatBuffer(a: Float32Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}
function readFloats(path: string): Float32Array {
  const b = readFileSync(path);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

/** The preprocess step's output. */
export interface PreparedData {
  stats: FeatureStatistics;
  params: PreprocessingParams;
  train: WindowSet;
  holdout: WindowSet;
  /** turbineId of each held-out window (debouncing never spans two turbines). */
  holdoutTurbine: Int32Array;
  rejectedFrames: number;
}

/**
 * Splits farm frames into training and held-out windows (see the module comment). Throws a clear error
 * when the data is too short for a window or for a held-out part.
 */
export function prepareTrainingData(frames: FrameColumns, labels: readonly FaultLabel[], params: PreprocessingParams, holdoutFraction = DEFAULT_HOLDOUT_FRACTION): PreparedData {
  validatePreprocessingParams(params);
  if (!(holdoutFraction > 0 && holdoutFraction < 1)) throw new Error(`holdoutFraction must be between 0 and 1, got ${holdoutFraction}`);
  if (frames.length < params.windowLength) throw new Error(`training data has ${frames.length} frames, fewer than one window of ${params.windowLength}`);
  const series = turbineSeries(frames);
  const stats = fitFeatureStatistics(
    series.map((s) => s.frames),
    params,
  );
  const fw = farmWindows(series, stats, params);
  const coverage = frameCoverage(frames);
  const bad = labels.map((l) => ({ t: l.turbineId, from: parseEventTime(l.start) - DEFAULT_EVALUATION.preS * 1000, to: parseEventTime(l.end) + DEFAULT_EVALUATION.graceS * 1000 }));
  if (labels.length) {
    for (const l of labels) if (!coverage.has(l.turbineId)) throw new Error(`training labels: turbine ${l.turbineId} is not in the training data`);
  }
  const gap = Math.ceil(params.windowLength / params.stride);
  const trainIdx: number[] = [];
  const holdIdx: number[] = [];
  for (const s of series) {
    const idx: number[] = [];
    for (let i = 0; i < fw.count; i++) {
      if (fw.turbineId[i] !== s.turbineId) continue;
      const start = parseEventTime(frames.eventTime[fw.startRow[i]]);
      const end = parseEventTime(frames.eventTime[fw.endRow[i]]);
      if (bad.some((b) => b.t === s.turbineId && end >= b.from && start <= b.to)) continue;
      idx.push(i);
    }
    const cut = Math.floor(idx.length * (1 - holdoutFraction));
    trainIdx.push(...idx.slice(0, Math.max(0, cut - gap)));
    holdIdx.push(...idx.slice(cut));
  }
  const minWindows = 2 * gap + 2;
  if (trainIdx.length === 0 || holdIdx.length < 2) {
    throw new Error(
      `training data too short: ${fw.count} windows over ${series.length} turbine(s) leave ${trainIdx.length} for training and ${holdIdx.length} held out; ` +
        `each turbine needs well over ${minWindows} windows (${(minWindows * params.stride + params.windowLength) / 20} s of frames)`,
    );
  }
  const pick = (idx: number[]): WindowSet => {
    const out = new Float32Array(idx.length * WINDOW_SIZE);
    idx.forEach((i, k) => out.set(fw.windows.subarray(i * WINDOW_SIZE, (i + 1) * WINDOW_SIZE), k * WINDOW_SIZE));
    return { windows: out, count: idx.length };
  };
  return { stats, params, train: pick(trainIdx), holdout: pick(holdIdx), holdoutTurbine: Int32Array.from(holdIdx, (i) => fw.turbineId[i]), rejectedFrames: fw.rejectedFrames };
}

/**
 * Thresholds of the three rules from a trained model and the prepared data. The default rule: the error
 * scale model fitted on all normal windows (training and held-out; conditioning.ts), budget thresholds on
 * the held-out windows' conditioned errors (whole window and newest steps), the stuck-sensor floor, then the
 * fast rule over the finished held-out scores.
 */
export function fitAllThresholds(model: tf.LayersModel, data: PreparedData, budget: Partial<BudgetOptions> = {}): { thresholds: Thresholds; originalThresholds: Thresholds; zScoreThresholds: Thresholds } {
  const o = { ...DEFAULT_BUDGET, ...budget };
  // The operating state's recent level uses the onset rule's span (or the stuck-sensor rule's when it is off).
  const recentSteps = o.recentSteps > 0 ? o.recentSteps : VARIATION_STEPS;
  const [heldOut, heldOutRecent] = reconstructionErrorsOver(model, data.holdout, [o.errorSteps, recentSteps]);
  const [trainErrors, trainRecent, trainWhole] = reconstructionErrorsOver(model, data.train, [o.errorSteps, recentSteps, WINDOW_SIZE / 6]);
  const heldOutStates = operatingStates(data.holdout, recentSteps);
  const heldOutVariation = windowVariation(data.holdout);
  const trainVariation = windowVariation(data.train);
  let scale: ErrorScale | undefined;
  let fitted = { full: heldOut, recent: heldOutRecent };
  if (o.conditioned) {
    scale = fitErrorScale(concatFloats(trainErrors, heldOut), concatFloats(trainRecent, heldOutRecent), [...operatingStates(data.train, recentSteps), ...heldOutStates], recentSteps);
    fitted = { full: normaliseErrors(heldOut, heldOutStates, scale, 'full'), recent: normaliseErrors(heldOutRecent, heldOutStates, scale, 'recent') };
  }
  let thresholds = withFlatline(fitBudgetThresholds(fitted.full, data.holdoutTurbine, o), concatFloats(trainVariation, heldOutVariation));
  if (o.recentSteps > 0) thresholds = withRecent(thresholds, fitted.recent, data.holdoutTurbine, o.recentSteps, o.recentMargin);
  if (scale) thresholds = { ...thresholds, scale };
  if (o.fastMargin > 0) {
    const scores = fastScores(heldOut, thresholds, heldOutVariation, o.recentSteps > 0 ? heldOutRecent : null, scale ? heldOutStates : null);
    thresholds = withFast(thresholds, scores, o.fastMargin);
  }
  return {
    thresholds,
    originalThresholds: originalThresholds(trainWhole),
    zScoreThresholds: fitBudgetThresholds(zScoreErrors(data.holdout), data.holdoutTurbine, { ...o, errorSteps: 100 }),
  };
}

function concatFloats(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
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

  // 1. preprocess
  const dataHash = sha256(fileHash(options.dataPath, 'training data'), fileHash(options.labelsPath, 'training labels'));
  const preKey = sha256(JSON.stringify({ step: 'preprocess', v: 1, dataHash, params, holdoutFraction }));
  const preDir = join(options.cacheDir, 'preprocess', preKey);
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
        holdoutTurbine: Int32Array.from(meta.holdoutTurbine as number[]),
        rejectedFrames: meta.rejectedFrames as number,
      } satisfies PreparedData;
    }
    const frames = readFramesCsv(options.dataPath);
    const labels = options.labelsPath ? readLabelsCsv(options.labelsPath) : [];
    const prepared = prepareTrainingData(frames, labels, params, holdoutFraction);
    writeCacheEntry(preDir, {
      'meta.json': JSON.stringify({ statistics: statisticsToJson(prepared.stats, params), holdoutTurbine: Array.from(prepared.holdoutTurbine), rejectedFrames: prepared.rejectedFrames, dataHash }),
      'train.f32': floatBuffer(prepared.train.windows),
      'holdout.f32': floatBuffer(prepared.holdout.windows),
    });
    return prepared;
  });

  // 2. train
  const trainKey = sha256(JSON.stringify({ step: 'train', v: 2, preKey, architecture, training, trainStride, backend }));
  const trainDir = join(options.cacheDir, 'train', trainKey);
  const { model, result } = await timed('train', trainKey, cacheHit(trainDir), async () => {
    if (cacheHit(trainDir)) {
      const files: ModelFiles = { modelJson: readFileSync(join(trainDir, 'model.json'), 'utf8'), weights: readFileSync(join(trainDir, 'weights.bin')) };
      return { model: await modelFromFiles(files, trainDir), result: JSON.parse(readFileSync(join(trainDir, 'result.json'), 'utf8')) as TrainingResult };
    }
    const m = buildAutoencoder(architecture, seed);
    const callbacks: TrainingCallbacks = {
      onBatch: (epoch, batch, batches, loss) => emit({ type: 'batch', epoch, batch, batches, loss, maxEpochs: training.epochs }),
      onEpoch: (log) => emit({ type: 'epoch', log, maxEpochs: training.epochs }),
    };
    const r = trainAutoencoder(m, everyNthWithTransients(data.train, trainStride), everyNth(data.holdout, trainStride), training, callbacks);
    const files = await modelToFiles(m);
    writeCacheEntry(trainDir, { 'model.json': files.modelJson, 'weights.bin': files.weights, 'result.json': JSON.stringify(r) });
    return { model: m, result: r };
  });

  try {
    // 3. evaluate
    const evalHash = sha256(fileHash(options.evalDataPath, 'evaluation data'), fileHash(options.evalLabelsPath, 'evaluation labels'));
    const evalKey = sha256(JSON.stringify({ step: 'evaluate', v: 3, trainKey, budget, evalHash }));
    const evalDir = join(options.cacheDir, 'evaluate', evalKey);
    const evaluated = await timed('evaluate', evalKey, cacheHit(evalDir), () => {
      if (cacheHit(evalDir)) return JSON.parse(readFileSync(join(evalDir, 'result.json'), 'utf8')) as ReturnType<typeof fitAllThresholds> & { report: EvaluationReport | null };
      const thresholds = fitAllThresholds(model, data, budget);
      let report: EvaluationReport | null = null;
      if (options.evalDataPath) {
        if (!options.evalLabelsPath) throw new Error('evaluation data needs its labels file (evalLabelsPath)');
        const frames = readFramesCsv(options.evalDataPath);
        const labels = readLabelsCsv(options.evalLabelsPath);
        const scorable = { ...thresholds, stats: data.stats, params: data.params, scoreWindowsOver: (set: WindowSet, spans: readonly number[]) => reconstructionErrorsOver(model, set, spans) };
        report = evaluateOnFrames(scorable, frames, labels).report;
      }
      const out = { ...thresholds, report };
      writeCacheEntry(evalDir, { 'result.json': JSON.stringify(out) });
      return out;
    });

    // 4. register (always: cheap, and the target may have been removed)
    const description: DetectorDescription = {
      format: 'wind-turbine-detector',
      formatVersion: DETECTOR_FORMAT_VERSION,
      architecture,
      inputName: INPUT_NAME,
      inputShape: [null, 6, 10, 10],
      featureNames: [...data.stats.featureNames],
      statistics: statisticsToJson(data.stats, data.params),
      thresholds: evaluated.thresholds,
      originalThresholds: evaluated.originalThresholds,
      zScoreThresholds: evaluated.zScoreThresholds,
      trainingDataHash: `sha256:${dataHash}`,
      training: {
        backend,
        seed,
        epochs: result.curve.length,
        bestEpoch: result.bestEpoch,
        bestValLoss: result.bestValLoss,
        seconds: result.seconds,
        trainWindows: everyNthWithTransients(data.train, trainStride).count,
        validationWindows: data.holdout.count,
        options: { ...training, holdoutFraction, trainStride, budget },
      },
    };
    const location = await timed('register', 'always', false, async () => {
      const files = await modelToFiles(model);
      return options.registry.register({ model: files, description, metrics: evaluated.report ?? {}, curve: result.curve });
    });
    return { location, description, curve: result.curve, report: evaluated.report, steps };
  } finally {
    model.dispose();
  }
}

/** One log line for a pipeline event (steps and epochs; batches are for progress bars), or null. */
export function formatPipelineEvent(e: PipelineEvent): string | null {
  switch (e.type) {
    case 'step':
      return `${e.step}${e.cached ? ' (cached: inputs unchanged)' : ''} ...`;
    case 'stepDone':
      return `${e.step} done in ${e.seconds.toFixed(1)} s`;
    case 'epoch':
      return `epoch ${e.log.epoch}/${e.maxEpochs}: loss ${e.log.loss.toFixed(4)}, validation loss ${e.log.valLoss.toFixed(4)} (${e.log.seconds.toFixed(1)} s)`;
    default:
      return null;
  }
}
