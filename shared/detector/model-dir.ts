/**
 * The model directory: everything a scorer needs, written atomically and verified on load.
 *
 *   model.json, weights.bin   the autoencoder (tfjs layers-model format)
 *   detector.json             architecture, input name/shape, feature names, normalisation statistics and
 *                             preprocessing parameters (statistics.json layout), thresholds (default and
 *                             the original rule), training data hash, training summary
 *   metrics.json              evaluation results (the `npm run evaluate` JSON), or {} if none were run
 *   learning-curve.json       loss and validation loss per epoch
 *   manifest.json             sha256 and size of every file above
 *
 * Writing goes to a sibling temporary directory that is renamed into place only when complete, so a
 * crash never leaves a half model under the target name; loading checks every file against the manifest.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { PreprocessingParams } from '../features/params';
import { type FeatureStatistics, statisticsFromJson, type StatisticsJson, statisticsToJson } from '../features/statistics';
import { type Architecture, INPUT_NAME, isArchitecture } from './models';
import type { FalseAlarmCalibration } from './calibration';
import { validateErrorScale } from './conditioning';
import type { Thresholds } from './thresholds';
import type { EpochLog } from './training';
import type { ModelFiles } from './model-io';

export const DETECTOR_FORMAT = 'wind-turbine-detector';
/** The version written; 2 added thresholds.scale and thresholds.fast (see packaging's format version). */
export const DETECTOR_FORMAT_VERSION = 2;
export const SUPPORTED_DETECTOR_FORMAT_VERSIONS: readonly number[] = Object.freeze([1, 2]);
/** Every file of a model directory, the manifest last. */
export const MODEL_DIR_FILES = ['model.json', 'weights.bin', 'detector.json', 'metrics.json', 'learning-curve.json', 'manifest.json'] as const;

/** detector.json. */
export interface DetectorDescription {
  format: typeof DETECTOR_FORMAT;
  formatVersion: number;
  architecture: Architecture;
  inputName: string;
  /** (null, 6, 10, 10): NCHW windows. */
  inputShape: [null, number, number, number];
  featureNames: string[];
  statistics: StatisticsJson;
  thresholds: Thresholds;
  originalThresholds: Thresholds;
  /** The per-feature z-score baseline's thresholds (fitted like `thresholds`), for comparison. */
  zScoreThresholds: Thresholds;
  /** sha256 of the training data file(s) and labels the model was trained on. */
  trainingDataHash: string;
  training: {
    backend: string;
    seed: number;
    epochs: number;
    bestEpoch: number;
    bestValLoss: number;
    seconds: number;
    trainWindows: number;
    validationWindows: number;
    options: Record<string, unknown>;
    /**
     * How the thresholds were fitted for a false-alarm rate (calibration.ts). Informational, like the rest
     * of `training`: nothing that scores reads it (the calibrated values are in `thresholds`), so older
     * directories without it and older readers that ignore it score the same; no format version change.
     */
    falseAlarm?: FalseAlarmCalibration;
  };
}

/** detector.json's `training` record of one run: backend, seed, the result's epochs, loss and time, window counts and options. */
export function trainingRecord(
  run: { backend: string; seed: number; trainWindows: number; validationWindows: number; options: Record<string, unknown> },
  result: { curve: readonly unknown[]; bestEpoch: number; bestValLoss: number; seconds: number },
): DetectorDescription['training'] {
  return {
    backend: run.backend,
    seed: run.seed,
    epochs: result.curve.length,
    bestEpoch: result.bestEpoch,
    bestValLoss: result.bestValLoss,
    seconds: result.seconds,
    trainWindows: run.trainWindows,
    validationWindows: run.validationWindows,
    options: run.options,
  };
}

/** The part of detector.json that says what the model reads: format, architecture, input and the normalisation statistics. */
export function detectorInputDescription(architecture: Architecture, stats: FeatureStatistics, params: PreprocessingParams): Pick<DetectorDescription, 'format' | 'formatVersion' | 'architecture' | 'inputName' | 'inputShape' | 'featureNames' | 'statistics'> {
  return {
    format: DETECTOR_FORMAT,
    formatVersion: DETECTOR_FORMAT_VERSION,
    architecture,
    inputName: INPUT_NAME,
    inputShape: [null, 6, 10, 10],
    featureNames: [...stats.featureNames],
    statistics: statisticsToJson(stats, params),
  };
}

/** What goes into a model directory. */
export interface ModelDirContents {
  model: ModelFiles;
  description: DetectorDescription;
  metrics: unknown;
  curve: EpochLog[];
}

function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Builds the description's statistics part from fitted statistics and parameters. */
export function describeStatistics(stats: FeatureStatistics, params: PreprocessingParams): StatisticsJson {
  return statisticsToJson(stats, params);
}

/** Writes a model directory atomically (temp dir + rename); replaces an existing one only when complete. */
export function writeModelDir(dir: string, contents: ModelDirContents): void {
  const target = resolve(dir);
  mkdirSync(dirname(target), { recursive: true });
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const tmp = join(dirname(target), `.${basename(target)}.partial-${tag}`);
  try {
    const files: Record<string, string | Buffer> = {
      'model.json': contents.model.modelJson,
      'weights.bin': contents.model.weights,
      'detector.json': JSON.stringify(contents.description, null, 2) + '\n',
      'metrics.json': JSON.stringify(contents.metrics ?? {}, null, 2) + '\n',
      'learning-curve.json': JSON.stringify(contents.curve, null, 2) + '\n',
    };
    const manifest = {
      format: DETECTOR_FORMAT,
      files: Object.fromEntries(Object.entries(files).map(([name, data]) => [name, { sha256: sha256(data), bytes: Buffer.byteLength(data) }])),
    };
    files['manifest.json'] = JSON.stringify(manifest, null, 2) + '\n';
    mkdirSync(tmp);
    for (const [name, data] of Object.entries(files)) writeFileSync(join(tmp, name), data);
    if (existsSync(target)) {
      const old = join(dirname(target), `.${basename(target)}.previous-${tag}`);
      renameSync(target, old);
      renameSync(tmp, target);
      rmSync(old, { recursive: true, force: true });
    } else {
      renameSync(tmp, target);
    }
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw new Error(`cannot write model directory ${dir}: ${(err as Error).message}`);
  }
}

/** A model directory's verified contents. */
export interface ModelDirRead {
  model: ModelFiles;
  description: DetectorDescription;
  stats: FeatureStatistics;
  params: PreprocessingParams;
  metrics: unknown;
  curve: EpochLog[];
}

/** Reads and verifies every file of a model directory; throws naming the directory, file and problem. */
export function readModelDir(dir: string): ModelDirRead {
  const where = `model directory ${dir}`;
  if (!existsSync(dir)) throw new Error(`${where} does not exist`);
  const raw: Record<string, Buffer> = {};
  for (const name of MODEL_DIR_FILES) {
    const path = join(dir, name);
    if (!existsSync(path)) throw new Error(`${where}: missing ${name} (expected ${MODEL_DIR_FILES.join(', ')}; retrain or copy the whole directory)`);
    raw[name] = readFileSync(path);
  }
  const manifest = parseJson(raw['manifest.json'], `${where}/manifest.json`) as { format?: string; files?: Record<string, { sha256?: string; bytes?: number }> };
  if (manifest.format !== DETECTOR_FORMAT || typeof manifest.files !== 'object' || manifest.files === null) {
    throw new Error(`${where}/manifest.json is not a ${DETECTOR_FORMAT} manifest`);
  }
  for (const name of MODEL_DIR_FILES) {
    if (name === 'manifest.json') continue;
    const entry = manifest.files[name];
    if (!entry || typeof entry.sha256 !== 'string') throw new Error(`${where}/manifest.json lists no sha256 for ${name}`);
    if (sha256(raw[name]) !== entry.sha256) throw new Error(`${where}/${name} does not match its sha256 in manifest.json (corrupted or edited)`);
  }
  const description = parseJson(raw['detector.json'], `${where}/detector.json`) as DetectorDescription;
  validateDescription(description, `${where}/detector.json`);
  let stats: FeatureStatistics;
  let params: PreprocessingParams;
  try {
    ({ stats, params } = statisticsFromJson(description.statistics));
  } catch (err) {
    throw new Error(`${where}/detector.json statistics: ${(err as Error).message}`);
  }
  return {
    model: { modelJson: raw['model.json'].toString('utf8'), weights: raw['weights.bin'] },
    description,
    stats,
    params,
    metrics: parseJson(raw['metrics.json'], `${where}/metrics.json`),
    curve: parseJson(raw['learning-curve.json'], `${where}/learning-curve.json`) as EpochLog[],
  };
}

function parseJson(data: Buffer, where: string): unknown {
  try {
    return JSON.parse(data.toString('utf8'));
  } catch (err) {
    throw new Error(`${where} is not valid JSON (${(err as Error).message})`);
  }
}

function validateThresholds(t: Thresholds | undefined, features: number, where: string): void {
  if (!t || !Array.isArray(t.values) || t.values.length !== features || !t.values.every((v) => Number.isFinite(v) && v > 0)) {
    throw new Error(`${where}: thresholds must hold ${features} positive numbers`);
  }
  if (!Number.isInteger(t.debounceWindows) || t.debounceWindows < 1) throw new Error(`${where}: thresholds.debounceWindows must be a positive integer`);
  if (!Number.isInteger(t.errorSteps) || t.errorSteps < 1 || t.errorSteps > 100) throw new Error(`${where}: thresholds.errorSteps must be an integer from 1 to 100`);
  if (t.recent !== undefined) {
    const r = t.recent;
    if (typeof r !== 'object' || r === null || !Array.isArray(r.values) || r.values.length !== features || !r.values.every((v) => Number.isFinite(v) && v > 0)) {
      throw new Error(`${where}: thresholds.recent.values must hold ${features} positive numbers`);
    }
    if (!Number.isInteger(r.errorSteps) || r.errorSteps < 1 || r.errorSteps > 100) throw new Error(`${where}: thresholds.recent.errorSteps must be an integer from 1 to 100`);
  }
  if (t.scale !== undefined) validateErrorScale(t.scale, features, where);
  if (t.fast !== undefined && !(Number.isFinite(t.fast) && t.fast > 1)) throw new Error(`${where}: thresholds.fast must be a number over 1`);
  if (t.flatline !== undefined && (!Array.isArray(t.flatline) || t.flatline.length !== features || !t.flatline.every((v) => Number.isFinite(v) && v >= 0))) {
    throw new Error(`${where}: thresholds.flatline must hold ${features} non-negative numbers`);
  }
}

function validateDescription(d: DetectorDescription, where: string): void {
  if (typeof d !== 'object' || d === null || d.format !== DETECTOR_FORMAT) throw new Error(`${where}: not a ${DETECTOR_FORMAT} description`);
  if (!SUPPORTED_DETECTOR_FORMAT_VERSIONS.includes(d.formatVersion)) {
    throw new Error(`${where}: format version ${d.formatVersion} is not supported (this version reads ${SUPPORTED_DETECTOR_FORMAT_VERSIONS.join(', ')})`);
  }
  if (d.formatVersion === 1 && (d.thresholds?.scale !== undefined || d.thresholds?.fast !== undefined)) throw new Error(`${where}: thresholds.scale and thresholds.fast need format version 2`);
  if (!isArchitecture(String(d.architecture))) throw new Error(`${where}: unknown architecture "${d.architecture}"`);
  if (!Array.isArray(d.featureNames) || d.featureNames.length === 0) throw new Error(`${where}: featureNames missing`);
  validateThresholds(d.thresholds, d.featureNames.length, `${where} thresholds`);
  validateThresholds(d.originalThresholds, d.featureNames.length, `${where} originalThresholds`);
  validateThresholds(d.zScoreThresholds, d.featureNames.length, `${where} zScoreThresholds`);
}
