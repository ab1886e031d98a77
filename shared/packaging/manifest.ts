/**
 * manifest.json of a model package: what the model is, what it expects, how to preprocess and score its
 * input, and the sha256 of every other file. `manifest.sig` holds the Ed25519 signature of manifest.json's
 * exact bytes (base64), so the signature covers every file through these hashes.
 */
import type { PreprocessingParams } from '../features/params';
import type { StatisticsJson } from '../features/statistics';
import { validateErrorScale } from '../detector/conditioning';
import type { Thresholds } from '../detector/thresholds';
import { PackageVerificationError } from './errors';
import { isSemver } from './semver';
import { isPlainName } from './tar-archive';

export const PACKAGE_FORMAT = 'wind-turbine-model-package';
/**
 * The version written. 2: thresholds may carry an operating-state scale and a fast-rule threshold, which
 * change what the threshold values mean; an agent that knows only version 1 refuses such a package instead
 * of applying its thresholds to raw errors. Version 1 packages (no scale, no fast rule) still load.
 */
export const PACKAGE_FORMAT_VERSION = 2;
export const SUPPORTED_PACKAGE_FORMAT_VERSIONS: readonly number[] = Object.freeze([1, 2]);
export const MANIFEST_FILE = 'manifest.json';
export const SIGNATURE_FILE = 'manifest.sig';
export const MODEL_FILE = 'model.onnx';
/** Model names: SageMaker's ModelName pattern (1-63 letters, digits, inner hyphens). */
export const MODEL_NAME_PATTERN = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;

/** sha256 (hex) and size of one packaged file. */
export interface FileDigest {
  sha256: string;
  bytes: number;
}

/** The model's I/O signature (batch dimension null). */
export interface ManifestModel {
  file: string;
  format: 'onnx';
  opset: number;
  inputName: string;
  inputShape: Array<number | null>;
  outputName: string;
  outputShape: Array<number | null>;
  /** Autoencoder kind it was exported from ('dense', 'original'). */
  architecture: string;
  /** Kernel storage: 'float32' as trained, or 'int8' (per-channel symmetric, dequantised at load). */
  weights?: 'float32' | 'int8';
}

/** manifest.json. */
export interface PackageManifest {
  format: typeof PACKAGE_FORMAT;
  formatVersion: number;
  name: string;
  /** Semantic version, e.g. "1.2.0". */
  version: string;
  /** ISO-8601 UTC time the package was made. */
  createdAt: string;
  model: ManifestModel;
  /** Window feature order (channel k of the input is featureNames[k]). */
  featureNames: string[];
  /** Normalisation statistics as statistics.json holds them (features, raw_std, mean, std, ...). */
  statistics: StatisticsJson;
  /** Per-feature thresholds on the mean absolute reconstruction error, debouncing, stuck-sensor floor. */
  thresholds: Thresholds;
  /** Preprocessing parameters (wavelet, window length, stride, denoising blocks). */
  preprocessing: PreprocessingParams;
  /** Every file of the package except manifest.json and manifest.sig. */
  files: Record<string, FileDigest>;
  signature: { algorithm: 'Ed25519'; file: typeof SIGNATURE_FILE; publicKeyFingerprint: string };
  /** Where the model came from (informational). */
  source?: { trainingDataHash?: string; detectorFormatVersion?: number };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isShape = (v: unknown): v is Array<number | null> =>
  Array.isArray(v) && v.length > 0 && v.every((d, i) => (d === null && i === 0) || (Number.isInteger(d) && (d as number) > 0));

/** Checks a parsed manifest's structure; throws PackageVerificationError ('bad-manifest', 'bad-version'). */
export function validateManifest(m: unknown): asserts m is PackageManifest {
  const bad = (what: string): never => {
    throw new PackageVerificationError('bad-manifest', `manifest.json: ${what}`);
  };
  if (!isObject(m)) bad('not a JSON object');
  const o = m as Record<string, unknown>;
  if (o.format !== PACKAGE_FORMAT) bad(`format must be "${PACKAGE_FORMAT}", got ${JSON.stringify(o.format)}`);
  if (!SUPPORTED_PACKAGE_FORMAT_VERSIONS.includes(o.formatVersion as number)) {
    bad(`formatVersion ${JSON.stringify(o.formatVersion)} is not supported (this agent reads ${SUPPORTED_PACKAGE_FORMAT_VERSIONS.join(', ')})`);
  }
  if (typeof o.name !== 'string' || !MODEL_NAME_PATTERN.test(o.name)) bad(`name ${JSON.stringify(o.name)} is not a model name (letters, digits, inner hyphens, up to 63)`);
  if (!isSemver(o.version)) throw new PackageVerificationError('bad-version', `manifest.json: version ${JSON.stringify(o.version)} is not a semantic version (MAJOR.MINOR.PATCH)`);
  if (typeof o.createdAt !== 'string' || Number.isNaN(Date.parse(o.createdAt))) bad('createdAt is not a date');
  const model = o.model;
  if (!isObject(model)) bad('model is missing');
  const mm = model as Record<string, unknown>;
  if (typeof mm.file !== 'string' || !isPlainName(mm.file)) bad('model.file must be a plain file name');
  if (mm.format !== 'onnx') bad('model.format must be "onnx"');
  if (typeof mm.inputName !== 'string' || mm.inputName === '') bad('model.inputName is missing');
  if (typeof mm.outputName !== 'string' || mm.outputName === '') bad('model.outputName is missing');
  if (mm.weights !== undefined && mm.weights !== 'float32' && mm.weights !== 'int8') bad('model.weights must be "float32" or "int8"');
  if (!isShape(mm.inputShape)) bad('model.inputShape must list positive integers (the first may be null)');
  if (!isShape(mm.outputShape)) bad('model.outputShape must list positive integers (the first may be null)');
  if (!Array.isArray(o.featureNames) || o.featureNames.length === 0 || !o.featureNames.every((f) => typeof f === 'string')) bad('featureNames must list strings');
  if (!isObject(o.statistics)) bad('statistics are missing');
  if (!isObject(o.thresholds) || !Array.isArray((o.thresholds as Record<string, unknown>).values)) bad('thresholds are missing');
  const t = o.thresholds as Record<string, unknown>;
  if (o.formatVersion === 1 && (t.scale !== undefined || t.fast !== undefined)) bad('thresholds.scale and thresholds.fast need formatVersion 2');
  if (t.scale !== undefined) {
    try {
      validateErrorScale(t.scale, (o.featureNames as string[]).length, 'thresholds');
    } catch (err) {
      bad((err as Error).message);
    }
  }
  if (t.fast !== undefined && !(typeof t.fast === 'number' && Number.isFinite(t.fast) && t.fast > 1)) bad('thresholds.fast must be a number over 1');
  if (!isObject(o.preprocessing)) bad('preprocessing parameters are missing');
  if (!isObject(o.files)) bad('files is missing');
  for (const [name, d] of Object.entries(o.files as Record<string, unknown>)) {
    if (!isPlainName(name) || name === MANIFEST_FILE || name === SIGNATURE_FILE) bad(`files lists "${name}", which cannot be a packaged file`);
    if (!isObject(d) || typeof d.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(d.sha256) || !Number.isInteger(d.bytes)) bad(`files["${name}"] needs a hex sha256 and a byte count`);
  }
  if (!Object.hasOwn(o.files as object, mm.file as string)) bad(`files does not list the model file "${mm.file}"`);
  const sig = o.signature;
  if (!isObject(sig) || sig.algorithm !== 'Ed25519' || sig.file !== SIGNATURE_FILE || typeof sig.publicKeyFingerprint !== 'string') {
    bad(`signature must be { algorithm: "Ed25519", file: "${SIGNATURE_FILE}", publicKeyFingerprint }`);
  }
}
