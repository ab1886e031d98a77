/**
 * The real toolchain behind SageMaker jobs: shared/packaging's tfjs → ONNX compiler for compilation jobs
 * and its Ed25519 packager for edge packaging jobs, run apart as the two jobs are. Loaded on first use, so
 * a cloud that never compiles never loads tfjs or the exporter.
 *
 * compile() writes model.onnx and model.onnx.json (the graph's I/O signature and weight format), which
 * travel in the compiled artifact with detector.json; package() rebuilds the compiled model from those
 * files, so the manifest says exactly what a direct `packageModel` would, and signs it.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { SigningKey } from '../../packaging';
import type { CompileOptions, EdgeToolchain, PackageRequest } from './toolchain';

/** The I/O signature file written beside model.onnx by compile(). */
export const ONNX_SIGNATURE_FILE = 'model.onnx.json';

type Packaging = typeof import('../../packaging');
type CompiledModel = import('../../packaging').CompiledModel;

/** What model.onnx.json holds: the compiled model minus its bytes and the model directory's files. */
interface OnnxSignature {
  inputName: string;
  inputShape: Array<number | null>;
  outputName: string;
  outputShape: Array<number | null>;
  ops: string[];
  weights: CompiledModel['weights'];
}

export interface PackagingToolchainOptions {
  /** Signing key folder (default: the project's, .state/signing under the working directory). */
  keyDir?: string;
  /** A loaded key instead of keyDir. */
  key?: SigningKey;
}

/**
 * shared/packaging, loaded on first use. require(), not import(): under the notebooks' and tests' tsx
 * require hook a dynamic import() bypasses the hook and cannot load .ts files.
 */
function loadPackaging(): Packaging {
  return require('../../packaging') as Packaging;
}

async function readJson(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new Error(`the compiled model has no ${what}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`${what} in the compiled model is not JSON: ${(err as Error).message}`);
  }
}

/** Our ONNX compiler and package signer as an EdgeToolchain. */
export function packagingToolchain(options: PackagingToolchainOptions = {}): EdgeToolchain {
  let key: SigningKey | undefined = options.key;
  return {
    async compile(modelDir: string, outPath: string, compileOptions: CompileOptions): Promise<void> {
      const packaging = loadPackaging();
      // Loading weights needs an initialised backend; in a fresh process none is yet.
      await (require('@tensorflow/tfjs') as typeof import('@tensorflow/tfjs')).ready();
      const compiled = await packaging.compileModelDir(modelDir, {}, compileOptions.weights ?? 'float32');
      const { bytes, ...io } = compiled.onnx;
      const signature: OnnxSignature = { ...io, weights: compiled.weights };
      await writeFile(outPath, bytes);
      await writeFile(join(dirname(outPath), ONNX_SIGNATURE_FILE), JSON.stringify(signature, null, 2) + '\n');
    },

    async package(request: PackageRequest): Promise<{ signature: string }> {
      const packaging = loadPackaging();
      const { statisticsFromJson } = require('../../features/statistics') as typeof import('../../features/statistics');
      const { compiledDir, modelName, modelVersion, outPath, createdAt } = request;
      const bytes = await readFile(join(compiledDir, packaging.MODEL_FILE)).catch(() => {
        throw new Error(`the compiled model has no ${packaging.MODEL_FILE}`);
      });
      const io = (await readJson(join(compiledDir, ONNX_SIGNATURE_FILE), ONNX_SIGNATURE_FILE)) as OnnxSignature;
      const description = (await readJson(join(compiledDir, 'detector.json'), 'detector.json')) as CompiledModel['description'];
      const { params } = statisticsFromJson(description.statistics);
      const compiled: CompiledModel = { onnx: { ...io, bytes }, description, params, weights: io.weights ?? 'float32' };
      key ??= packaging.loadOrCreateSigningKey(options.keyDir);
      const built = packaging.createPackage(packaging.packageContents(compiled, modelName, modelVersion, createdAt), bytes, key);
      await writeFile(outPath, built.bytes);
      const sig = packaging.readTarGz(built.bytes).find((f) => f.name === packaging.SIGNATURE_FILE);
      return { signature: sig ? sig.data.toString('utf8').trim() : '' };
    },
  };
}
