/**
 * The real toolchain behind SageMaker jobs: shared/packaging's tfjs → ONNX exporter for compilation and
 * its Ed25519 signer for edge packaging. Loaded lazily, so a cloud that never compiles never loads tfjs
 * or the exporter.
 *
 * compile() writes model.onnx and model.onnx.json (the graph's I/O signature); package() builds the
 * manifest from them and the detector's description (detector.json) and signs it with the project key.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { SigningKey } from '../../packaging';
import type { EdgeToolchain, PackageRequest } from './toolchain';

/** The I/O signature file written beside model.onnx by compile(). */
export const ONNX_SIGNATURE_FILE = 'model.onnx.json';

/** What model.onnx.json holds. */
interface OnnxSignature {
  inputName: string;
  inputShape: Array<number | null>;
  outputName: string;
  outputShape: Array<number | null>;
  opset: number;
  architecture: string;
}

export interface PackagingToolchainOptions {
  /** Signing key folder (default: the project's, .state/signing under the working directory). */
  keyDir?: string;
  /** A loaded key instead of keyDir. */
  key?: SigningKey;
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

/**
 * shared/packaging, loaded on first use. require(), not import(): under the notebooks' and tests' tsx
 * require hook a dynamic import() bypasses the hook and cannot load .ts files.
 */
function loadPackaging(): typeof import('../../packaging') {
  return require('../../packaging') as typeof import('../../packaging');
}

/** Our ONNX exporter and package signer as an EdgeToolchain. */
export function packagingToolchain(options: PackagingToolchainOptions = {}): EdgeToolchain {
  let key: SigningKey | undefined = options.key;
  return {
    async compile(modelDir: string, outPath: string): Promise<void> {
      const { readModelDir } = require('../../detector/model-dir') as typeof import('../../detector/model-dir');
      const { modelFromFiles } = require('../../detector/model-io') as typeof import('../../detector/model-io');
      const packaging = loadPackaging();
      // Loading weights needs an initialised backend; in a fresh process none is yet.
      await (require('@tensorflow/tfjs') as typeof import('@tensorflow/tfjs')).ready();
      const read = readModelDir(modelDir);
      const model = await modelFromFiles(read.model, 'the model directory');
      let onnx;
      try {
        onnx = packaging.exportToOnnx(model, { inputName: read.description.inputName });
      } finally {
        model.dispose();
      }
      const signature: OnnxSignature = {
        inputName: onnx.inputName,
        inputShape: onnx.inputShape,
        outputName: onnx.outputName,
        outputShape: onnx.outputShape,
        opset: packaging.ONNX_OPSET,
        architecture: read.description.architecture,
      };
      await writeFile(outPath, onnx.bytes);
      await writeFile(join(dirname(outPath), ONNX_SIGNATURE_FILE), JSON.stringify(signature, null, 2) + '\n');
    },

    async package(request: PackageRequest): Promise<{ signature: string }> {
      const packaging = loadPackaging();
      const { statisticsFromJson } = require('../../features/statistics') as typeof import('../../features/statistics');
      const { compiledDir, modelName, modelVersion, outPath, createdAt } = request;
      packaging.validateNameAndVersion(modelName, modelVersion);
      const onnx = await readFile(join(compiledDir, packaging.MODEL_FILE)).catch(() => {
        throw new Error(`the compiled model has no ${packaging.MODEL_FILE}`);
      });
      const io = (await readJson(join(compiledDir, ONNX_SIGNATURE_FILE), ONNX_SIGNATURE_FILE)) as OnnxSignature;
      const description = (await readJson(join(compiledDir, 'detector.json'), 'detector.json')) as {
        featureNames: string[];
        statistics: unknown;
        thresholds: import('../../detector/thresholds').Thresholds;
        trainingDataHash?: string;
        formatVersion?: number;
      };
      const { params } = statisticsFromJson(description.statistics);
      key ??= packaging.loadOrCreateSigningKey(options.keyDir);
      const built = packaging.createPackage(
        {
          name: modelName,
          version: modelVersion,
          createdAt: createdAt.toISOString(),
          model: {
            file: packaging.MODEL_FILE,
            format: 'onnx',
            opset: io.opset,
            inputName: io.inputName,
            inputShape: io.inputShape,
            outputName: io.outputName,
            outputShape: io.outputShape,
            architecture: io.architecture,
          },
          featureNames: description.featureNames,
          statistics: description.statistics as import('../../features/statistics').StatisticsJson,
          thresholds: description.thresholds,
          preprocessing: { ...params },
          source: { trainingDataHash: description.trainingDataHash, detectorFormatVersion: description.formatVersion },
        },
        onnx,
        key,
      );
      await writeFile(outPath, built.bytes);
      const sig = packaging.readTarGz(built.bytes).find((f) => f.name === packaging.SIGNATURE_FILE);
      return { signature: sig ? sig.data.toString('utf8').trim() : '' };
    },
  };
}
