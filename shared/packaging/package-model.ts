/**
 * Makes a signed model package from a trained model directory: exports the tfjs model to ONNX, writes
 * manifest.json (name, version, I/O signature, feature names, statistics, thresholds, preprocessing,
 * sha256 of every file), signs it with the project's Ed25519 key, and writes a deterministic tar.gz
 * (same inputs and createdAt -> same bytes).
 */
import { createHash, sign } from 'node:crypto';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { type DetectorDescription, readModelDir } from '../detector/model-dir';
import type { PreprocessingParams } from '../features/params';
import { modelFromFiles } from '../detector/model-io';
import { MANIFEST_FILE, MODEL_FILE, MODEL_NAME_PATTERN, PACKAGE_FORMAT, PACKAGE_FORMAT_VERSION, type PackageManifest, SIGNATURE_FILE } from './manifest';
import { exportToOnnx, type OnnxExport } from './onnx/export';
import { ONNX_OPSET } from './onnx/onnx-proto';
import { isSemver } from './semver';
import { loadOrCreateSigningKey, type SigningKey } from './signing-key';
import { writeTarGz } from './tar-archive';

/** Manifest fields the caller supplies; format, files and signature are filled in by `createPackage`. */
export type PackageContents = Omit<PackageManifest, 'format' | 'formatVersion' | 'files' | 'signature'>;

/** A package in memory. */
export interface BuiltPackage {
  /** The tar.gz bytes. */
  bytes: Buffer;
  manifest: PackageManifest;
  /** sha256 (hex) of the tar.gz, e.g. for a job document. */
  sha256: string;
}

const sha256 = (data: Buffer | Uint8Array) => createHash('sha256').update(data).digest('hex');

/** Checks a model name and semantic version, naming the bad one. */
export function validateNameAndVersion(name: string, version: string): void {
  if (!MODEL_NAME_PATTERN.test(name)) throw new Error(`model name "${name}" is not valid: use 1-63 letters, digits and inner hyphens`);
  if (!isSemver(version)) throw new Error(`version "${version}" is not a semantic version: use MAJOR.MINOR.PATCH, e.g. 1.0.0`);
}

/** Builds and signs a package from ONNX bytes and manifest fields (files: model.onnx plus `extraFiles`). */
export function createPackage(contents: PackageContents, onnx: Uint8Array, key: Pick<SigningKey, 'privateKey' | 'fingerprint'>, extraFiles: Record<string, Buffer> = {}): BuiltPackage {
  validateNameAndVersion(contents.name, contents.version);
  const files: Record<string, Buffer> = { [MODEL_FILE]: Buffer.from(onnx), ...extraFiles };
  const manifest: PackageManifest = {
    format: PACKAGE_FORMAT,
    formatVersion: PACKAGE_FORMAT_VERSION,
    ...contents,
    model: { ...contents.model, file: MODEL_FILE },
    files: Object.fromEntries(Object.entries(files).map(([name, data]) => [name, { sha256: sha256(data), bytes: data.length }])),
    signature: { algorithm: 'Ed25519', file: SIGNATURE_FILE, publicKeyFingerprint: key.fingerprint },
  };
  const manifestBytes = Buffer.from(JSON.stringify(manifest, null, 2) + '\n');
  const signature = Buffer.from(sign(null, manifestBytes, key.privateKey).toString('base64') + '\n');
  const bytes = writeTarGz(
    [
      { name: MANIFEST_FILE, data: manifestBytes },
      { name: SIGNATURE_FILE, data: signature },
      ...Object.keys(files)
        .sort()
        .map((name) => ({ name, data: files[name] })),
    ],
    new Date(contents.createdAt),
  );
  return { bytes, manifest, sha256: sha256(bytes) };
}

export interface PackageModelOptions {
  /** A model directory written by the detector (`npm run train`). */
  modelDir: string;
  name: string;
  /** Semantic version, e.g. "1.0.0". */
  version: string;
  /** Where to write the tar.gz (written atomically); omit to only return the bytes. */
  out?: string;
  /** Key folder (default .state/signing), used when `key` is not given. */
  keyDir?: string;
  key?: SigningKey;
  /** Creation time recorded in the manifest and as tar mtimes; default now. Fix it for identical bytes. */
  createdAt?: Date;
  /** 'int8' packages the smaller weight-quantised model (see exportToOnnx); default 'float32'. */
  weights?: 'float32' | 'int8';
}

/** A model directory compiled to ONNX, with what the manifest needs from the directory. */
export interface CompiledModel {
  onnx: OnnxExport;
  weights: 'float32' | 'int8';
  description: DetectorDescription;
  params: PreprocessingParams;
}

/** Reads (and verifies) a model directory and exports its model to ONNX. Needs a tfjs backend set. */
export async function compileModelDir(modelDir: string, metadata: Record<string, string> = {}, weights: 'float32' | 'int8' = 'float32'): Promise<CompiledModel> {
  const read = readModelDir(modelDir);
  const model = await modelFromFiles(read.model, `model directory ${modelDir}`);
  try {
    return { onnx: exportToOnnx(model, { inputName: read.description.inputName, metadata, weights }), description: read.description, params: read.params, weights };
  } finally {
    model.dispose();
  }
}

/** The manifest fields of a compiled model under a name and version. */
export function packageContents(compiled: CompiledModel, name: string, version: string, createdAt: Date = new Date()): PackageContents {
  const { onnx, description: d } = compiled;
  return {
    name,
    version,
    createdAt: createdAt.toISOString(),
    model: {
      file: MODEL_FILE,
      format: 'onnx',
      opset: ONNX_OPSET,
      inputName: onnx.inputName,
      inputShape: onnx.inputShape,
      outputName: onnx.outputName,
      outputShape: onnx.outputShape,
      architecture: d.architecture,
      weights: compiled.weights,
    },
    featureNames: d.featureNames,
    statistics: d.statistics,
    thresholds: d.thresholds,
    preprocessing: { ...compiled.params },
    source: { trainingDataHash: d.trainingDataHash, detectorFormatVersion: d.formatVersion },
  };
}

/** Exports, packages and signs a model directory; writes `out` if given. Needs a tfjs backend set. */
export async function packageModel(options: PackageModelOptions): Promise<BuiltPackage & { out?: string }> {
  validateNameAndVersion(options.name, options.version);
  const compiled = await compileModelDir(options.modelDir, { name: options.name, version: options.version }, options.weights);
  const key = options.key ?? loadOrCreateSigningKey(options.keyDir);
  const built = createPackage(packageContents(compiled, options.name, options.version, options.createdAt), compiled.onnx.bytes, key);
  if (!options.out) return built;
  const out = resolve(options.out);
  mkdirSync(dirname(out), { recursive: true });
  const tmp = `${out}.${process.pid}.partial`;
  try {
    writeFileSync(tmp, built.bytes);
    renameSync(tmp, out);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw new Error(`cannot write package ${options.out}: ${(err as Error).message}`);
  }
  return { ...built, out };
}
